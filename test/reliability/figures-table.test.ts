/**
 * The figures table in test/reliability/README.md is what `npm run figures:record` writes: recording
 * the committed figures.json again changes nothing, and the written README passes `npm run lint`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import * as prettier from 'prettier';
import { FIGURES_FILE, withFiguresTable } from './figures.ts';

const README = join(import.meta.dirname, 'README.md');

describe('the reliability figures table', () => {
  const readme = readFileSync(README, 'utf8');
  const recorded = JSON.parse(readFileSync(FIGURES_FILE, 'utf8')) as Parameters<typeof withFiguresTable>[1];

  it('matches figures.json (run `npm run figures:record` after a full run)', () => {
    assert.equal(withFiguresTable(readme, recorded), readme);
  });

  it('is written in Prettier style, so recording never breaks lint', async () => {
    const written = withFiguresTable(readme, { ...recorded, deliveriesSent: recorded.deliveriesSent + 1 });
    const options = await prettier.resolveConfig(README);
    assert.ok(await prettier.check(written, { ...options, filepath: README }), 'the recorded README is not formatted');
  });
});
