/**
 * The receiver's deployable source, built in memory:
 *
 * - `index.js` (the package's `main`, which the framework loads): functions/index.ts and
 *   everything it imports, the client libraries included, bundled by esbuild into one ES module.
 *   Node then reads, resolves and compiles one file at start instead of hundreds (bench/README.md,
 *   "Levers tried", has what that saves). Only the Functions Framework stays outside (Cloud Run starts the
 *   framework's CLI from the installed dependencies, and the function must register with that
 *   same copy), and the client libraries' static protobuf.js classes, which the receiver never
 *   uses: each is required from node_modules if anything touches it (`withLazyStaticProtos`).
 * - a generated `package.json` whose runtime dependencies are pinned to the exact versions in the
 *   root lockfile, and a `package-lock.json` cut from the root lockfile, so Cloud Build's `npm ci`
 *   installs exactly the dependency tree the tests ran against, transitive packages included. The
 *   bundled libraries are installed too: some read files of their own package at run time (gRPC
 *   and google-gax load .proto files relative to `__dirname`), and the bundle points each such
 *   module's `__dirname` at its installed copy.
 *
 * The content hash covers every file name and byte, so the bucket object named after it changes
 * with any source change, or any change of a bundled dependency, and with nothing else.
 *
 * esbuild is a development dependency, loaded only here, when an archive is built from sources.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The one dependency left out of the bundle: the framework whose CLI serves the function. */
export const FRAMEWORK = '@google-cloud/functions-framework';

/** Runtime dependencies of the receiver; each is pinned to the version the root lockfile resolved. */
export const RUNTIME_DEPENDENCIES = [
  FRAMEWORK,
  '@google-cloud/pubsub',
  '@google-cloud/secret-manager',
  'google-gax',
  'jose',
] as const;

/** Node.js major the function runs on; also the `engines` of the generated package.json. */
export const NODE_MAJOR = 22;
export const FUNCTION_RUNTIME = `nodejs${NODE_MAJOR}`;
export const ENTRY_POINT = 'receiveWebhook';

export interface SourceArchive {
  /** Archive path -> file content, sorted by path. */
  files: ReadonlyMap<string, string>;
  /** SHA-256 (hex) over every path and content. */
  hash: string;
  /** Bucket object name, e.g. `receiver-<first 20 hex of hash>.zip`. */
  objectName: string;
}

const SKIP_DIRS = new Set(['node_modules', 'test', 'tests', '__tests__', 'dist', '.git']);

function isSourceFile(name: string): boolean {
  return name.endsWith('.ts') && !name.endsWith('.d.ts') && !/\.(test|spec)\.ts$/.test(name);
}

/** Relative paths (POSIX separators) of the source files under `dir`, sorted. */
export function listSourceFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string, rel: string): void => {
    for (const entry of readdirSync(current).sort()) {
      const full = path.join(current, entry);
      const relPath = rel === '' ? entry : `${rel}/${entry}`;
      const stat = statSync(full);
      if (stat.isDirectory()) {
        if (!SKIP_DIRS.has(entry)) walk(full, relPath);
      } else if (isSourceFile(entry)) {
        found.push(relPath);
      }
    }
  };
  walk(dir, '');
  return found.sort();
}

// What the bundle needs before any bundled module runs: `require` for the CommonJS modules inside
// it (resolved from the deployed function's own node_modules), and where each bundled package is
// installed, for the modules that read their own files relative to `__dirname`.
const BUNDLE_BANNER = `import { createRequire as __bundleCreateRequire } from 'node:module';
import { dirname as __bundleDirname, join as __bundleJoin } from 'node:path';
import { fileURLToPath as __bundleFileURLToPath } from 'node:url';
const require = __bundleCreateRequire(import.meta.url);
const __bundleRoot = __bundleDirname(__bundleFileURLToPath(import.meta.url));`;

// esbuild wraps each bundled CommonJS module as `"<path from the build root>"(exports, module) {`
// (with fewer parameters when the module uses fewer).
const COMMONJS_WRAPPER = /^(\s*)"(node_modules\/(?:[^"\\]|\\.)*)"\((?:exports(?:, module)?)?\) \{$/gm;

