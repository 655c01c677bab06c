#!/usr/bin/env node
// The `gemini-webhooks` executable. In this repository Node 22.18+ runs the TypeScript sources
// directly (type stripping). Node refuses to strip types under node_modules, so an installed copy
// runs the compiled build instead (`npm run build` -> dist/, shipped in the package).
const installed = import.meta.url.includes('/node_modules/');
const { main } = await import(installed ? '../dist/cli/main.js' : './main.ts');
await main();
