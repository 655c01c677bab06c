/**
 * This repository installed each way a user installs it, from a clean clone of the working tree:
 *
 * - the clone itself after `npm ci` (which builds, through `prepare`): a checkout, as `pulumi package add`
 *   with a path or a git URL gets it;
 * - the `npm pack` tarball, installed with `npm install <tarball>`;
 * - a git URL (`git+file:` here), for which npm clones, installs, runs `prepare` and packs;
 * - the directory, installed with `npm install <directory>` (a symlink to the built clone).
 *
 * Each installs into a Pulumi program of its own made from Pulumi's TypeScript template. Only the npm
 * registry is used (through npm's cache: `--prefer-offline`), and every dependency is pinned to the
 * version this repository's lockfile resolved.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const PACKAGE_NAME = 'gemini-webhooks-pubsub';
const exec = promisify(execFile);
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
const BIG = { maxBuffer: 64 * 1024 * 1024 };

/**
 * tsconfig.json of Pulumi's TypeScript template before March 2026 (and so of most programs in use):
 * https://github.com/pulumi/templates/blob/a3029400caaa160d1c45b8e6d5caba594d369735/typescript/tsconfig.json
 */
export const TEMPLATE_TSCONFIG_COMMONJS = {
  compilerOptions: {
    strict: true,
    outDir: 'bin',
    target: 'es2020',
    module: 'commonjs',
    moduleResolution: 'node',
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  },
  files: ['index.ts'],
};

/**
 * The same template's tsconfig.json since March 2026:
 * https://github.com/pulumi/templates/blob/81e6522593dedb07f0addfc763f5be3375607db7/typescript/tsconfig.json
 */
export const TEMPLATE_TSCONFIG_NODENEXT = {
  ...TEMPLATE_TSCONFIG_COMMONJS,
  compilerOptions: { ...TEMPLATE_TSCONFIG_COMMONJS.compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' },
};

/** The versions this repository's lockfile resolved, so that npm finds them in its cache. */
function lockedVersion(name: string): string {
  const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string }>;
  };
  const entry = lock.packages[`node_modules/${name}`];
  if (entry === undefined) throw new Error(`${name} is not in package-lock.json`);
  return entry.version;
}

/** A copy of the working tree as a fresh git repository: what a clean clone of it would hold. */
async function cleanClone(into: string): Promise<string> {
  const { stdout } = await exec('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    ...BIG,
  });
  for (const file of stdout.split('\0').filter((f) => f !== '')) {
    const from = join(REPO_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(into, file)), { recursive: true });
    copyFileSync(from, join(into, file));
  }
  const git = (...args: string[]) =>
    exec('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], { cwd: into });
  await git('init', '--quiet');
  await git('add', '--all');
  await git('commit', '--quiet', '--message', 'clean clone');
  return into;
}

/** The program: the README's example, deployed under Pulumi's mocks by `mocks.cjs`. */
const PROGRAM = `import * as pulumi from '@pulumi/pulumi';
import { EventSubscription, GeminiWebhooks, type GeminiWebhooksArgs } from '${PACKAGE_NAME}';
import { decodeGeminiEvent } from '${PACKAGE_NAME}/subscriber';

export const decoderLoaded: boolean = typeof decodeGeminiEvent === 'function';

const args: GeminiWebhooksArgs = {
  project: 'users-project',
  region: 'europe-west1',
  subscriptions: [{ name: 'billing', eventTypes: ['batch.succeeded'], push: { endpoint: 'https://billing.example.com/' } }],
};
const webhooks = new GeminiWebhooks('gemini', args);
new EventSubscription('audit', {
  project: 'users-project',
  topicPrefix: 'gemini',
  consumer: 'audit',
  eventTypes: ['*'],
});
export const receiverUrl: pulumi.Output<string> = webhooks.receiverUrl;
`;

/**
 * Pulumi's unit-testing pattern (https://www.pulumi.com/docs/iac/guides/testing/unit/): set the mocks,
 * then load the compiled program; the resources it registers are written out for the test to read.
 */
