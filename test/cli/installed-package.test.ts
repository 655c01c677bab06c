// `gemini-webhooks` from an installed copy of the package: `npm pack` (which builds dist/), then
// installed into a fresh project and run through `npx`. The package ships only the compiled build,
// so cli/bin.js must pick it there, while a checkout runs the TypeScript sources (tested in
// webhooks.test.ts).
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cliHarness } from './harness.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const exec = promisify(execFile);

interface LockEntry {
  dev?: boolean;
  [key: string]: unknown;
}

/**
 * The lockfile `npm install <tarball>` would write for a fresh project: the package from the
 * tarball, and its dependencies at the versions this repository's lockfile pins (the ones the
 * tests ran). With it `npm ci --offline` installs from the local npm cache, without the registry.
 */
function lockfileFor(tarball: string): { manifest: object; lock: object } {
  const repoLock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dependency = { [manifest['name'] as string]: `file:${tarball}` };
  const packages: Record<string, unknown> = { '': { name: 'app', version: '1.0.0', dependencies: dependency } };
  for (const [path, entry] of Object.entries(repoLock.packages))
    if (path.startsWith('node_modules/') && !entry.dev) packages[path] = entry;
  packages[`node_modules/${manifest['name'] as string}`] = {
    version: manifest['version'],
    resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    license: manifest['license'],
    dependencies: manifest['dependencies'],
    bin: manifest['bin'],
    engines: manifest['engines'],
  };
  return {
    manifest: { name: 'app', version: '1.0.0', private: true, dependencies: dependency },
    lock: { name: 'app', version: '1.0.0', lockfileVersion: 3, requires: true, packages },
  };
}

test(
  'npx gemini-webhooks works from the packed and installed package, running its compiled build',
  { timeout: 600_000 },
  async (t) => {
    const app = mkdtempSync(join(tmpdir(), 'installed-cli-'));
    t.after(() => rmSync(app, { recursive: true, force: true }));
    const { stdout } = await exec('npm', ['pack', '--pack-destination', app, '--silent'], {
      cwd: repoRoot,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = join(app, stdout.trim().split('\n').at(-1)!);
    const { manifest, lock } = lockfileFor(tarball);
    writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
    await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
      cwd: app,
      maxBuffer: 16 * 1024 * 1024,
    });

    const installed = join(app, 'node_modules', 'gemini-webhooks-pubsub');
    assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')), 'the build is in the package');
    assert.ok(!existsSync(join(installed, 'cli', 'main.ts')), 'the TypeScript sources are not');

    // A real command through npx, against the fake WebhookService.
    const cli = await cliHarness(t);
    assert.equal(
      (await cli.run(['webhooks', 'create', '--url', 'https://receiver-abc-uc.a.run.app/', '--name', 'prod'])).code,
      0,
    );
    const env = {
      ...process.env,
      GEMINI_API_KEY: cli.service.apiKey,
      GEMINI_API_BASE_URL: cli.service.baseUrl,
      npm_config_update_notifier: 'false',
    };
    const listed = await exec('npx', ['--offline', 'gemini-webhooks', 'webhooks', 'list'], { cwd: app, env });
    assert.match(listed.stdout, /^webhook wh1 {2}"prod"$/m);
    const help = await exec(join(app, 'node_modules', '.bin', 'gemini-webhooks'), ['listen', '--help'], {
      cwd: app,
      env,
    });
    assert.match(help.stdout, /^usage: gemini-webhooks listen --forward-to URL/);

    // The installed command guards the Node version too.
    const guard = createRequire(import.meta.url)('../../scripts/check-node.cjs') as {
      nodeVersionProblem(version: string): string | null;
    };
    const old = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => {
      const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
      return version.status === 0 && guard.nodeVersionProblem(version.stdout.trim()) !== null;
    });
    if (old !== undefined) {
      const result = spawnSync(old, [join(installed, 'cli', 'bin.js'), '--help'], { encoding: 'utf8' });
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        /^gemini-webhooks-pubsub needs Node\.js \S+ or newer, and this is Node\.js v[\d.]+: install it from https:\/\/nodejs\.org\//,
      );
    }
  },
);
