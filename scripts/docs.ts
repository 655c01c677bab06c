/**
 * `npm run docs`: regenerates the reference tables of docs/configuration.md from the code that
 * defines them (scripts/lib/reference-tables.ts).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { CONFIGURATION_DOC, withGeneratedTables } from './lib/reference-tables.ts';

const before = readFileSync(CONFIGURATION_DOC, 'utf8');
const after = withGeneratedTables(before);
if (after === before) {
  process.stdout.write('docs/configuration.md is up to date.\n');
} else {
  writeFileSync(CONFIGURATION_DOC, after);
  process.stdout.write('docs/configuration.md: reference tables regenerated.\n');
}
