/**
 * The budget for incomplete bodies, and the body deadline, turned against genuine deliveries
 * (issue 20, items 2 and 3), against the receiver process and the real emulator.
 *
 * The second adversarial pass: when the 16 MiB budget was spent, the body holding the most was cut,
 * and a genuine body arriving at line rate soon held the most. 63 unsigned requests (under Cloud
 * Run's concurrency of 80) declaring 1 MiB, sending 256 KiB and stalling made every signed 300 KiB
 * delivery 503; without a front-end cap, 2,047 stalls of 8 KiB cut 37 of 38 signed 10 KiB
 * deliveries. And the deadline followed the declared length: `Content-Length: 1048576` with no byte
 * sent held the request 18 s. The budget now cuts the body idle longest, and the deadline grows
 * with bytes received, with an idle limit. The first scenario runs here at the issue's own scale.
 * The second cannot fill the budget any more on this 2-core machine: each 8 KiB stall now ends
 * within 2.1 s, and opening 2,047 connections takes longer; test/unit/receiver.test.ts runs it
 * against a 256 KiB budget ("the budget spent by senders that stalled").
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { sendRaw, type RawResponse } from '../support/raw-http.ts';
import { recordFigures } from './figures.ts';
import { PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { assertInvariants, checkInvariants } from './invariants.ts';
import { envelope, SenderSimulator, type DeliveryRecord } from './sender-simulator.ts';

const secret = generateSigningSecret();
const MIB = 1024 * 1024;

let world: PubSubWorld;
let receiver: ReceiverHandle;
let hostileRequests = 0;
const genuine: DeliveryRecord[] = [];

before(async () => {
  world = await PubSubWorld.start();
  // The defaults: 1 MiB bodies, and so a budget of 16 MiB for incomplete ones.
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static',
    WEBHOOK_PUBLISH_TIMEOUT_MS: '10000',
  });
});

after(async () => {
  await receiver?.stop();
  await world?.stop();
});

function unsignedHeaders(n: number): [string, string][] {
  return [
    ['Content-Type', 'application/json'],
    ['webhook-id', `stall${n}`],
    ['webhook-timestamp', String(Math.floor(Date.now() / 1000))],
    ['webhook-signature', 'v1,AAAA'],
  ];
}

/** One stalled request: `declared` bytes announced, `sent` sent at once, then nothing. */
function stall(n: number, declared: number, sent: number): Promise<RawResponse> {
  hostileRequests++;
  return sendRaw(
    receiver.port,
    {
      headers: unsignedHeaders(n),
      body: Buffer.alloc(sent, 0x20),
      framing: declared,
      stallAfterBytes: sent,
    },
    60_000,
  );
}

function tally(answers: readonly RawResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) counts[String(answer.status)] = (counts[String(answer.status)] ?? 0) + 1;
  return counts;
}

/** A genuine delivery of about `bytes` bytes: a thin envelope with a filler field. */
function genuineBody(marker: string, bytes: number): Buffer {
  const bare = envelope('batch.succeeded', marker, { filler: '' }).length;
  return envelope('batch.succeeded', marker, { filler: 'x'.repeat(Math.max(0, bytes - bare)) });
}

function sender(concurrency: number): SenderSimulator {
  return new SenderSimulator({ url: receiver.url, secret, concurrency, maxAttempts: 1, attemptTimeoutMs: 30_000 });
}

const firstStatuses = (records: readonly DeliveryRecord[]) =>
  tally(records.map((r) => ({ status: r.attempts[0]?.status ?? 'timeout', headers: {}, body: '' }) as RawResponse));

describe(
  'the incomplete-body budget cuts by idleness, never a body arriving at full speed',
  { timeout: 180_000 },
  () => {
    test(
      '63 requests declaring 1 MiB, sending 256 KiB and stalling, again and again: ' +
        'signed 300 KiB deliveries get 2xx',
      async () => {
        let running = true;
        const answers: RawResponse[] = [];
        const loops = Array.from({ length: 63 }, async (_, loop) => {
          for (let n = 0; running; n++) answers.push(await stall(loop * 100_000 + n, MIB, 256 * 1024));
        });
        // Let the flood fill the budget (63 x 256 KiB = 15.75 MiB) before the genuine deliveries start.
        await new Promise((resolve) => setTimeout(resolve, 500));
        const send = sender(4);
        const records = await Promise.all(
          Array.from({ length: 24 }, (_, i) => send.deliver({ body: genuineBody(`budget-300k-${i}`, 300 * 1024) })),
        );
        send.destroy();
        running = false;
        await Promise.all(loops);
        genuine.push(...records);
        const flood = JSON.stringify(tally(answers));
        console.log(`hostile-budget/256k: genuine ${JSON.stringify(firstStatuses(records))}, flood ${flood}`);
        assert.deepEqual(
          firstStatuses(records),
          { 200: records.length },
          'every genuine delivery answered 2xx at once',
        );
        assert.deepEqual(
          Object.keys(tally(answers)).filter((status) => status !== '408' && status !== '503'),
          [],
          'the flood gets 408 (idle) or 503 (cut)',
        );
      },
    );
  },
);

describe('the body deadline grows with bytes received, not with the declared length', { timeout: 60_000 }, () => {
  for (const [what, sent] of [
    ['no byte', 0],
    ['256 KiB, then nothing', 256 * 1024],
  ] as const) {
    test(`Content-Length: 1048576 and ${what}: 408 within the idle limit, not 18 s`, async () => {
      const started = performance.now();
      const answer = await stall(800_000 + sent, MIB, sent);
      const elapsed = performance.now() - started;
      assert.equal(answer.status, 408, answer.body);
      // 2 s allowed; the declared length used to buy 18 s (2 s + 1 MiB at 64 KiB/s).
      assert.ok(elapsed < 6000, `answered after ${Math.round(elapsed)} ms`);
    });
  }

  test('a body arriving steadily keeps earning time: 288 KiB over 3 s is published', async () => {
    const body = genuineBody('budget-steady', 288 * 1024);
    const send = new SenderSimulator({ url: receiver.url, secret, concurrency: 1, maxAttempts: 1 });
    const id = `msg_steady_${Date.now()}`;
    const headers = await send.sign(id, 'static', body);
    send.destroy();
    // 48 KiB every half second: past the 2 s base, within 2 s + its bytes at 64 KiB/s, never idle for 2 s.
    const answer = await sendRaw(receiver.port, {
      headers: Object.entries(headers),
      body,
      dripIntervalMs: 500,
      dripBytes: 48 * 1024,
    });
    assert.equal(answer.status, 200, answer.body);
    const at = Date.now();
    const attempt = { status: answer.status, retryAfter: undefined, answer: answer.body, elapsedMs: 0, startedAt: at };
    genuine.push({
      id,
      scheme: 'static',
      body,
      attempts: [attempt],
      acknowledged: true,
      acknowledgedAt: at,
      gaveUp: false,
    });
  });
});

test('nothing the stalled senders sent reached Pub/Sub, and every genuine delivery did', async () => {
  const report = checkInvariants(genuine, await world.drain());
  recordFigures('hostile-budget', {
    hostileCasesTried: hostileRequests,
    deliveriesSent: report.deliveries,
    attempts: report.attempts,
    acknowledged: report.acknowledged,
    acknowledgedButLost: report.acknowledgedButLost.length,
    forgedAccepted: report.unexplainedMessages.length,
  });
  assertInvariants(report, { everyDeliveryAcknowledged: true });
  assert.ok(receiver.alive());
});
