/**
 * Bounded looks at JSON a sender controls. V8's JSON.parse does not recurse, but JSON.stringify and
 * util.isDeepStrictEqual do: a body nested a few thousand levels deep (9 KiB of brackets) overflows
 * the stack in them. So whatever would walk attacker-shaped JSON with one of those first asks
 * `nestsDeeperThan`, and the duplicate-key scan here walks the text with its own stack.
 */

import { isRawJson } from './json-numbers.ts';

/**
 * True when `value` nests arrays or objects more than `maxDepth` levels deep. Never recurses. A
 * number kept as written (json-numbers.ts) is a leaf, as the number it stands for.
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object' || isRawJson(current)) continue;
    if (depth + 1 > maxDepth) return true;
    for (const child of Object.values(current)) {
      if (child !== null && typeof child === 'object') pending.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * The first key that appears twice in one object of `json`, or undefined. `json` must be text that
 * JSON.parse accepted. JSON.parse keeps the last of two equal keys while other parsers keep the
 * first, so a body with a repeated key means different things to different readers. Linear in the
 * length of the text; keys are compared after unescaping (`"t\u0079pe"` is `"type"`).
 */
export function findDuplicateKey(json: string): string | undefined {
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let expectingKey = false;
  for (let i = 0; i < json.length; i++) {
    switch (json[i]) {
      case '{':
        open.push(new Set());
        expectingKey = true;
        break;
      case '[':
        open.push(null);
        expectingKey = false;
        break;
      case '}':
      case ']':
        open.pop();
        expectingKey = false;
        break;
      case ',':
        expectingKey = open.at(-1) instanceof Set;
        break;
      case '"': {
        let end = i + 1;
        while (end < json.length && json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
        if (end >= json.length) return undefined; // not JSON after all: nothing to compare
        const keys = open.at(-1);
        if (expectingKey && keys instanceof Set) {
          const key = JSON.parse(json.slice(i, end + 1)) as string;
          if (keys.has(key)) return key;
          keys.add(key);
          expectingKey = false;
        }
        i = end;
        break;
      }
    }
  }
  return undefined;
}
