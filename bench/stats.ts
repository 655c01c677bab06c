/** Figures over several runs: the median decides, the range (min-max) shows how much runs differ. */

export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function round(value: number, digits = 2): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export function spread(values: readonly number[], digits = 2): Spread {
  return {
    median: round(median(values), digits),
    min: round(Math.min(...values), digits),
    max: round(Math.max(...values), digits),
  };
}

/** `0.61 (0.55-0.70)`: the median, then the range when there was more than one run. */
export function formatSpread(s: Spread, unit = '', locale = false): string {
  const f = (n: number): string => (locale ? n.toLocaleString('en-US') : String(n));
  const range = s.min === s.max ? '' : ` (${f(s.min)}–${f(s.max)})`;
  return `${f(s.median)}${unit}${range}`;
}
