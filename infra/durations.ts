/**
 * Go duration strings (`90s`, `5m`, `1m30s`), the format `@pulumiverse/time`'s Sleep takes
 * (https://www.pulumi.com/registry/packages/time/api-docs/sleep/, which refers to
 * https://pkg.go.dev/time#ParseDuration). Parsed here so that a bad value fails at `pulumi preview`
 * with a config error, not half-way through `pulumi up` in the provider.
 */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const TERM = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds in an unsigned Go duration string; undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  let total = 0;
  TERM.lastIndex = 0;
  while (TERM.lastIndex < text.length) {
    const start = TERM.lastIndex;
    const match = TERM.exec(text);
    if (match === null || match.index !== start) return undefined;
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  return total;
}
