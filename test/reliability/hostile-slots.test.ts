/**
 * Unsigned senders that never finish their bodies, against the receiver process and the real
 * emulator, while genuine signed deliveries keep coming.
 *
 * The adversarial pass: 256 connections sending well-formed but unsigned headers with
 * `Content-Length: 1000` and no body, reconnecting when answered, took every delivery slot
 * (`maxInFlight`, 256) for ten seconds at a time; 46 of 48 genuine deliveries were answered 503.
 * A slot is now taken only once a body is complete, and incomplete bodies share a budget of bytes
 * actually received, so neither flood below can make a genuine delivery wait for a slot.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import { PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { assertInvariants, checkInvariants } from './invariants.ts';
import { sendRaw, type RawRequest, type RawResponse } from '../support/raw-http.ts';
import { envelope, SenderSimulator, type DeliveryRecord } from './sender-simulator.ts';

const secret = generateSigningSecret();
/** Small enough that the second flood overflows the 16 MiB budget for incomplete bodies. */
const MAX_BODY_BYTES = 256 * 1024;

let world: PubSubWorld;
let receiver: ReceiverHandle;
let floodRequests = 0;
const genuine: DeliveryRecord[] = [];

before(async () => {
  world = await PubSubWorld.start();
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static',
    // Generous: this file is about slots, and a publish slowed by a busy machine is not a slot taken.
    WEBHOOK_PUBLISH_TIMEOUT_MS: '10000',
    WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  });
});

after(async () => {
  await receiver?.stop();
  await world?.stop();
});

/**
 * `connections` loops, each sending `request()` and (unless `once`) reconnecting as soon as it is
 * answered, until `stop()`. `answered` resolves once `count` flood requests have been answered.
 */
function flood(connections: number, request: (n: number) => RawRequest, once = false) {
  let running = true;
  const statuses: Record<string, number> = {};
  let answers = 0;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const loops = Array.from({ length: connections }, async (_, loop) => {
    for (let n = 0; running && !(once && n > 0); n++) {
      floodRequests++;
      const answer: RawResponse = await sendRaw(receiver.port, request(loop * 100_000 + n), 60_000);
      statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
      answers++;
      for (const waiter of waiters.filter((w) => answers >= w.count)) waiter.resolve();
    }
  });
  return {
    statuses,
    answered: (count: number) =>
      new Promise<void>((resolve) => (answers >= count ? resolve() : waiters.push({ count, resolve }))),
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

function unsignedHeaders(n: number): [string, string][] {
  return [
    ['Content-Type', 'application/json'],
    ['webhook-id', `a${n}`],
    ['webhook-timestamp', String(Math.floor(Date.now() / 1000))],
    ['webhook-signature', 'v1,AAAA'],
  ];
}

/** Genuine deliveries, a few at a time, each answered 2xx or not on its one attempt, until `until` settles. */
async function deliverGenuineUntil(until: Promise<void>, label: string): Promise<DeliveryRecord[]> {
  const sender = new SenderSimulator({
    url: receiver.url,
    secret,
    concurrency: 4,
    maxAttempts: 1,
    attemptTimeoutMs: 30_000,
  });
  let done = false;
  void until.then(() => (done = true));
  const records: DeliveryRecord[] = [];
  try {
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; !done; i++)
          records.push(await sender.deliver({ body: envelope('batch.succeeded', `${label}-${worker}-${i}`) }));
      }),
    );
  } finally {
    sender.destroy();
  }
  genuine.push(...records);
  return records;
}

const firstAttempts = (records: readonly DeliveryRecord[]) => records.map((r) => r.attempts[0]?.status);

describe('unsigned floods that never finish their bodies', { timeout: 180_000 }, () => {
  test(
    '256 connections declaring 1000 bytes and sending none: ' + 'every genuine delivery meanwhile is answered 2xx',
    async () => {
      const attack = flood(256, (n) => ({ headers: unsignedHeaders(n), body: Buffer.alloc(0), framing: 1000 }));
      // The first answer comes one body deadline after the flood began: from then on every slot
      // would have been taken. Genuine deliveries run until the flood has been answered twice over.
      await attack.answered(1);
      const records = await deliverGenuineUntil(attack.answered(2 * 256), 'declared');
      await attack.stop();
      const genuineStatuses = firstAttempts(records).reduce<Record<string, number>>(
        (m, s) => ({ ...m, [String(s)]: (m[String(s)] ?? 0) + 1 }),
        {},
      );
      console.log(
        `hostile-slots/declared: ${records.length} genuine deliveries ${JSON.stringify(genuineStatuses)}, ` +
          `flood answers ${JSON.stringify(attack.statuses)}`,
      );
      assert.ok(records.length >= 20, `enough genuine deliveries ran during the flood (${records.length})`);
      assert.deepEqual(
        [...new Set(firstAttempts(records))],
        [200],
        'every genuine delivery answered 2xx on its first attempt',
      );
      assert.deepEqual(Object.keys(attack.statuses), ['408'], 'the flood gets 408, body not received');
    },
  );

  test(
    '80 connections each stalling after 250,000 of 262,144 bytes (20 MB held): ' +
      'the idlest are cut, genuine deliveries keep 2xx',
    async () => {
      const body = Buffer.alloc(MAX_BODY_BYTES, 0x20);
      const attack = flood(80, (n) => ({ headers: unsignedHeaders(n), body, stallAfterBytes: 250_000 }), true);
      // Once the budget overflows, the body idle longest is answered 503 at once; the others wait
      // out the idle limit (2 s without a byte) and get 408.
      const records = await deliverGenuineUntil(attack.answered(80), 'stalled');
      await attack.stop();
      console.log(
        `hostile-slots/stalled: ${records.length} genuine deliveries, flood answers ${JSON.stringify(attack.statuses)}`,
      );
      assert.ok(records.length >= 10, `enough genuine deliveries ran during the flood (${records.length})`);
      assert.deepEqual(
        [...new Set(firstAttempts(records))],
        [200],
        'every genuine delivery answered 2xx on its first attempt',
      );
      assert.ok(
        (attack.statuses['503'] ?? 0) > 0,
        `bodies over the budget were cut with 503 (${JSON.stringify(attack.statuses)})`,
      );
      assert.deepEqual(
        Object.keys(attack.statuses).filter((s) => s !== '503' && s !== '408'),
        [],
        'the rest timed out with 408',
      );
    },
  );

  test('nothing the floods sent reached Pub/Sub, and every genuine delivery did', async () => {
    const report = checkInvariants(genuine, await world.drain());
    recordFigures('hostile-slots', {
      hostileCasesTried: floodRequests,
      deliveriesSent: report.deliveries,
      attempts: report.attempts,
      acknowledged: report.acknowledged,
      acknowledgedButLost: report.acknowledgedButLost.length,
      forgedAccepted: report.unexplainedMessages.length,
    });
    assertInvariants(report, { everyDeliveryAcknowledged: true });
    assert.ok(receiver.alive());
  });
});
