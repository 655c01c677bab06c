/**
 * JSON numbers as their source text. `JSON.parse` turns every number into a double, so
 * `1234567890123456789` reads as `...800` and `1.0` as `1`: two bodies that other parsers read
 * differently compare equal, and a value re-serialised for an attribute is not the value sent.
 * Here each number is kept as written (`JSON.rawJSON`, which `JSON.stringify` writes back
 * verbatim), using the parser's own source text (`context.source` of a reviver; TC39
 * "JSON.parse source text access", https://github.com/tc39/proposal-json-parse-with-source,
 * shipped in V8 11.4 and so in Node 21 and later).
 *
 * A reviver makes V8 walk the result recursively: callers check the depth of a plain parse first
 * (json-limits.ts `nestsDeeperThan`), or a deep body overflows the stack here.
 */

/**
 * The deepest document parsed with a reviver here: V8 overflows its stack somewhere below 5,000
 * levels, and no event nests more than a few.
 */
export const MAX_EXACT_PARSE_DEPTH = 256;

/** What `JSON.rawJSON` returns: a frozen null-prototype object `JSON.stringify` writes as `rawJSON`. */
export interface RawJson {
  readonly rawJSON: string;
}

interface JsonWithSource {
  parse(text: string, reviver: (key: string, value: unknown, context: { source?: string }) => unknown): unknown;
  rawJSON(text: string): RawJson;
  isRawJSON(value: unknown): value is RawJson;
}

const sourceJson = JSON as unknown as JsonWithSource;

/** True for a number kept as written: a leaf, however it is represented. */
export function isRawJson(value: unknown): value is RawJson {
  return sourceJson.isRawJSON(value);
}

/**
 * One spelling per decimal value: `1`, `1.0`, `10e-1` and `0.1e1` all become `1e0`;
 * `1234567890123456789` and `1234567890123456700` stay apart. Exact, whatever the magnitude.
 */
export function exactDecimal(source: string): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(source);
  if (!match) return source; // not a JSON number: compared as written
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  let digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  let power = BigInt(exponent) - BigInt(fraction.length);
  const trimmed = digits.replace(/0+$/, '');
  power += BigInt(digits.length - trimmed.length);
  digits = trimmed;
  return `${sign}${digits}e${power}`;
}

/**
 * `text` parsed with every number as a RawJson of `spell(source)`: the source text itself by
 * default. Throws as JSON.parse does.
 */
export function parseKeepingNumbers(text: string, spell: (source: string) => string = (source) => source): unknown {
  return sourceJson.parse(text, (_key, value, context) =>
    typeof value === 'number' && context.source !== undefined ? sourceJson.rawJSON(spell(context.source)) : value,
  );
}

/** True when `value` holds a number anywhere. Never recurses. */
export function containsNumber(value: unknown): boolean {
  const pending: unknown[] = [value];
  while (pending.length > 0) {
    const current = pending.pop();
    if (typeof current === 'number') return true;
    if (current !== null && typeof current === 'object')
      for (const child of Object.values(current)) pending.push(child);
  }
  return false;
}
