/**
 * This package as a user gets it: `npm pack` (which runs `npm run build`: the compiled JavaScript and
 * the receiver's prebuilt archive), then installed from the tarball into a fresh project of its own,
 * offline, from the local npm cache.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const PACKAGE_NAME = 'gemini-webhooks-pubsub';
const exec = promisify(execFile);

interface LockEntry {
  dev?: boolean;
  link?: boolean;
  [key: string]: unknown;
}

/**
 * The lockfile `npm install <tarball>` would write for a fresh project: the package from the
 * tarball, and its dependencies at the versions this repository's lockfile pins (the ones the
 * tests ran). With it `npm ci --offline` installs from the local npm cache, without the registry.
 */
function lockfileFor(tarball: string, app: { name: string; type?: string }): { manifest: object; lock: object } {
  const repoLock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
  const dependency = { [PACKAGE_NAME]: `file:${tarball}` };
  const packages: Record<string, unknown> = { '': { name: app.name, version: '1.0.0', dependencies: dependency } };
  // Production dependencies only: what a user's `npm install` brings, without typescript or esbuild.
  for (const [path, entry] of Object.entries(repoLock.packages)) {
    // Not the links to this repository's workspaces (packages/subscriber): a user's install has none.
    if (path.startsWith('node_modules/') && !entry.dev && !entry.link) packages[path] = entry;
  }
  packages[`node_modules/${PACKAGE_NAME}`] = {
    version: manifest['version'],
    resolved: `file:${tarball}`,
    integrity: `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`,
    license: manifest['license'],
    dependencies: manifest['dependencies'],
    bin: manifest['bin'],
    engines: manifest['engines'],
  };
  return {
    manifest: { ...app, version: '1.0.0', private: true, dependencies: dependency },
    lock: { name: app.name, version: '1.0.0', lockfileVersion: 3, requires: true, packages },
  };
}

export interface InstalledPackage {
  /** The user's project: its package.json, lockfile and node_modules. */
  app: string;
  /** The package inside it. */
  installed: string;
  remove(): void;
}

/** Packs this repository and installs the tarball into a fresh ES module project. */
export async function packAndInstall(): Promise<InstalledPackage> {
  const app = mkdtempSync(join(tmpdir(), 'installed-package-'));
  const { stdout } = await exec('npm', ['pack', '--pack-destination', app, '--silent'], {
    cwd: REPO_ROOT,
    maxBuffer: 64 * 1024 * 1024,
  });
  const tarball = join(app, stdout.trim().split('\n').at(-1)!);
  const { manifest, lock } = lockfileFor(tarball, { name: 'app', type: 'module' });
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(join(app, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await exec('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], {
    cwd: app,
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    app,
    installed: join(app, 'node_modules', PACKAGE_NAME),
    remove: () => rmSync(app, { recursive: true, force: true }),
  };
}
