/**
 * docs/development.md's project layout lists every file and folder of the folders it details, so a
 * new file is described where a new contributor looks first.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const DETAILED = ['functions', 'infra', 'packages/subscriber/src', 'scripts'];

/** The layout block: for each top-level folder, the names its indented lines start with, and all they mention. */
function layout(): Map<string, { entries: Set<string>; mentioned: Set<string> }> {
  const document = readFileSync(path.join(ROOT, 'docs', 'development.md'), 'utf8');
  const section = document.slice(document.indexOf('## Project layout'));
  const block = /```\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  const listed = new Map<string, { entries: Set<string>; mentioned: Set<string> }>();
  let folder = '';
  for (const line of block.split('\n')) {
    if (/^\S/.test(line)) {
      folder = line.split(/\s+/)[0]!.replace(/\/$/, '');
      listed.set(folder, { entries: new Set(), mentioned: new Set() });
    } else if (line.trim() !== '') {
      listed.get(folder)?.entries.add(line.trim().split(/\s+/)[0]!);
      for (const name of line.match(/[\w.-]+(?:\.(?:ts|cjs|js)|\/)/g) ?? []) listed.get(folder)?.mentioned.add(name);
    }
  }
  return listed;
}

describe('docs/development.md project layout', () => {
  const listed = layout();
  for (const folder of DETAILED) {
    it(`lists every file and folder of ${folder}/, and nothing that is not there`, () => {
      const layoutOf = listed.get(folder);
      assert.ok(layoutOf, `${folder}/ has a line of its own`);
      const present = readdirSync(path.join(ROOT, folder), { withFileTypes: true }).map((entry) =>
        entry.isDirectory() ? `${entry.name}/` : entry.name,
      );
      assert.deepEqual(
        present.filter((name) => !layoutOf.mentioned.has(name)),
        [],
        `describe them under ${folder}/ in docs/development.md`,
      );
      assert.deepEqual(
        [...layoutOf.entries].filter((name) => !present.includes(name)),
        [],
        `docs/development.md lists them under ${folder}/, which has no such entry`,
      );
    });
  }
});
