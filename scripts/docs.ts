/**
 * `npm run docs`: regenerates every generated file and region (scripts/lib/generated-files.ts) from
 * the code that defines what it lists: the setting table, the event catalog, the receiver's config.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { absolute, GENERATED_FILES } from './lib/generated-files.ts';

for (const file of GENERATED_FILES) {
  const before = existsSync(absolute(file)) ? readFileSync(absolute(file), 'utf8') : '';
  const after = file.generate(before);
  if (after === before) {
    process.stdout.write(`${file.path} is up to date.\n`);
  } else {
    writeFileSync(absolute(file), after);
    process.stdout.write(`${file.path}: regenerated.\n`);
  }
}