const MOCKS = `'use strict';
const { writeFileSync } = require('node:fs');
const pulumi = require('@pulumi/pulumi');

const registered = [];
Promise.resolve(
  pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered.push({ type: args.type, name: args.name, inputs: args.inputs });
        const state = { ...args.inputs };
        if (args.type === 'gcp:projects/serviceIdentity:ServiceIdentity') {
          state.email = 'service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com';
          state.member = 'serviceAccount:' + state.email;
        }
        if (args.type === 'gcp:serviceaccount/account:Account') {
          state.email = args.inputs.accountId + '@' + args.inputs.project + '.iam.gserviceaccount.com';
          state.name = 'projects/' + args.inputs.project + '/serviceAccounts/' + state.email;
        }
        if (args.type === 'gcp:cloudfunctionsv2/function:Function') {
          state.url = 'https://' + args.inputs.name + '-abc.a.run.app';
          state.serviceConfig = { ...args.inputs.serviceConfig, service: args.inputs.name };
        }
        return { id: args.name + '-id', state };
      },
      call(args) {
        return args.inputs;
      },
    },
    'users-program',
    'dev',
  ),
).then(() => {
  const program = require('./bin/index.js');
  program.receiverUrl.apply((receiverUrl) => {
    writeFileSync('registered.json', JSON.stringify({ receiverUrl, registered }));
  });
});
`;

export interface App {
  /** How the package got there. */
  how: 'tarball' | 'git' | 'directory';
  dir: string;
  /** The installed package (for a directory install, the symlink). */
  installed: string;
}

export interface Installs {
  root: string;
  /** The clean clone after `npm ci`. */
  checkout: string;
  apps: App[];
  /** Projects with nothing but the main package, and nothing but the subscriber package, from tarballs. */
  alone: { main: string; subscriber: string };
  remove(): void;
}

/** A project with only `tarball` installed, production dependencies only: what a service gets. */
async function installAlone(root: string, name: string, tarball: string): Promise<string> {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, type: 'module' }));
  await exec('npm', ['install', ...NPM_FLAGS, '--omit=dev', tarball], { cwd: dir, ...BIG });
  return dir;
}

async function makeApp(root: string, how: App['how'], spec: string): Promise<App> {
  const dir = join(root, `app-${how}`);
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify(
      {
        name: `users-program-${how}`,
        main: 'index.ts',
        private: true,
        dependencies: { '@pulumi/pulumi': lockedVersion('@pulumi/pulumi') },
        devDependencies: { '@types/node': lockedVersion('@types/node'), typescript: lockedVersion('typescript') },
      },
      null,
      2,
    ),
  );
  writeFileSync(join(dir, 'Pulumi.yaml'), `name: users-program-${how}\nruntime: nodejs\n`);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(TEMPLATE_TSCONFIG_COMMONJS, null, 2));
  writeFileSync(join(dir, 'index.ts'), PROGRAM);
  writeFileSync(join(dir, 'mocks.cjs'), MOCKS);
  await exec('npm', ['install', ...NPM_FLAGS, spec], { cwd: dir, ...BIG });
  return { how, dir, installed: join(dir, 'node_modules', PACKAGE_NAME) };
}

/** Clones, builds, packs, and installs the three ways; each step is timed into `timings`. */
export async function installEveryWay(timings: Record<string, number>): Promise<Installs> {
  const root = mkdtempSync(join(tmpdir(), 'install-paths-'));
  const timed = async <T>(what: string, step: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    const result = await step();
    timings[what] = Math.round((performance.now() - start) / 1000);
    return result;
  };
  const checkout = await timed('clone and npm ci (with the build)', async () => {
    const clone = await cleanClone(join(root, PACKAGE_NAME));
    await exec('npm', ['ci', ...NPM_FLAGS], { cwd: clone, ...BIG });
    return clone;
  });
  // `npm pack` would run `prepare` again; the build it would make is the one `npm ci` just made.
  const { stdout } = await exec('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', root], {
    cwd: checkout,
    ...BIG,
  });
  const tarball = join(root, stdout.trim().split('\n').at(-1)!);
  // The workspace package's `prepack` builds it.
  const packed = await exec(
    'npm',
    ['pack', '--silent', '--workspace', 'packages/subscriber', '--pack-destination', root],
    {
      cwd: checkout,
      ...BIG,
    },
  );
  const subscriberTarball = join(root, packed.stdout.trim().split('\n').at(-1)!);
  const [main, subscriber, ...apps] = await Promise.all([
    installAlone(root, 'main-alone', tarball),
    installAlone(root, 'subscriber-alone', subscriberTarball),
    timed('npm install <tarball>', () => makeApp(root, 'tarball', tarball)),
    timed('npm install git+file:', () => makeApp(root, 'git', `git+file://${checkout}`)),
    timed('npm install <directory>', () => makeApp(root, 'directory', checkout)),
  ]);
  return {
    root,
    checkout,
    apps: apps,
    alone: { main: main, subscriber: subscriber },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}
