/**
 * The deployable artifact, not the sources: the archive the Pulumi program uploads is written to
 * a directory, installed with `npm ci` from its own pruned lockfile (offline, from the cache the
 * repository's own install filled), and served by the Functions Framework it installed, as Cloud
 * Build and Cloud Run would. A signed delivery must then reach Pub/Sub, byte for byte.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { buildReceiverSource, DEFAULT_SOURCE_OPTIONS } from '../../infra/archive.ts';
import { planSubscription } from '../../functions/topology.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { freePort, startEmulator, type Emulator } from '../../scripts/lib/emulator.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { startReceiverProcess, type ReceiverProcess } from '../../scripts/lib/receiver-process.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { post, signStatic } from '../support/deliveries.ts';

const PROJECT = 'archive-project';
let dir: string;
let emulator: Emulator | undefined;
let pubsub: PubSub | undefined;
let receiver: ReceiverProcess | undefined;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemini-receiver-archive-'));
  const archive = buildReceiverSource(DEFAULT_SOURCE_OPTIONS);
  for (const [name, content] of archive.files) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
});

after(async () => {
  await receiver?.stop();
  await pubsub?.close();
  await emulator?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the archive installs with npm ci from its own lockfile', () => {
  const install = spawnSync('npm', ['ci', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(install.status, 0, `npm ci failed:\n${install.stdout}\n${install.stderr}`);
});

test('the installed archive serves a signed delivery into Pub/Sub', async () => {
  emulator = await startEmulator();
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
  await createLocalTopology(pubsub, { topicPrefix: 'gemini', consumer: 'archive' });
  const secret = generateSigningSecret();
  receiver = await startReceiverProcess({
    port: await freePort(),
    deployedDir: dir,
    env: { PUBSUB_EMULATOR_HOST: emulator.host, GOOGLE_CLOUD_PROJECT: PROJECT, WEBHOOK_SIGNING_SECRETS: secret },
  });

  const received = new Promise<Message>((resolve) => {
    const subscription = pubsub!.subscription(planSubscription('gemini', 'batch.succeeded', 'archive').name);
    subscription.on('message', (message: Message) => {
      message.ack();
      void subscription.close();
      resolve(message);
    });
  });
  const delivery = signStatic(secret, sampleEvent('batch.succeeded'));
  const response = await post(receiver.url, delivery);
  assert.equal(response.status, 200, `${response.body}\n${receiver.output().slice(-2000)}`);
  const message = await received;
  assert.deepEqual(message.data, delivery.body);
  assert.equal(message.attributes['webhook_id'], delivery.headers['webhook-id']);
});