/**
 * Gives every bundled CommonJS module that mentions `__dirname` or `__filename` its own, pointing
 * at the same file in the deployed function's node_modules (the archive installs every bundled
 * package, at the paths the root lockfile gives them, which are the paths esbuild reports).
 */
export function localiseModulePaths(bundle: string, buildRoot: string): string {
  return bundle.replace(COMMONJS_WRAPPER, (line, indent: string, modulePath: string) => {
    const file = path.join(buildRoot, modulePath);
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (!/\b__(dirname|filename)\b/.test(text)) return line;
    const literal = JSON.stringify(modulePath);
    const paths = `var __filename = __bundleJoin(__bundleRoot, ${literal}), __dirname = __bundleDirname(__filename);`;
    return `${line}\n${indent}  ${paths}`;
  });
}

// The client libraries ship their protos twice: as JSON, which google-gax loads to build the clients,
// and as static protobuf.js classes (`build/protos/*.js`), which they only re-export (`protos`,
// `IamProtos`, ...) for their users and google-gax uses for long-running operations. The receiver
// uses neither, but each package's index requires them: bundled, they were 4.9 of the bundle's
// 8.6 MB, parsed and run on every cold start (bench/README.md has the measurement).
const STATIC_PROTOS_MODULE =
  /^var (require_\w+) = __commonJS\(\{\n {2}"(node_modules\/(?:[^"]*\/)?(?:@google-cloud\/[^/"]+|google-gax)\/build\/protos\/[^/"]+\.js)"\((?:exports(?:, module)?)?\) \{\n[\s\S]*?\n\}\);$/gm;

/**
 * Replaces each bundled static-protos module by one that requires the installed copy on first use
 * (the archive installs every bundled package, at the path esbuild names it by).
 */
export function withLazyStaticProtos(bundle: string): string {
  return bundle.replace(
    STATIC_PROTOS_MODULE,
    (_, variable: string, modulePath: string) => `var ${variable} = __commonJS({
  "${modulePath}"(exports, module) {
    // Left out of the bundle (infra/archive.ts, withLazyStaticProtos): required from node_modules on first use.
    let loaded;
    const load = () => (loaded ??= require(__bundleJoin(__bundleRoot, ${JSON.stringify(modulePath)})));
    module.exports = new Proxy({}, {
      get: (_, key) => (key === "__esModule" ? true : Reflect.get(load(), key)),
      has: (_, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_, key) => {
        const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
        return descriptor && { ...descriptor, configurable: true };
      }
    });
  }
});`,
  );
}

export class BundleError extends Error {
  override name = 'BundleError';
}

/** Bundles `<sourceDir>/index.ts` and its imports, packages resolved from `buildRoot`'s node_modules. */
export function bundleReceiver(sourceDir: string, buildRoot: string): string {
  // Loaded here, not at the top: only a build from sources needs it (it is a dev dependency).
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  let result: import('esbuild').BuildResult & { outputFiles: import('esbuild').OutputFile[] };
  try {
    result = esbuild.buildSync({
      entryPoints: [path.join(sourceDir, 'index.ts')],
      absWorkingDir: buildRoot,
      nodePaths: [path.join(buildRoot, 'node_modules')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: `node${NODE_MAJOR}`,
      external: [FRAMEWORK],
      banner: { js: BUNDLE_BANNER },
      // Licence comments of the bundled packages stay, at the end of the file.
      legalComments: 'eof',
      outfile: 'index.js',
      write: false,
      logLevel: 'silent',
    });
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> })
      .errors;
    const text = errors?.length
      ? errors.map((e) => `${e.location ? `${e.location.file}:${e.location.line}: ` : ''}${e.text}`).join('; ')
      : (error as Error).message;
    throw new BundleError(`cannot bundle the receiver (${path.join(sourceDir, 'index.ts')}): ${text}`);
  }
  const output = result.outputFiles.find((file) => file.path.endsWith('index.js'));
  if (!output) throw new BundleError('esbuild produced no index.js');
  // esbuild names each module by its path from the build root, in comments and in the keys of lazily
  // initialised modules. The receiver's own modules are named `functions/...` wherever the sources
  // sit, so that the archive's content, and its hash, depend on the code alone.
  const relative = path.relative(buildRoot, sourceDir).split(path.sep).join('/');
  const named =
    relative === 'functions'
      ? output.text
      : output.text.replaceAll(`"${relative}/`, '"functions/').replaceAll(`// ${relative}/`, '// functions/');
  return localiseModulePaths(withLazyStaticProtos(named), buildRoot);
}

