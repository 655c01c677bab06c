/**
 * Every file, or region of a file, generated from the code that defines what it lists. `npm run docs`
 * rewrites them; test/unit/generated-files.test.ts fails, naming the file, while one is out of date.
 */
import path from 'node:path';
import { eventCatalogTable, subscriberEventTypesFile } from './catalog-files.ts';
import { withRegions } from './markdown.ts';
import { REPO_ROOT, withGeneratedTables } from './reference-tables.ts';
import { withResourceTable } from './resource-table.ts';
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
  { path: 'packages/subscriber/src/event-types.ts', generate: () => subscriberEventTypesFile() },
  {
    path: 'docs/protocol.md',
    generate: (document) => withRegions(document, { 'event-catalog': eventCatalogTable }, 'docs/protocol.md'),
  },
  { path: 'docs/deploy.md', generate: withResourceTable },
];

export const absolute = (file: GeneratedFile): string => path.join(REPO_ROOT, file.path);
