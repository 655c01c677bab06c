// `gemini-webhooks replay` on the Pub/Sub emulator, which supports seek and snapshots: events a consumer
// had acknowledged come back after `--since`, only on that consumer's subscriptions (and only the types
// asked for), `--undo` puts the subscriptions back, a time older than the retention is refused with the
// retention in force, and `--dry-run` changes nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Message } from '@google-cloud/pubsub';
import { parseSince } from '../../cli/replay.ts';
import { planRoute, planRoutes, planSubscription } from '../../functions/topology.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { startPubSub, type EmulatorPubSub } from '../support/pubsub-emulator.ts';
import { runCli } from './harness.ts';

let world: EmulatorPubSub;
const PREFIX = 'rp';

before(async () => {
  world = await startPubSub();
  // Topics keep messages for an hour, as the stack's topicRetentionSeconds makes them keep them.
  for (const route of planRoutes(PREFIX))
    await world.pubsub.createTopic({ name: route.topic, messageRetentionDuration: { seconds: 3600 } });
  await createLocalTopology(world.pubsub, { topicPrefix: PREFIX, consumer: 'billing' });
  await createLocalTopology(world.pubsub, { topicPrefix: PREFIX, consumer: 'audit' });
});

after(() => world?.stop());

const env = () => ({ PUBSUB_EMULATOR_HOST: world.emulator.host, PATH: process.env['PATH'] });

/** Every message the subscription delivers until it is quiet for `quietMs`, acknowledged. */
async function drain(name: string, quietMs = 1500): Promise<string[]> {
  const subscription = world.pubsub.subscription(name);
  const ids: string[] = [];
  let timer: NodeJS.Timeout;
  await new Promise<void>((resolve) => {
    const quiet = (): void => {
      clearTimeout(timer);
      timer = setTimeout(resolve, quietMs);
    };
    subscription.on('message', (message: Message) => {
      ids.push(message.attributes['webhook_id'] ?? '');
      message.ack();
      quiet();
    });
    quiet();
  });
  await subscription.close();
  return ids.sort();
}

async function publish(route: 'batch.succeeded' | 'batch.failed', webhookId: string): Promise<void> {
  await world.pubsub.topic(planRoute(PREFIX, route).topic).publishMessage({
    data: Buffer.from('{}'),
    attributes: { webhook_id: webhookId, event_type: route },
  });
}

const sub = (route: 'batch.succeeded' | 'batch.failed', consumer: string) =>
  planSubscription(PREFIX, route, consumer).name;

