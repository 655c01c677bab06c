import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  buildReceiverSource,
  DEFAULT_SOURCE_OPTIONS,
  FUNCTION_RUNTIME,
  pinnedVersions,
  RUNTIME_DEPENDENCIES,
  transpileSource,
} from '../../infra/archive.ts';
import { fixtureSource } from './mocks.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Builds the archive in a fresh Node process and returns its object name. */
function objectNameInChildProcess(sourceDir: string, lockfile: string): string {
  const script = `import { buildReceiverSource } from ${JSON.stringify(path.join(REPO_ROOT, 'infra', 'archive.ts'))};
console.log(buildReceiverSource({ sourceDir: ${JSON.stringify(sourceDir)}, lockfile: ${JSON.stringify(lockfile)} }).objectName);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

describe('receiver source archive', () => {
  it('rewrites relative .ts specifiers to .js and keeps side-effect and package imports', () => {
    const out = transpileSource(
      'index.ts',
      [
        "import { a } from './catalog.ts';",
        "import type { T } from './types.ts';",
        "import './register.ts';",
        "export * from '../shared/x.ts';",
        "import { PubSub } from '@google-cloud/pubsub';",
        "const lazy = await import('./lazy.ts');",
        'export const n: number = a + (lazy as unknown as number);',
        'export const p = new PubSub();',
      ].join('\n'),
    );
    assert.match(out, /from "\.\/catalog\.js"/);
    assert.match(out, /import "\.\/register\.js"/);
    assert.match(out, /from "\.\.\/shared\/x\.js"/);
    assert.match(out, /import\("\.\/lazy\.js"\)/);
    assert.match(out, /from '@google-cloud\/pubsub'/);
    assert.doesNotMatch(out, /types\.ts|: number/);
  });

  it('refuses TypeScript that is not erasable', () => {
    assert.throws(() => transpileSource('bad.ts', 'export const = ;'), /cannot transpile functions\/bad\.ts/);
  });

  it('ships every non-test module as .js plus a package.json pinned to the lockfile', () => {
    const source = fixtureSource({ 'helper.test.ts': 'export {};\n', 'types.d.ts': 'export type X = 1;\n' });
    const archive = buildReceiverSource(source);
    const names = [...archive.files.keys()];
    assert.ok(
      names.includes('index.js') &&
        names.includes('catalog.js') &&
        names.includes('topology.js') &&
        names.includes('package.json'),
    );
    assert.ok(
      names.every((n) => n === 'package.json' || n === 'package-lock.json' || n.endsWith('.js')),
      names.join(','),
    );
    assert.ok(!names.some((n) => n.includes('.test.') || n.endsWith('.d.js')));
    const pkg = JSON.parse(archive.files.get('package.json')!);
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.main, 'index.js');
    assert.equal(pkg.engines.node, '22.x');
    assert.equal(FUNCTION_RUNTIME, 'nodejs22');
    const lock = readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8');
    assert.deepEqual(pkg.dependencies, pinnedVersions(lock, RUNTIME_DEPENDENCIES));
    for (const version of Object.values(pkg.dependencies)) assert.match(String(version), /^\d+\.\d+\.\d+$/);
    assert.match(archive.files.get('topology.js')!, /from "\.\/catalog\.js"/);
  });

  it('ships a lockfile cut from the root one: the runtime dependency tree, entries unchanged, nothing else', () => {
    const archive = buildReceiverSource(fixtureSource());
    const root = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8'));
    const lock = JSON.parse(archive.files.get('package-lock.json')!);
    const pkg = JSON.parse(archive.files.get('package.json')!);
    assert.equal(lock.lockfileVersion, 3);
    assert.equal(lock.name, pkg.name);
    assert.deepEqual(lock.packages[''].dependencies, pkg.dependencies);
    const keys = Object.keys(lock.packages).filter((key) => key !== '');
    for (const name of RUNTIME_DEPENDENCIES) assert.ok(keys.includes(`node_modules/${name}`), name);
    for (const key of keys) assert.deepEqual(lock.packages[key], root.packages[key], `${key} copied unchanged`);
    // Every dependency of a kept package resolves to a kept package (Node's lookup, nearest first).
    const lookupPaths = (from: string, name: string): string[] => {
      const paths = [`${from}/node_modules/${name}`];
      for (let dir = from; dir.includes('/node_modules/');) {
        dir = dir.slice(0, dir.lastIndexOf('/node_modules/'));
        paths.push(`${dir}/node_modules/${name}`);
      }
      return [...paths, `node_modules/${name}`];
    };
    for (const key of keys) {
      for (const name of Object.keys(lock.packages[key].dependencies ?? {})) {
        assert.ok(
          lookupPaths(key, name).some((candidate) => candidate in lock.packages),
          `${key} needs ${name}`,
        );
      }
    }
    // Nothing of the deploy tooling or the dev tools goes to the function.
    for (const unwanted of ['@pulumi/pulumi', '@pulumi/gcp', 'typescript', 'standardwebhooks', 'fast-check']) {
      assert.ok(!keys.includes(`node_modules/${unwanted}`), unwanted);
    }
  });

  it('names the archive by content: stable across runs, changed by any source change', () => {
    const source = fixtureSource();
    const first = objectNameInChildProcess(source.sourceDir, source.lockfile);
    const second = objectNameInChildProcess(source.sourceDir, source.lockfile);
    assert.match(first, /^receiver-[0-9a-f]{20}\.zip$/);
    assert.equal(first, second);
    assert.equal(buildReceiverSource(source).objectName, first);

    const catalog = path.join(source.sourceDir, 'catalog.ts');
    writeFileSync(catalog, `${readFileSync(catalog, 'utf8')}\n// a change\n`);
    assert.notEqual(objectNameInChildProcess(source.sourceDir, source.lockfile), first);
  });

  it('ignores test files when hashing', () => {
    const source = fixtureSource();
    const before = buildReceiverSource(source).objectName;
    writeFileSync(path.join(source.sourceDir, 'catalog.test.ts'), 'export const x = 1;\n');
    assert.equal(buildReceiverSource(source).objectName, before);
  });

  it('fails clearly when the entry module is missing', () => {
    const source = fixtureSource();
    assert.throws(
      () => buildReceiverSource({ ...source, sourceDir: path.join(source.sourceDir, 'nope') }),
      /ENOENT|index\.ts is missing/,
    );
    assert.equal(DEFAULT_SOURCE_OPTIONS.sourceDir, path.join(REPO_ROOT, 'functions'));
  });
});
