/**
 * Every install path the README names, from a clean clone (test/support/install-paths.ts): for each,
 * Pulumi's plugin host serves the components and their schema over gRPC with the user's program as its
 * working directory (test/support/plugin-host.ts), `npx gemini-webhooks --help` works, and a program
 * made from Pulumi's TypeScript template (CommonJS) compiles against the package and deploys the
 * component under Pulumi's mocks. Slow (several minutes, mostly npm), so it runs in a process of its own,
 * beside the rest of the suite.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  installEveryWay,
  PACKAGE_NAME,
  TEMPLATE_TSCONFIG_COMMONJS,
  TEMPLATE_TSCONFIG_NODENEXT,
  type Installs,
} from '../support/install-paths.ts';
import { startPluginHost } from '../support/plugin-host.ts';

const exec = promisify(execFile);
const timings: Record<string, number> = {};
let installs: Installs;
/** The schema the clean clone's plugin host serves; every installed copy must serve the same. */
let checkoutSchema: Record<string, unknown>;

before(
  async () => {
    installs = await installEveryWay(timings);
  },
  { timeout: 1_800_000 },
);
after(() => {
  installs?.remove();
  process.stdout.write(`install timings (s): ${JSON.stringify(timings)}\n`);
});

async function schemaFrom(pluginDir: string, programDir: string): Promise<Record<string, unknown>> {
  const host = await startPluginHost(pluginDir, programDir);
  try {
    return await host.getSchema();
  } finally {
    await host.stop();
  }
}

describe("Pulumi's plugin host", { timeout: 900_000 }, () => {
  it('serves both components from a checkout, started in a TypeScript program of the template', async () => {
    const program = installs.apps[0]!.dir;
    checkoutSchema = await schemaFrom(installs.checkout, program);
    assert.equal(checkoutSchema['name'], PACKAGE_NAME);
    assert.deepEqual(Object.keys(checkoutSchema['resources'] as object).sort(), [
      `${PACKAGE_NAME}:index:EventSubscription`,
      `${PACKAGE_NAME}:index:GeminiWebhooks`,
    ]);
    const types = checkoutSchema['types'] as Record<string, unknown>;
    assert.ok(types[`${PACKAGE_NAME}:index:EventType`], 'the refined schema, with its enums');
  });

  for (const how of ['tarball', 'git', 'directory'] as const) {
    it(`serves the same schema from a ${how} install, with the program as working directory`, async () => {
      assert.ok(checkoutSchema, 'the checkout was served first');
      const app = installs.apps.find((a) => a.how === how)!;
      assert.deepEqual(await schemaFrom(app.installed, app.dir), checkoutSchema);
    });
  }
});

