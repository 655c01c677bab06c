// `gemini-webhooks check` end to end on the local stack (the Pub/Sub emulator, the receiver under the
// Functions Framework, consumer subscriptions) and the fake WebhookService, which delivers a signed ping
// to the receiver as Gemini does. Each failure is provoked once: a wrong secret stored, the webhook
// disabled, a ping that never arrives, a subscription without a dead-letter policy; and Ctrl-C during
// the ping. The cloud-only hops are tested on the answers of the real Secret Manager protos (the fake
// gRPC server) and of the REST APIs as their references document them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { SUBSCRIBABLE_EVENT_TYPES } from '../../functions/catalog.ts';
import { planRoute } from '../../functions/topology.ts';
import { secretStoreHop } from '../../cli/check/receiver-hops.ts';
import { hostLabel, TEMPORARY_LABEL } from '../../cli/temporary-subscriptions.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { startFakeSecretManager } from '../support/fake-secret-manager.ts';
import { PREFIX, PROJECT, startLocalStack, type LocalStack } from '../support/local-stack.ts';
import { startFakeWebhookService, type FakeWebhookService } from './fake-webhook-service.ts';
import { runCli, type CliRun } from './harness.ts';
import { spawnSync } from 'node:child_process';

let stack: LocalStack;
let service: FakeWebhookService;
let dir: string;

before(async () => {
  stack = await startLocalStack();
  service = await startFakeWebhookService();
  service.deliverPings = true;
  dir = mkdtempSync(join(tmpdir(), 'check-'));
});

