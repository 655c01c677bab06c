/**
 * Misspelled arguments. TypeScript refuses an argument a component does not take, but a program in
 * JavaScript (or one that builds its arguments from JSON) passes it silently, and the setting it meant
 * keeps its default: `alertEmail` instead of `alertEmails` deploys with no alerts at all. So each
 * component refuses an argument it does not know, naming the closest one it does.
 */

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** One sentence about the first argument in `args` that is not in `known`, or undefined. */
export function unknownArgumentProblem(args: object, known: readonly string[]): string | undefined {
  for (const name of Object.keys(args)) {
    if (known.includes(name)) continue;
    const closest = [...known].sort((a, b) => distance(name, a) - distance(name, b))[0];
    const hint =
      closest !== undefined && distance(name, closest) <= Math.max(2, Math.floor(name.length / 4))
        ? `did you mean \`${closest}\`?`
        : `it takes ${known.map((k) => `\`${k}\``).join(', ')}`;
    return `unknown argument \`${name}\` (${hint})`;
  }
  return undefined;
}
