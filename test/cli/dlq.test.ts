// `dlq list`, `dlq replay` and `tail` end to end on the Pub/Sub emulator, with the topology the
// local stack builds (functions/topology.ts via scripts/lib/local-topology.ts): a consumer that
// nacks until Pub/Sub dead-letters the event, then a replay that delivers it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { startPubSub, type EmulatorPubSub } from '../support/pubsub-emulator.ts';
import { planRoute, planSubscription } from '../../functions/topology.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { runCli, type CliRun } from './harness.ts';
import { EMULATOR_PROJECT } from '../../functions/config.ts';

const PROJECT = EMULATOR_PROJECT;
let world: EmulatorPubSub;

before(async () => {
  world = await startPubSub();
});

after(() => world?.stop());

function cli(
  args: readonly string[],
  signal = new AbortController().signal,
  onOut?: (line: string) => void,
): Promise<CliRun> {
  const env = { PUBSUB_EMULATOR_HOST: world.emulator.host, GOOGLE_CLOUD_PROJECT: PROJECT, PATH: process.env['PATH'] };
  return runCli(args, { env, signal, ...(onOut ? { onOut } : {}) });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

interface ListJson {
  deadLetters: Array<{
    route: string;
    count: number | undefined;
    oldestAgeSeconds: number | undefined;
    sources: Record<string, number>;
  }>;
}

async function deadLetterCount(prefix: string, type: string): Promise<number | undefined> {
  const listed = await cli(['dlq', 'list', '--prefix', prefix, '--type', type, '--json']);
  assert.equal(listed.code, 0, listed.err);
  return (JSON.parse(listed.out) as ListJson).deadLetters[0]?.count;
}

function listen(name: string, onMessage: (message: Message) => void): Subscription {
  const subscription = world.pubsub.subscription(name);
  subscription.on('message', onMessage);
  subscription.on('error', () => {});
  return subscription;
}

test('a dead-lettered event is counted, survives a dry run, and a replay delivers it with replay_count', async () => {
  const prefix = 'dlqe2e';
  await createLocalTopology(world.pubsub, {
    topicPrefix: prefix,
    maxDeliveryAttempts: 5,
    minimumBackoffSeconds: 1,
    maximumBackoffSeconds: 1,
    ackDeadlineSeconds: 10,
  });
  const route = planRoute(prefix, 'batch.failed');
  const consumer = planSubscription(prefix, 'batch.failed', 'local');
  const data = Buffer.from(JSON.stringify(sampleEvent('batch.failed')));
  const attributes = {
    webhook_id: 'msg_dead_1',
    event_type: 'batch.failed',
    event_route: 'batch.failed',
    verification_scheme: 'static-v1',
    user_metadata_tenant: 'acme',
  };

  // A consumer that always fails.
  let attempts = 0;
  const failing = listen(consumer.name, (message) => {
    attempts++;
    message.nack();
  });
  try {
    await world.pubsub.topic(route.topic).publishMessage({ data, attributes });
    await until('the event to be dead-lettered', async () =>
      (await deadLetterCount(prefix, 'batch.failed')) === 1 ? true : undefined,
    );
  } finally {
    await failing.close();
  }
  assert.ok(attempts >= 5, `the consumer saw ${attempts} attempts`);

  const table = await cli(['dlq', 'list', '--prefix', prefix]);
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /batch\.failed\s+1\s+\S+\s+dlqe2e-batch-failed-local \(1\)/);
  assert.match(table.out, /batch\.succeeded\s+0/);
  assert.match(table.out, /1 dead letter\(s\)/);
  const two = await cli(['dlq', 'list', '--prefix', prefix, '--type', 'batch.failed', '--type', 'batch.expired']);
  assert.equal(two.code, 0, two.err);
  assert.match(two.out, /batch\.failed\s+1/);
  assert.match(two.out, /batch\.expired\s+0/);
  assert.doesNotMatch(two.out, /batch\.succeeded/, '--type lists only the types given');

  const dry = await cli(['dlq', 'replay', '--prefix', prefix, '--type', 'batch.failed', '--dry-run']);
  assert.equal(dry.code, 0, dry.err);
  assert.match(
    dry.out,
    /would replay .* webhook_id=msg_dead_1 from dlqe2e-batch-failed-local -> topic dlqe2e-batch-failed \(replay_count=1\)/,
  );
  assert.equal(await deadLetterCount(prefix, 'batch.failed'), 1, 'a dry run leaves the dead letter');

  // The consumer is fixed; the replay reaches it.
  const received: Message[] = [];
  const healthy = listen(consumer.name, (message) => {
    received.push(message);
    message.ack();
  });
  try {
    const replay = await cli(['dlq', 'replay', '--prefix', prefix, '--type', 'batch.failed']);
    assert.equal(replay.code, 0, replay.err);
    assert.match(replay.out, /Replayed 1 dead letter\(s\) of batch\.failed/);
    const [message] = await until('the replayed event', async () => (received.length > 0 ? received : undefined));
    assert.deepEqual(message!.data, data);
    assert.equal(message!.attributes['webhook_id'], 'msg_dead_1');
    assert.equal(message!.attributes['user_metadata_tenant'], 'acme');
    assert.equal(message!.attributes['replay_count'], '1');
    assert.ok(!Object.keys(message!.attributes).some((key) => key.startsWith('CloudPubSubDeadLetter')));
  } finally {
    await healthy.close();
  }
  assert.equal(await deadLetterCount(prefix, 'batch.failed'), 0, 'the dead letter was acknowledged');
});