after(async () => {
  await service?.close();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A webhook pointing at the local receiver, holding `secret` as its current signing secret. */
function registerWebhook(secret: string, state = 'enabled'): string {
  service.webhooks.clear();
  const now = new Date().toISOString();
  service.webhooks.set('wh_local', {
    id: 'wh_local',
    uri: stack.receiver.url,
    subscribed_events: [...SUBSCRIBABLE_EVENT_TYPES],
    state,
    secrets: [{ secret }],
    createTime: now,
    updateTime: now,
  });
  return 'wh_local';
}

function devStackFile(secret: string): string {
  const file = join(dir, `dev-stack-${Math.random().toString(16).slice(2)}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      url: stack.receiver.url,
      secret,
      pubsubEmulatorHost: stack.emulator.host,
      projectId: PROJECT,
      topicPrefix: PREFIX,
    }),
  );
  return file;
}

function check(file: string, extra: string[] = [], signal?: AbortSignal): Promise<CliRun> {
  return runCli(['check', '--dev-stack', file, ...extra], {
    env: { GEMINI_API_KEY: service.apiKey, GEMINI_API_BASE_URL: service.baseUrl, PATH: process.env['PATH'] },
    ...(signal ? { signal } : {}),
  });
}

function line(run: CliRun, hop: string): string {
  return run.out.split('\n').find((l) => l.slice(8).startsWith(`${hop}:`)) ?? `(no line for ${hop} in:\n${run.out})`;
}

async function temporarySubscriptions(): Promise<string[]> {
  const [subscriptions] = await stack.pubsub.getSubscriptions();
  return subscriptions
    .map((s) => s.name.split('/').at(-1)!)
    .filter((name) => /-(check|listen|tail)-[0-9a-f]{8}$/.test(name));
}

test('check passes every hop of a working local stack, the ping with its time', async () => {
  registerWebhook(stack.secrets[0]!);
  const run = await check(devStackFile(stack.secrets[0]!));
  assert.equal(run.code, 0, `${run.out}\n${run.err}`);
  assert.match(
    line(run, 'stack'),
    /^passed {2}stack: local stack \(.*\): project e2e-project, receiver http:\/\/127\.0\.0\.1:\d+\/, prefix gemini\.$/,
  );
  assert.match(
    line(run, 'receiver'),
    /^passed {2}receiver: .* answers a wrongly signed POST with 401 and a GET with 405/,
  );
  assert.match(line(run, 'secret store'), /^skipped secret store: the local stack hands its secret to the receiver/);
  assert.match(line(run, 'webhook'), /^passed {2}webhook: wh_local is enabled and subscribed to batch\.succeeded/);
  assert.match(
    line(run, 'signing secrets'),
    /^passed {2}signing secrets: the webhook's current secret whsec_\.\.\.\S{4} is stored as #1/,
  );
  assert.match(
    line(run, 'ping'),
    /^passed {2}ping: Gemini's ping reached gemini-unrouted in \d+\.\d s \(webhook_id msg_ping_[0-9a-f]+, static-v1\)\.$/,
  );
  assert.match(line(run, 'consumer e2e'), /^passed {2}consumer e2e: 10 subscription\(s\) exist, each dead-lettering/);
  assert.equal(line(run, 'iam e2e'), 'skipped iam e2e: the emulator has no IAM.');
  assert.match(run.out, /\d+ passed, 0 failed, 2 skipped: every hop that could be checked works\.$/);
  assert.deepEqual(await temporarySubscriptions(), [], 'the ping subscription is deleted');

  const json = await check(devStackFile(stack.secrets[0]!), ['--json']);
  assert.equal(json.code, 0);
  const parsed = JSON.parse(json.out) as { ok: boolean; results: Array<{ hop: string; status: string; ms?: number }> };
  assert.equal(parsed.ok, true);
  assert.ok(typeof parsed.results.find((r) => r.hop === 'ping')?.ms === 'number');
});

test("a stored secret that is not the webhook's fails, saying every delivery is refused and what to do", async () => {
  registerWebhook(stack.secrets[0]!);
  const run = await check(devStackFile(generateSigningSecret()));
  assert.equal(run.code, 1);
  assert.match(
    line(run, 'signing secrets'),
    /^failed {2}signing secrets: none of the webhook's secrets \(whsec_\.\.\.\S{4}\) is among the 1 stored: the receiver refuses every delivery with 401\. Fix: `gemini-webhooks webhooks rotate wh_local`/,
  );
});

test('a disabled webhook fails with the command that enables it, and the ping is skipped', async () => {
  registerWebhook(stack.secrets[0]!, 'disabled');
  const run = await check(devStackFile(stack.secrets[0]!));
  assert.equal(run.code, 1);
  assert.equal(
    line(run, 'webhook'),
    'failed  webhook: webhook wh_local is disabled: Gemini sends nothing to it. Fix: `gemini-webhooks ' +
      'webhooks enable wh_local`.',
  );
  assert.equal(line(run, 'ping'), 'skipped ping: no enabled webhook delivers to this receiver.');
});

test('a ping that never arrives fails after the timeout, and the temporary subscription is gone', async () => {
  // Gemini signs with a secret the running receiver does not hold (it was stored, never deployed).
  const undeployed = generateSigningSecret();
  registerWebhook(undeployed);
  service.pingAnswers.length = 0;
  const run = await check(devStackFile(undeployed), ['--ping-timeout', '3']);
  assert.equal(run.code, 1);
  assert.match(
    line(run, 'ping'),
    /^failed {2}ping: Gemini accepted the ping, but no event reached gemini-unrouted within 3 s\. Fix: read the receiver's log lines/,
  );
  assert.deepEqual(service.pingAnswers, [401], 'the receiver refused the ping');
  assert.deepEqual(await temporarySubscriptions(), []);
});

test('a consumer subscription without a dead-letter policy fails with the fix', async () => {
  registerWebhook(stack.secrets[0]!);
  const topic = planRoute(PREFIX, 'batch.failed').topic;
  await stack.pubsub.topic(topic).createSubscription(`${topic}-broken`);
  try {
    const run = await check(devStackFile(stack.secrets[0]!));
    assert.equal(run.code, 1);
    assert.match(
      line(run, 'consumer broken'),
      /^failed {2}consumer broken: gemini-batch-failed-broken has no dead-letter policy \(a failing message is redelivered forever\)\. Fix: gcloud pubsub subscriptions update gemini-batch-failed-broken --dead-letter-topic=gemini-batch-failed-dead-letter/,
    );
    assert.match(line(run, 'consumer e2e'), /^passed/);
  } finally {
    await stack.pubsub.subscription(`${topic}-broken`).delete();
  }
});

test('Ctrl-C during the ping deletes the temporary subscription', async () => {
  registerWebhook(stack.secrets[0]!);
  service.deliverPings = false;
  const stop = new AbortController();
  try {
    const running = check(devStackFile(stack.secrets[0]!), [], stop.signal);
    for (let i = 0; i < 400 && (await temporarySubscriptions()).length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 25));
    assert.equal((await temporarySubscriptions()).length, 1, 'the ping subscription exists while it waits');
    stop.abort();
    const run = await running;
    assert.equal(line(run, 'ping'), 'skipped ping: interrupted before the ping arrived.');
    assert.deepEqual(await temporarySubscriptions(), []);
  } finally {
    service.deliverPings = true;
  }
});