test(
  'replay re-delivers what one consumer had acknowledged, only the types asked for, and --undo puts it ' + 'back',
  async () => {
    await publish('batch.succeeded', 'wh_a');
    await publish('batch.succeeded', 'wh_b');
    await publish('batch.failed', 'wh_c');
    assert.deepEqual(await drain(sub('batch.succeeded', 'billing')), ['wh_a', 'wh_b']);
    assert.deepEqual(await drain(sub('batch.failed', 'billing')), ['wh_c']);
    assert.deepEqual(await drain(sub('batch.succeeded', 'audit')), ['wh_a', 'wh_b']);

    const dry = await runCli(['replay', '--consumer', 'billing', '--since', '10m', '--prefix', PREFIX, '--dry-run'], {
      env: env(),
    });
    assert.equal(dry.code, 0, dry.err);
    assert.match(
      dry.out,
      /would keep rp-batch-succeeded-billing in snapshot rp-batch-succeeded-billing-replay-\d+, then seek it to /,
    );
    assert.match(dry.out, /Dry run: would replay 10 subscription\(s\) of consumer billing\./);
    assert.deepEqual(await drain(sub('batch.succeeded', 'billing'), 800), [], 'a dry run changes nothing');
    assert.deepEqual((await world.pubsub.getSnapshots())[0], []);

    const run = await runCli(
      ['replay', '--consumer', 'billing', '--since', '10m', '--type', 'batch.succeeded', '--prefix', PREFIX],
      { env: env() },
    );
    assert.equal(run.code, 0, run.err);
    assert.match(
      run.out,
      /^rp-batch-succeeded-billing: kept in snapshot rp-batch-succeeded-billing-replay-\d+, seeked to \d{4}-/,
    );
    assert.match(run.out, /Undo: gemini-webhooks replay --consumer billing --undo$/);
    assert.deepEqual(await drain(sub('batch.succeeded', 'billing')), ['wh_a', 'wh_b'], 'delivered again');
    assert.deepEqual(await drain(sub('batch.failed', 'billing'), 800), [], 'a type not asked for is untouched');
    assert.deepEqual(await drain(sub('batch.succeeded', 'audit'), 800), [], 'another consumer is untouched');

    // Replay again, then undo before consuming: the snapshot had both acknowledged, so nothing comes back.
    await new Promise((resolve) => setTimeout(resolve, 1100)); // a new snapshot name (whole seconds)
    const again = await runCli(
      ['replay', '--consumer', 'billing', '--since', '10m', '--type', 'batch.succeeded', '--prefix', PREFIX],
      { env: env() },
    );
    assert.equal(again.code, 0, again.err);
    const undo = await runCli(['replay', '--consumer', 'billing', '--undo', '--prefix', PREFIX], { env: env() });
    assert.equal(undo.code, 0, undo.err);
    assert.match(undo.out, /rp-batch-succeeded-billing: back where it was at /);
    assert.match(undo.out, /Undid the replay of \S+ on 1 subscription\(s\) of consumer billing\./);
    assert.deepEqual(await drain(sub('batch.succeeded', 'billing'), 1000), [], 'back where the last replay found it');
    const left = (await world.pubsub.getSnapshots())[0].map((s) => s.name.split('/').at(-1));
    assert.equal(left.length, 1, `only the first replay's snapshot is left: ${left.join(', ')}`);
  },
);

test('a time older than the retention in force is refused, saying which retention', async () => {
  const run = await runCli(['replay', '--consumer', 'billing', '--since', '2h', '--prefix', PREFIX], { env: env() });
  assert.equal(run.code, 1);
  assert.match(
    run.err,
    /^gemini-webhooks: --since \S+ is 2h back, older than the retention in force on rp-batch-succeeded-billing: the topic's message retention \(1h\)\. Choose a later time/,
  );
  assert.deepEqual((await world.pubsub.getSnapshots())[0].length, 1, 'no snapshot taken');
});

test('replay refuses bad options in one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--since', '1h'], /--consumer is required/],
    [['--consumer', 'billing'], /--since is required/],
    [['--consumer', 'billing', '--since', 'yesterday'], /--since must be an RFC 3339 time with a zone/],
    [['--consumer', 'billing', '--since', '1h', '--undo'], /either --since or --undo, not both/],
    [['--consumer', 'nobody', '--since', '1h'], /consumer nobody has no subscription in project/],
  ];
  for (const [args, message] of cases) {
    const run = await runCli(['replay', ...args, '--prefix', PREFIX], { env: env() });
    assert.notEqual(run.code, 0, args.join(' '));
    assert.match(run.err, message);
    assert.equal(run.err.split('\n').length, 1);
  }
});

test('--since takes a time with a zone or a duration back from now', () => {
  const now = new Date('2026-12-07T12:00:00Z');
  assert.equal(parseSince('6h', now).toISOString(), '2026-12-07T06:00:00.000Z');
  assert.equal(parseSince('1h30m', now).toISOString(), '2026-12-07T10:30:00.000Z');
  assert.equal(parseSince('2d', now).toISOString(), '2026-12-05T12:00:00.000Z');
  assert.equal(parseSince('2026-12-07T09:00:00+01:00', now).toISOString(), '2026-12-07T08:00:00.000Z');
  assert.throws(() => parseSince('2026-12-08T09:00:00Z', now), /in the future/);
  assert.throws(() => parseSince('2026-12-07T09:00:00', now), /with a zone/);
  assert.throws(() => parseSince('0h', now), /in the past/);
});
