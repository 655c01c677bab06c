/**
 * The test files of `npm test`. The rest of the suite runs one file at a time (several files start
 * the Pub/Sub emulator, the receiver and load), while the install tests (test/install/: a clean clone
 * installed every way a user installs it, mostly waiting for npm) run beside it in a process of their
 * own, so they add little to the wall time. Their report follows the suite's; either failing fails.
 */
import { spawn } from 'node:child_process';

function run(args: string[], buffered: boolean): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', buffered ? 'pipe' : 'inherit', 'inherit'] });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === null ? 1 : 128), output }));
  });
}

const [suite, install] = await Promise.all([
  run(['--test', '--test-concurrency=1', 'test/!(install)/**/*.test.ts'], false),
  run(['--test', 'test/install/*.test.ts'], true),
]);
process.stdout.write(`\n# test/install/ (ran beside the suite)\n${install.output}`);
process.exitCode = suite.code !== 0 || install.code !== 0 ? 1 : 0;
