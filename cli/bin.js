#!/usr/bin/env node
// The `gemini-webhooks` executable: plain JavaScript, so that any Node version can load it and a
// Node too old for this package gets one line saying so (scripts/check-node.cjs) rather than a
// module loader stack trace.
//
// A checkout has the TypeScript sources, and Node 22.18+ runs them directly (type stripping). The
// published package ships only the compiled build (package.json "files": dist/), because Node does
// not strip types under node_modules. So: the sources when they are there, else the build.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import nodeGuard from '../scripts/check-node.cjs';

nodeGuard.checkNodeVersion();

const sources = new URL('./main.ts', import.meta.url);
const build = new URL('../dist/cli/main.js', import.meta.url);
const entry = existsSync(fileURLToPath(sources)) ? sources : build;
if (entry === build && !existsSync(fileURLToPath(build))) {
  process.stderr.write(
    `gemini-webhooks: this installation has neither cli/main.ts nor the compiled ${fileURLToPath(build)}; ` +
      'reinstall the package (or run `npm run build` in a checkout).\n',
  );
  process.exit(1);
}
import(entry.href).then((cli) => cli.main());