/** Exact versions of `names` in an npm lockfile (v2/v3 `packages` map). */
export function pinnedVersions(lockfileText: string, names: readonly string[]): Record<string, string> {
  const lock = JSON.parse(lockfileText) as { packages?: Record<string, { version?: string }> };
  const pinned: Record<string, string> = {};
  for (const name of names) {
    const version = lock.packages?.[`node_modules/${name}`]?.version;
    if (version === undefined) throw new Error(`package-lock.json does not resolve ${name}; run npm install`);
    pinned[name] = version;
  }
  return pinned;
}

interface LockEntry {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Where Node would find `name` when required from the package installed at `from` ('' is the root). */
function resolveInLock(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let dir = from;
  for (;;) {
    const candidate = dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`;
    if (packages[candidate] !== undefined) return candidate;
    if (dir === '') return undefined;
    const parent = dir.lastIndexOf('/node_modules/');
    dir = parent === -1 ? '' : dir.slice(0, parent);
  }
}

/**
 * The part of a v2/v3 npm lockfile that `names` need: every package reachable from them, entries
 * copied unchanged (versions, resolved URLs, integrity hashes), under a root that depends on
 * `names` at the pinned versions.
 */
export function prunedLockfile(
  lockfileText: string,
  names: readonly string[],
  root: { name: string; version: string },
): string {
  const lock = JSON.parse(lockfileText) as { lockfileVersion?: number; packages?: Record<string, LockEntry> };
  const packages = lock.packages ?? {};
  if ((lock.lockfileVersion ?? 0) < 2)
    throw new Error('package-lock.json must be lockfileVersion 2 or 3; run npm install with npm 7 or newer');
  const kept = new Set<string>();
  const queue: string[] = [];
  const need = (from: string, name: string, optional: boolean): void => {
    const key = resolveInLock(packages, from, name);
    if (key === undefined) {
      if (optional) return;
      throw new Error(
        `package-lock.json does not resolve ${name} (needed from ${from || 'the root'}); run npm install`,
      );
    }
    if (!kept.has(key)) {
      kept.add(key);
      queue.push(key);
    }
  };
  for (const name of names) need('', name, false);
  while (queue.length > 0) {
    const key = queue.shift()!;
    const entry = packages[key]!;
    for (const name of Object.keys(entry.dependencies ?? {})) need(key, name, false);
    for (const name of Object.keys(entry.optionalDependencies ?? {})) need(key, name, true);
    for (const name of Object.keys(entry.peerDependencies ?? {})) need(key, name, true);
  }
  const dependencies = pinnedVersions(lockfileText, names);
  const sortedDependencies = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
  const pruned = {
    name: root.name,
    version: root.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: root.name,
        version: root.version,
        dependencies: sortedDependencies,
        engines: { node: `${NODE_MAJOR}.x` },
      },
      ...Object.fromEntries([...kept].sort().map((key) => [key, packages[key]])),
    },
  };
  return `${JSON.stringify(pruned, null, 2)}\n`;
}

const FUNCTION_PACKAGE = { name: 'gemini-webhooks-receiver', version: '0.0.0' } as const;

/** The generated package.json, with stable key order so the hash is stable. */
export function functionPackageJson(dependencies: Record<string, string>): string {
  const sorted = Object.fromEntries(Object.entries(dependencies).sort(([a], [b]) => a.localeCompare(b)));
  const pkg = {
    ...FUNCTION_PACKAGE,
    private: true,
    type: 'module',
    main: 'index.js',
    engines: { node: `${NODE_MAJOR}.x` },
    dependencies: sorted,
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export function hashFiles(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha256');
  for (const [name, content] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    // Length-prefixed so that no two different file sets can produce the same byte stream.
    const body = Buffer.from(content, 'utf8');
    hash.update(`${Buffer.byteLength(name)}:${name}\0${body.length}:`);
    hash.update(body);
  }
  return hash.digest('hex');
}

export interface BuildSourceOptions {
  /** Directory holding the receiver's TypeScript sources (the repo's `functions/`). */
  sourceDir: string;
  /** The root `package-lock.json` whose versions are pinned. */
  lockfile: string;
}

/** Builds the deployable archive contents; throws when the entry module is missing. */
export function buildReceiverSource(options: BuildSourceOptions): SourceArchive {
  const sources = listSourceFiles(options.sourceDir);
  if (!sources.includes('index.ts')) {
    throw new Error(
      `${path.join(options.sourceDir, 'index.ts')} is missing: ` +
        `the receiver's entry module must export the ${ENTRY_POINT} target`,
    );
  }
  const files = new Map<string, string>();
  files.set('index.js', bundleReceiver(options.sourceDir, path.dirname(options.lockfile)));
  const lockfile = readFileSync(options.lockfile, 'utf8');
  files.set('package.json', functionPackageJson(pinnedVersions(lockfile, RUNTIME_DEPENDENCIES)));
  files.set('package-lock.json', prunedLockfile(lockfile, RUNTIME_DEPENDENCIES, FUNCTION_PACKAGE));
  return archiveOf(files);
}

