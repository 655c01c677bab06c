import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  buildReceiverSource,
  bundleReceiver,
  BundleError,
  FRAMEWORK,
  localiseModulePaths,
  pinnedVersions,
  RUNTIME_DEPENDENCIES,
} from '../../infra/archive.ts';
import { fixtureSource } from './mocks.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** Builds the archive in a fresh Node process and returns its object name. */
function objectNameInChildProcess(sourceDir: string, lockfile: string): string {
  const archiveModule = JSON.stringify(path.join(REPO_ROOT, 'infra', 'archive.ts'));
  const options = `{ sourceDir: ${JSON.stringify(sourceDir)}, lockfile: ${JSON.stringify(lockfile)} }`;
  const script = `import { buildReceiverSource } from ${archiveModule};
console.log(buildReceiverSource(${options}).objectName);`;
  return execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }).trim();
}

describe('receiver source archive', () => {
  it('bundles the receiver into one module, leaving only the Functions Framework outside', () => {
    const archive = buildReceiverSource(fixtureSource());
    const bundle = archive.files.get('index.js')!;
    // Every import left is Node's own or the framework's: the CLI that serves the function must
    // be the copy the function registers with.
    const imports = [...bundle.matchAll(/^import .* from ["']([^"']+)["'];?$/gm)].map((m) => m[1]!);
    assert.deepEqual([...new Set(imports.filter((specifier) => !specifier.startsWith('node:')))], [FRAMEWORK]);
    // (assert.ok, not assert.match: a failure must not print megabytes of bundle)
    assert.ok(!/from ["']\.{1,2}\/|import\(["']\.{1,2}\//.test(bundle), 'no relative import survives');
    assert.ok(/^\/\/ .*\/catalog\.ts$/m.test(bundle), 'the receiver modules are inside');
    assert.ok(/^\/\/ node_modules\/@google-cloud\/pubsub\//m.test(bundle), 'the client library is inside');
  });

  it('points bundled modules that read their own files at their installed copy', () => {
    const bundle = buildReceiverSource(fixtureSource()).files.get('index.js')!;
    // google-gax finds its .proto files relative to __dirname when its gRPC module loads.
    const gax =
      /"node_modules\/google-gax\/build\/src\/grpc\.js"\([^)]*\) \{\n\s*var __filename = __bundleJoin\(__bundleRoot, "node_modules\/google-gax\/build\/src\/grpc\.js"\), __dirname = __bundleDirname\(__filename\);/;
    assert.ok(gax.test(bundle), "google-gax's gRPC module gets its own __dirname");
    const wrapped =
      'var x = __commonJS({\n  "node_modules/none/index.js"(exports, module) {\n    module.exports = 1;\n  }\n});';
    assert.equal(
      localiseModulePaths(wrapped, REPO_ROOT),
      wrapped,
      'a module that does not use __dirname is left alone',
    );
  });

  it("leaves the client libraries' static protobuf.js classes out, loading them only when used", (t) => {
    const bundle = buildReceiverSource(fixtureSource()).files.get('index.js')!;
    // Every static module (`var $root = $protobuf.roots[...]`) is a stub requiring the installed copy.
    assert.ok(!bundle.includes('$protobuf.roots'), 'no static protos module is bundled');
    const stubs = [
      ...bundle.matchAll(
        /^ {2}"(node_modules\/[^"]+\/build\/protos\/[^"/]+\.js)"\(exports, module\) \{\n.*withLazyStaticProtos/gm,
      ),
    ];
    assert.deepEqual(stubs.map((m) => m[1]).sort(), [
      'node_modules/@google-cloud/pubsub-api/build/protos/protos.js',
      'node_modules/@google-cloud/pubsub/build/protos/protos.js',
      'node_modules/@google-cloud/secret-manager/build/protos/protos.js',
      'node_modules/google-gax/build/protos/iam_service.js',
      'node_modules/google-gax/build/protos/locations.js',
      'node_modules/google-gax/build/protos/operations.js',
    ]);

    // A bundle that uses them: nothing is loaded at start, and the classes work once touched.
    const source = fixtureSource({
      'index.ts': `import { createRequire } from 'node:module';
import { protos } from '@google-cloud/secret-manager';
const loaded = () =>
  Object.keys(createRequire(import.meta.url).cache).filter((file) => file.includes('/build/protos/'));
const atStart = loaded();
const { Secret } = protos.google.cloud.secretmanager.v1;
const bytes = Secret.encode(Secret.create({ name: 'projects/p/secrets/s' })).finish();
console.log(JSON.stringify({ atStart, afterUse: loaded(), decoded: Secret.decode(bytes).name }));
`,
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'gw-lazy-protos-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'index.mjs'), bundleReceiver(source.sourceDir, REPO_ROOT));
    const result = JSON.parse(execFileSync(process.execPath, [path.join(dir, 'index.mjs')], { encoding: 'utf8' })) as {
      atStart: string[];
      afterUse: string[];
      decoded: string;
    };
    assert.deepEqual(result.atStart, []);
    assert.deepEqual(
      result.afterUse.map((file) => path.relative(REPO_ROOT, file)),
      ['node_modules/@google-cloud/secret-manager/build/protos/protos.js'],
    );
    assert.equal(result.decoded, 'projects/p/secrets/s');
  });

  it('refuses sources that do not bundle, naming the file', () => {
    const source = fixtureSource({
      'index.ts': "import { nothing } from './missing.ts';\nexport const x = nothing;\n",
    });
    assert.throws(
      () => buildReceiverSource(source),
      (error: Error) => error instanceof BundleError && /missing\.ts/.test(error.message),
    );
  });

  it('ships the bundle and a package.json pinned to the lockfile', () => {
    const source = fixtureSource({ 'helper.test.ts': 'export {};\n', 'types.d.ts': 'export type X = 1;\n' });
    const archive = buildReceiverSource(source);
    assert.deepEqual([...archive.files.keys()], ['index.js', 'package-lock.json', 'package.json']);
    const pkg = JSON.parse(archive.files.get('package.json')!);
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.main, 'index.js');
    assert.equal(pkg.engines.node, '22.x');
    const lock = readFileSync(path.join(REPO_ROOT, 'package-lock.json'), 'utf8');
    assert.deepEqual(pkg.dependencies, pinnedVersions(lock, RUNTIME_DEPENDENCIES));
    for (const version of Object.values(pkg.dependencies)) assert.match(String(version), /^\d+\.\d+\.\d+$/);
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

  it('names the archive by content: stable across runs, changed by any change to the deployed code', () => {
    const source = fixtureSource();
    const first = objectNameInChildProcess(source.sourceDir, source.lockfile);
    const second = objectNameInChildProcess(source.sourceDir, source.lockfile);
    assert.match(first, /^receiver-[0-9a-f]{20}\.zip$/);
    assert.equal(first, second);
    assert.equal(buildReceiverSource(source).objectName, first);

    // A comment is not deployed code (the bundle drops it); a changed value is.
    const catalog = path.join(source.sourceDir, 'catalog.ts');
    const text = readFileSync(catalog, 'utf8');
    writeFileSync(catalog, `${text}\n// a comment\n`);
    assert.equal(objectNameInChildProcess(source.sourceDir, source.lockfile), first);
    writeFileSync(catalog, text.replace("DEFAULT_TOPIC_PREFIX = 'gemini'", "DEFAULT_TOPIC_PREFIX = 'gemini-changed'"));
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
  });
});