test('replay leaves what it cannot republish in place and honours --limit', async () => {
  const prefix = 'dlqskip';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const route = planRoute(prefix, 'video.generated');
  const deadLetters = world.pubsub.topic(route.deadLetterTopic);
  const source = planSubscription(prefix, 'video.generated', 'local').name;
  // Shaped like Pub/Sub's own dead letters: one without a source, one from a deleted subscription, two good.
  await deadLetters.publishMessage({ data: Buffer.from('{}'), attributes: { webhook_id: 'no-source' } });
  await deadLetters.publishMessage({
    data: Buffer.from('{}'),
    attributes: {
      webhook_id: 'gone',
      CloudPubSubDeadLetterSourceSubscription: 'deleted-subscription',
      CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT,
    },
  });
  for (const id of ['ok-1', 'ok-2']) {
    await deadLetters.publishMessage({
      data: Buffer.from('{}'),
      attributes: {
        webhook_id: id,
        replay_count: '2',
        CloudPubSubDeadLetterSourceSubscription: source,
        CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT,
      },
    });
  }
  const received: Message[] = [];
  const consumer = listen(source, (message) => {
    received.push(message);
    message.ack();
  });
  try {
    const replay = await cli(['dlq', 'replay', '--prefix', prefix, '--type', 'video.generated']);
    assert.equal(replay.code, 0, replay.err);
    assert.match(replay.err, /skip .*webhook_id no-source.*no CloudPubSubDeadLetterSourceSubscription attribute/);
    assert.match(replay.err, /skip .*webhook_id gone.*deleted-subscription no longer exists/);
    assert.match(replay.out, /Replayed 2 dead letter\(s\) of video\.generated; skipped 2/);
    await until('both replays', async () => (received.length >= 2 ? true : undefined));
    assert.deepEqual(
      received.map((m) => m.attributes['replay_count']),
      ['3', '3'],
    );
  } finally {
    await consumer.close();
  }
  assert.equal(await deadLetterCount(prefix, 'video.generated'), 2, 'the skipped ones stay');

  // Source topic deleted: Pub/Sub points the subscription at `_deleted-topic_`, the publish fails.
  await deadLetters.publishMessage({
    data: Buffer.from('{}'),
    attributes: {
      webhook_id: 'orphan',
      CloudPubSubDeadLetterSourceSubscription: source,
      CloudPubSubDeadLetterSourceSubscriptionProject: PROJECT,
    },
  });
  await world.pubsub.topic(route.topic).delete();
  const failed = await cli(['dlq', 'replay', '--prefix', prefix, '--type', 'video.generated', '--limit', '3']);
  assert.equal(failed.code, 1);
  assert.match(failed.err, /failed .*webhook_id=orphan/);
  assert.equal(await deadLetterCount(prefix, 'video.generated'), 3, 'nothing was acknowledged without a republish');
});

test('tail prints events from its own subscription and deletes it when stopped', async () => {
  const prefix = 'tailing';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const stop = new AbortController();
  let started!: () => void;
  const seen = new Promise<void>((resolve) => (started = resolve));
  const running = cli(['tail', '--prefix', prefix, '--type', 'batch.succeeded'], stop.signal, (line) => {
    if (line.includes('webhook_id=msg_tail_1')) started();
  });
  const topic = planRoute(prefix, 'batch.succeeded').topic;
  const tailSubscription = await until('the tail subscription', async () => {
    const [subscriptions] = await world.pubsub.topic(topic).getSubscriptions();
    return subscriptions.find((s) => s.name.includes('-tail-'))?.name;
  });
  assert.match(tailSubscription, /tailing-batch-succeeded-tail-[0-9a-f]{8}$/);
  await world.pubsub.topic(topic).publishMessage({
    data: Buffer.from(JSON.stringify(sampleEvent('batch.succeeded'))),
    attributes: {
      webhook_id: 'msg_tail_1',
      event_type: 'batch.succeeded',
      event_route: 'batch.succeeded',
      verification_scheme: 'jwt',
      user_metadata_job: 'nightly',
    },
  });
  await seen;
  stop.abort();
  const result = await running;
  assert.equal(result.code, 0, result.err);
  assert.match(
    result.out,
    /batch\.succeeded type=batch\.succeeded webhook_id=msg_tail_1 scheme=jwt .*metadata job=nightly/,
  );
  const [remaining] = await world.pubsub.topic(topic).getSubscriptions();
  assert.deepEqual(
    remaining.map((s) => s.name.split('/').at(-1)),
    [planSubscription(prefix, 'batch.succeeded', 'local').name],
  );
  assert.match(result.err, /Deleted 1 temporary subscription/);
});

test('Pub/Sub commands need a project and a real prefix', async () => {
  const noProject = await runCli(['dlq', 'list'], { env: {} });
  assert.equal(noProject.code, 1);
  assert.match(noProject.err, /No Google Cloud project: pass --project or set GOOGLE_CLOUD_PROJECT/);
  const bad = await cli(['dlq', 'replay', '--type', 'batch.completed']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--type must be one of/);
  const missing = await cli(['dlq', 'replay', '--type', 'batch.failed', '--prefix', 'nosuchprefix']);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /dead-letter subscription nosuchprefix-batch-failed-dead-letter does not exist/);
});