function archiveOf(files: ReadonlyMap<string, string>): SourceArchive {
  const sorted = new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const hash = hashFiles(sorted);
  return { files: sorted, hash, objectName: `receiver-${hash.slice(0, 20)}.zip` };
}

/** The root of this package: the repository in a checkout, `node_modules/gemini-webhooks-pubsub` installed. */
export const PACKAGE_ROOT = packageRootOf(import.meta.dirname);

function packageRootOf(dir: string): string {
  for (let current = dir; ; current = path.dirname(current)) {
    if (existsSync(path.join(current, 'package.json'))) return current;
    if (path.dirname(current) === current) throw new Error(`no package.json above ${dir}`);
  }
}

export const DEFAULT_SOURCE_OPTIONS: BuildSourceOptions = {
  sourceDir: path.join(PACKAGE_ROOT, 'functions'),
  lockfile: path.join(PACKAGE_ROOT, 'package-lock.json'),
};

/**
 * Where a packed copy of this package carries the archive, built when it was packed (`npm run build`):
 * an installed copy has neither the receiver's TypeScript nor the tools to bundle it, so it deploys
 * the archive that was built, and tested, with the package.
 */
export const PREBUILT_ARCHIVE_DIR = path.join(PACKAGE_ROOT, 'dist', 'receiver-archive');
const PREBUILT_MANIFEST = 'archive.json';

/** Writes an archive where an installed copy of the package finds it. */
export function writePrebuiltArchive(archive: SourceArchive, dir: string = PREBUILT_ARCHIVE_DIR): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of archive.files) writeFileSync(path.join(dir, name), content);
  const manifest = { hash: archive.hash, objectName: archive.objectName, files: [...archive.files.keys()] };
  writeFileSync(path.join(dir, PREBUILT_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** Reads a prebuilt archive back, checking that its files are the ones it was built with. */
export function readPrebuiltArchive(dir: string = PREBUILT_ARCHIVE_DIR): SourceArchive {
  const manifest = JSON.parse(readFileSync(path.join(dir, PREBUILT_MANIFEST), 'utf8')) as {
    hash: string;
    files: string[];
  };
  const archive = archiveOf(new Map(manifest.files.map((name) => [name, readFileSync(path.join(dir, name), 'utf8')])));
  if (archive.hash !== manifest.hash) {
    throw new Error(`the receiver archive in ${dir} is not the one the package was built with; reinstall the package`);
  }
  return archive;
}

/**
 * The archive to deploy: built from the sources in a checkout (they are the truth there, whatever an
 * earlier build left in dist/), the prebuilt one in an installed copy of the package.
 */
export function receiverSource(): SourceArchive {
  if (existsSync(path.join(DEFAULT_SOURCE_OPTIONS.sourceDir, 'index.ts')))
    return buildReceiverSource(DEFAULT_SOURCE_OPTIONS);
  if (existsSync(path.join(PREBUILT_ARCHIVE_DIR, PREBUILT_MANIFEST))) return readPrebuiltArchive();
  throw new Error(
    `gemini-webhooks-pubsub at ${PACKAGE_ROOT} has neither the receiver's sources nor its prebuilt archive ` +
      `(${PREBUILT_ARCHIVE_DIR}): reinstall the package, or run \`npm run build\` in a checkout`,
  );
}
