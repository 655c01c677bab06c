/**
 * The package as a user gets it (test/support/packed-package.ts): packed, installed from the tarball into
 * a project of its own with production dependencies only, and used there: the `gemini-webhooks` command
 * through npx, and GeminiWebhooks deployed from the user's own Pulumi program, under Pulumi's mocks.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { cliHarness } from '../cli/harness.ts';
import { packAndInstall, type InstalledPackage } from '../support/packed-package.ts';

const exec = promisify(execFile);

let packed: InstalledPackage;
let app: string;
let installed: string;

before(
  async () => {
    packed = await packAndInstall();
    ({ app, installed } = packed);
  },
  { timeout: 600_000 },
);
after(() => packed?.remove());

test('the package ships its build and the receiver archive, and none of the tools that made them', () => {
  assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')), 'the compiled CLI');
  assert.ok(existsSync(join(installed, 'dist', 'index.js')), 'the compiled components');
  assert.ok(existsSync(join(installed, 'dist', 'receiver-archive', 'index.js')), 'the prebuilt receiver');
  assert.ok(!existsSync(join(installed, 'cli', 'main.ts')), 'no TypeScript sources');
  assert.ok(!existsSync(join(installed, 'functions')), 'no receiver sources');
  for (const tool of ['typescript', 'esbuild']) {
    assert.ok(!existsSync(join(app, 'node_modules', tool)), `${tool} is not installed for the user`);
  }
});

test("every guide the package's messages and comments point to is in the package", () => {
  const named = new Set<string>();
  const files = readdirSync(join(installed, 'dist'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.js'))
    .map((file) => join(installed, 'dist', file));
  for (const file of [...files, join(installed, 'README.md')]) {
    for (const match of readFileSync(file, 'utf8').matchAll(/\bdocs\/[a-z-]+\.md\b/g)) named.add(match[0]);
  }
  assert.ok(named.has('docs/first-deploy.md'), 'the filter-change refusal names its guide');
  for (const guide of named) assert.ok(existsSync(join(installed, guide)), `${guide} is in the package`);
});

test(
  'npx gemini-webhooks works from the installed package, running its compiled build',
  { timeout: 300_000 },
  async (t) => {
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

/**
 * The user's Pulumi program: plain JavaScript in a project of its own, importing the installed package
 * by name. Pulumi's mocks stand in for the engine; the resources it registers are written out for the
 * test to read.
 */
const PROGRAM = `
import { writeFileSync } from 'node:fs';
import * as pulumi from '@pulumi/pulumi';

const registered = [];
await pulumi.runtime.setMocks(
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
);

const { GeminiWebhooks, EventSubscription } = await import('gemini-webhooks-pubsub');
const webhooks = new GeminiWebhooks('gemini', {
  project: 'users-project',
  region: 'europe-west1',
  subscriptions: [{ name: 'billing', eventTypes: ['batch.succeeded'], push: { endpoint: 'https://billing.example.com/' } }],
});
new EventSubscription('audit', {
  project: 'users-project',
  topicPrefix: 'gemini',
  consumer: 'audit',
  eventTypes: ['*'],
});
const receiverUrl = await new Promise((resolve) => webhooks.receiverUrl.apply(resolve));
await pulumi.runtime.disconnect();
writeFileSync('registered.json', JSON.stringify({ receiverUrl, registered }));
`;

interface Registered {
  type: string;
  name: string;
  inputs: {
    project?: string;
    name?: string;
    buildConfig?: { source: { storageSource: { object: string } } };
    serviceConfig?: { environmentVariables: Record<string, string> };
  };
}

test(
  'GeminiWebhooks deploys from a Pulumi program that installed the package, without TypeScript',
  { timeout: 300_000 },
  async () => {
    writeFileSync(join(app, 'program.mjs'), PROGRAM);
    await exec(process.execPath, ['program.mjs'], { cwd: app, maxBuffer: 16 * 1024 * 1024 });
    const { receiverUrl, registered } = JSON.parse(readFileSync(join(app, 'registered.json'), 'utf8')) as {
      receiverUrl: string;
      registered: Registered[];
    };
    const ofType = (type: string) => registered.filter((r) => r.type === type);

    assert.match(receiverUrl, /^https:\/\/gemini-webhook-receiver-abc\.a\.run\.app$/);
    assert.equal(ofType('gemini-webhooks-pubsub:index:GeminiWebhooks').length, 1);
    // A topic and a dead-letter topic per route, in the user's project.
    const topics = ofType('gcp:pubsub/topic:Topic');
    assert.equal(topics.length, 20);
    assert.ok(topics.every((topic) => topic.inputs.project === 'users-project'));
    // The function is built from the archive that was packed with the package, named by its content hash.
    const manifest = JSON.parse(readFileSync(join(installed, 'dist', 'receiver-archive', 'archive.json'), 'utf8')) as {
      objectName: string;
    };
    const [fn] = ofType('gcp:cloudfunctionsv2/function:Function');
    assert.equal(fn?.inputs.buildConfig?.source.storageSource.object, manifest.objectName);
    assert.equal(ofType('gcp:storage/bucketObject:BucketObject')[0]?.inputs.name, manifest.objectName);
    assert.equal(fn?.inputs.serviceConfig?.environmentVariables['WEBHOOK_TOPIC_PREFIX'], 'gemini');
    // The consumers: billing through the component's args, audit as a component of its own.
    const subscriptions = ofType('gcp:pubsub/subscription:Subscription').map((s) => s.inputs.name ?? '');
    assert.ok(subscriptions.includes('gemini-batch-succeeded-billing'));
    assert.equal(subscriptions.filter((name) => name.endsWith('-audit')).length, 10);
    // Every resource of the deployment is named after it.
    const deployment = registered.filter((r) => !r.name.startsWith('audit'));
    assert.deepEqual(
      deployment.filter((r) => !r.name.startsWith('gemini')).map((r) => r.name),
      [],
    );
  },
);
