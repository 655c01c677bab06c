/**
 * Every file, or region of a file, generated from the code that defines what it lists. `npm run docs`
 * rewrites them; test/unit/generated-files.test.ts fails, naming the file, while one is out of date.
 */
import path from 'node:path';
import { REPO_ROOT, withGeneratedTables } from './reference-tables.ts';
import { argsFile, withConfigBlock } from './setting-files.ts';

export interface GeneratedFile {
  /** Path from the repository root. */
  path: string;
  /** What the file must hold, given what it holds now (generated regions keep the text around them). */
  generate(current: string): string;
}

export const GENERATED_FILES: readonly GeneratedFile[] = [
  { path: 'infra/args.ts', generate: () => argsFile() },
  { path: 'Pulumi.yaml', generate: withConfigBlock },
  { path: 'docs/configuration.md', generate: withGeneratedTables },
];

export const absolute = (file: GeneratedFile): string => path.join(REPO_ROOT, file.path);