describe('each install', { timeout: 900_000 }, () => {
  for (const how of ['tarball', 'git', 'directory'] as const) {
    const app = () => installs.apps.find((a) => a.how === how)!;

    it(`${how}: carries the plugin's files and its build`, () => {
      for (const file of ['PulumiPlugin.yaml', 'tsconfig.json', 'index.ts', 'dist/provider.js', 'dist/index.d.ts'])
        assert.ok(existsSync(join(app().installed, file)), `${file} is installed`);
      assert.ok(existsSync(join(app().installed, 'dist', 'receiver-archive', 'archive.json')), 'the receiver archive');
    });

    it(`${how}: npx gemini-webhooks --help`, async () => {
      const env = { ...process.env, npm_config_update_notifier: 'false' };
      const { stdout } = await exec('npx', ['--offline', 'gemini-webhooks', '--help'], { cwd: app().dir, env });
      assert.match(stdout, /^usage: gemini-webhooks /m);
    });

    it(`${how}: a program with the template's CommonJS tsconfig compiles and deploys the component`, async () => {
      const { dir } = app();
      const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
      await exec(process.execPath, [tsc, '-p', '.'], { cwd: dir });
      await exec(process.execPath, ['mocks.cjs'], { cwd: dir, maxBuffer: 16 * 1024 * 1024 });
      const compiled = readFileSync(join(dir, 'bin', 'index.js'), 'utf8');
      assert.match(
        compiled,
        /require\("gemini-webhooks-pubsub\/subscriber"\)/,
        'CommonJS, and the kit by its old path',
      );
      const { receiverUrl, registered } = JSON.parse(readFileSync(join(dir, 'registered.json'), 'utf8')) as {
        receiverUrl: string;
        registered: { type: string; inputs: { name?: string } }[];
      };
      assert.match(receiverUrl, /^https:\/\/gemini-webhook-receiver-abc\.a\.run\.app$/);
      const ofType = (type: string) => registered.filter((r) => r.type === type);
      assert.equal(ofType(`${PACKAGE_NAME}:index:GeminiWebhooks`).length, 1);
      assert.equal(ofType(`${PACKAGE_NAME}:index:EventSubscription`).length, 2);
      const subscriptions = ofType('gcp:pubsub/subscription:Subscription').map((s) => s.inputs.name);
      assert.ok(subscriptions.includes('gemini-batch-succeeded-billing'));
    });
  }

  it("the same program type-checks with the template's tsconfig since March 2026 (nodenext)", async () => {
    const { dir } = installs.apps.find((a) => a.how === 'tarball')!;
    writeFileSync(join(dir, 'tsconfig.nodenext.json'), JSON.stringify(TEMPLATE_TSCONFIG_NODENEXT));
    const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    await exec(process.execPath, [tsc, '-p', 'tsconfig.nodenext.json', '--noEmit'], { cwd: dir });
    assert.equal(TEMPLATE_TSCONFIG_COMMONJS.compilerOptions.module, 'commonjs');
  });
});

/** Bytes on disk under `dir`, as `du` counts them. */
async function diskUsage(dir: string): Promise<number> {
  const { stdout } = await exec('du', ['-sk', dir]);
  return Number(stdout.split('\t')[0]) * 1024;
}

/** Every package under node_modules, scoped ones as `@scope/name`. */
function installedPackages(dir: string): string[] {
  const modules = join(dir, 'node_modules');
  return readdirSync(modules)
    .filter((name) => !name.startsWith('.'))
    .flatMap((name) =>
      name.startsWith('@') ? readdirSync(join(modules, name)).map((inner) => `${name}/${inner}`) : [name],
    );
}

describe('the subscriber package', { timeout: 300_000 }, () => {
  it('installs with jose alone, no Pulumi and no Functions Framework, and decodes', async () => {
    const { subscriber } = installs.alone;
    assert.deepEqual(installedPackages(subscriber).sort(), ['gemini-webhooks-pubsub-subscriber', 'jose']);
    const script = `
      import { decodeGeminiEvent, GeminiEventDecodeError, createPushHandler } from 'gemini-webhooks-pubsub-subscriber';
      try { decodeGeminiEvent({ data: Buffer.from('{}'), attributes: {} }); } catch (error) {
        console.log(error instanceof GeminiEventDecodeError, typeof createPushHandler);
      }`;
    const { stdout } = await exec(process.execPath, ['--input-type=module', '-e', script], { cwd: subscriber });
    assert.equal(stdout.trim(), 'true function');
  });

  it('is a small fraction of the main package to install (figures in the report)', async () => {
    const main = await diskUsage(join(installs.alone.main, 'node_modules'));
    const subscriber = await diskUsage(join(installs.alone.subscriber, 'node_modules'));
    process.stdout.write(
      `install size (production dependencies): gemini-webhooks-pubsub ${(main / 1e6).toFixed(1)} MB in ` +
        `${installedPackages(installs.alone.main).length} packages; gemini-webhooks-pubsub-subscriber ` +
        `${(subscriber / 1e6).toFixed(2)} MB in ${installedPackages(installs.alone.subscriber).length}\n`,
    );
    assert.ok(installedPackages(installs.alone.main).includes('@pulumi/pulumi'));
    assert.ok(subscriber * 20 < main, `${subscriber} bytes against ${main}`);
  });
});
