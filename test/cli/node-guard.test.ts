// The Node.js version guard (scripts/check-node.cjs): its rule with faked versions, and for real on
// an older Node when this machine has one (`npm ci`, `npm start`, `npm test`, the CLI each print the
// one line and exit non-zero instead of a module loader stack trace).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const guard = createRequire(import.meta.url)('../../scripts/check-node.cjs') as {
  nodeVersionProblem(current: string, range?: string): string | null;
};
const packageJson = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  engines: { node: string };
  scripts: Record<string, string>;
};

test('the guard compares against engines.node and names the version needed and where to get it', () => {
  assert.equal(guard.nodeVersionProblem('v22.18.0', '>=22.18.0'), null);
  assert.equal(guard.nodeVersionProblem('v22.23.5', '>=22.18.0'), null);
  assert.equal(guard.nodeVersionProblem('v24.0.0', '>=22.18.0'), null);
  for (const old of ['v22.17.9', 'v20.20.2', 'v18.0.0', 'v0.12.18']) {
    const problem = guard.nodeVersionProblem(old, '>=22.18.0');
    assert.ok(problem !== null, old);
    assert.match(
      problem,
      new RegExp(
        `needs Node\\.js 22\\.18\\.0 or newer, and this is Node\\.js ${old.replaceAll('.', '\\.')}: install it from https://nodejs\\.org/`,
      ),
    );
    assert.doesNotMatch(problem, /\n/);
  }
  // A range with another minimum moves the line, in every component.
  assert.equal(guard.nodeVersionProblem('v23.5.0', '>=23.4.10'), null);
  assert.match(
    guard.nodeVersionProblem('v23.4.9', '>=23.4.10') ?? '',
    /needs Node\.js 23\.4\.10 or newer.*`nvm install 23 && nvm use 23`/,
  );
  assert.match(guard.nodeVersionProblem('not a version', '>=22.18.0') ?? '', /this is Node\.js not a version/);
  // The guard reads package.json by default, and the range there has the one form it understands.
  assert.equal(guard.nodeVersionProblem(process.version), null, 'this test runs on a supported Node');
  assert.throws(() => guard.nodeVersionProblem('v22.0.0', '^22.18.0'), /engines\.node must have the form ">=X\.Y\.Z"/);
});

/** An installed Node older than engines.node (`/usr/bin/node` on the project's machines), if any. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    const result = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (result.status === 0 && guard.nodeVersionProblem(result.stdout.trim()) !== null) return candidate;
  }
  return undefined;
}

const old = olderNode();
const run = promisify(execFile);

async function onOldNode(
  command: string,
  args: readonly string[],
  cwd: string,
): Promise<{ code: number; stderr: string; stdout: string }> {
  const env = {
    ...process.env,
    PATH: `${dirname(old!)}${delimiter}${process.env['PATH'] ?? ''}`,
    npm_config_update_notifier: 'false',
  };
  return run(command, [...args], { cwd, env, timeout: 120_000 }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

function assertGuardLine(result: { code: number; stderr: string }, what: string): void {
  assert.notEqual(result.code, 0, `${what} exits non-zero`);
  assert.match(
    result.stderr,
    /^gemini-webhooks-pubsub needs Node\.js \d+\.\d+\.\d+ or newer, and this is Node\.js v\d+\.\d+\.\d+: install it from https:\/\/nodejs\.org\/\S+ \(or `nvm install 22 && nvm use 22`\)\.$/m,
    what,
  );
  assert.doesNotMatch(
    result.stderr,
    /ERR_UNKNOWN_FILE_EXTENSION|ERR_UNSUPPORTED|\n\s+at /,
    `${what}: no loader stack trace`,
  );
}

test(
  'on an older Node, the CLI and `npm start` / `npm test` print the line instead of a stack trace',
  { skip: old === undefined && 'no Node older than engines.node on this machine' },
  async () => {
    const cli = await onOldNode(old!, [join(repoRoot, 'cli', 'bin.js'), 'webhooks', 'list'], repoRoot);
    assertGuardLine(cli, 'gemini-webhooks');
    assert.equal(cli.stderr.trim().split('\n').length, 1, 'exactly one line');
    assertGuardLine(await onOldNode('npm', ['start'], repoRoot), 'npm start');
    assertGuardLine(await onOldNode('npm', ['test'], repoRoot), 'npm test');
  },
);

test(
  'on an older Node, `npm ci` of this package.json ends with the line',
  { skip: old === undefined && 'no Node older than engines.node on this machine' },
  async (t) => {
    // The package's own scripts and engines, without its dependencies (the guard does not depend on them).
    const dir = mkdtempSync(join(tmpdir(), 'node-guard-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const { name, version, engines, scripts } = packageJson;
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name, version, type: 'module', private: true, engines, scripts }),
    );
    writeFileSync(
      join(dir, 'package-lock.json'),
      JSON.stringify({
        name,
        version,
        lockfileVersion: 3,
        requires: true,
        packages: { '': { name, version, engines } },
      }),
    );
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(repoRoot, 'scripts', 'check-node.cjs'), join(dir, 'scripts', 'check-node.cjs'));
    assertGuardLine(await onOldNode('npm', ['ci', '--offline', '--no-audit', '--no-fund'], dir), 'npm ci');
  },
);