test('check removes a temporary subscription whose process on this machine is gone, and no other', async () => {
  registerWebhook(stack.secrets[0]!);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const topic = stack.pubsub.topic(planRoute(PREFIX, 'batch.succeeded').topic);
  const labels = (pid: string, host = hostLabel()) => ({
    [TEMPORARY_LABEL]: 'listen',
    'gemini-webhooks-host': host,
    'gemini-webhooks-pid': pid,
    'gemini-webhooks-created': '1700000000',
  });
  await topic.createSubscription('gemini-batch-succeeded-listen-0000dead', { labels: labels(dead.stdout) });
  await topic.createSubscription('gemini-batch-succeeded-listen-0000a11e', { labels: labels(String(process.pid)) });
  await topic.createSubscription('gemini-batch-succeeded-listen-00000e15', {
    labels: labels(dead.stdout, 'elsewhere'),
  });
  const run = await check(devStackFile(stack.secrets[0]!));
  assert.match(
    run.err,
    /Deleted 1 temporary subscription\(s\) an earlier command left behind: gemini-batch-succeeded-listen-0000dead\./,
  );
  assert.deepEqual((await temporarySubscriptions()).sort(), [
    'gemini-batch-succeeded-listen-00000e15',
    'gemini-batch-succeeded-listen-0000a11e',
  ]);
  for (const name of await temporarySubscriptions()) await stack.pubsub.subscription(name).delete();
});

test('an unreadable deployment is one failed line with the fix, and nothing else is tried', async () => {
  const run = await check(join(dir, 'missing.json'));
  assert.equal(run.code, 1);
  assert.match(
    run.out,
    /^failed {2}stack: cannot read the local stack's file .*missing\.json \(ENOENT\)\. Fix: start the local stack with `npm start`/,
  );
  assert.match(run.out, /skipped everything else: needs the deployment's outputs\./);
});

test(
  "the secret store hop reads Secret Manager as the receiver does: versions, and the stack's secrets " + 'among them',
  async () => {
    const fake = await startFakeSecretManager({ secretName: 'projects/p/secrets/gemini-webhook-signing-secrets' });
    const client = fake.client();
    try {
      const [a, b] = [generateSigningSecret(), generateSigningSecret()];
      const none = await secretStoreHop(client, fake.secretName, [a]);
      assert.equal(none.status, 'failed');
      assert.match(none.detail, /has no enabled version: the receiver refuses every static delivery/);
      fake.addVersion(a);
      const ok = await secretStoreHop(client, fake.secretName, [a]);
      assert.equal(ok.status, 'passed', ok.detail);
      assert.match(ok.detail, /has 1 enabled version\(s\), the stack's secrets among them/);
      const stale = await secretStoreHop(client, fake.secretName, [b, a]);
      assert.equal(stale.status, 'failed');
      assert.match(stale.detail, /1 of the stack's 2 signing secrets \([0-9a-f]{12}\) are not enabled versions/);
      assert.equal(stale.fix, '`pulumi up`.');
    } finally {
      await client.close();
      await fake.close();
    }
  },
);
