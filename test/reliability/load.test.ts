/**
 * Load with a failing dependency: thousands of deliveries over 64 concurrent connections while
 * the emulator freezes twice. The receiver caps the deliveries it holds (WEBHOOK_MAX_IN_FLIGHT)
 * and answers the rest 503 + Retry-After at once instead of queueing them, so its memory stays
 * bounded; and both invariants hold at the end.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { EVENT_TYPES } from '../../functions/catalog.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import {
  logLines,
  PubSubWorld,
  residentBytes,
  sleep,
  startReceiver,
  waitUntil,
  type ReceiverHandle,
} from './harness.ts';
import { assertInvariants, checkInvariants, figuresFrom } from './invariants.ts';
import { envelope, SenderSimulator, type Event } from './sender-simulator.ts';

const DELIVERIES = Number(process.env['RELIABILITY_LOAD_DELIVERIES'] ?? 5000);
const CONNECTIONS = 64;
const MAX_IN_FLIGHT = 32;
/**
 * Generous: a Node process with the Pub/Sub client idles near 100 MiB; unbounded queueing of this load
 * would not fit.
 */
const RSS_LIMIT_MIB = 768;

let world: PubSubWorld;
let receiver: ReceiverHandle;
const secret = generateSigningSecret();

before(async () => {
  world = await PubSubWorld.start();
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static',
    WEBHOOK_PUBLISH_TIMEOUT_MS: '1000',
    WEBHOOK_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
  });
});

after(async () => {
  await receiver?.stop();
  await world?.stop();
});

test(
  `${DELIVERIES} deliveries at ${CONNECTIONS} connections, ` +
    'Pub/Sub frozen twice: bounded memory, 503 beyond the cap, nothing lost',
  { timeout: 180_000 },
  async () => {
    const pid = receiver.process.child.pid!;
    let peakRss = residentBytes(pid) ?? 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peakRss = Math.max(peakRss, residentBytes(pid) ?? 0);
        await sleep(100);
      }
    })();

    // Most bodies are thin envelopes; every tenth carries 16 KiB of metadata.
    const events: Event[] = Array.from({ length: DELIVERIES }, (_, i) => ({
      body: envelope(
        EVENT_TYPES[i % EVENT_TYPES.length]!,
        `load-${i}`,
        i % 10 === 0 ? { padding: 'p'.repeat(16 * 1024) } : {},
      ),
    }));
    const sender = new SenderSimulator({
      url: receiver.url,
      secret,
      concurrency: CONNECTIONS,
      maxAttempts: 60,
      baseDelayMs: 20,
      maxDelayMs: 800,
    });
    let done = 0;
    const run = sender.run(events, (n) => (done = n));
    try {
      for (const fraction of [0.25, 0.6]) {
        await waitUntil(
          () => done >= DELIVERIES * fraction,
          120_000,
          () => `${fraction * 100}% of the deliveries (at ${done})`,
        );
        await world.freezeFor(1500);
      }
      await run;
    } finally {
      sampling = false;
      await sampler;
      sender.destroy();
    }

    const report = checkInvariants(sender.records.values(), await world.drain());
    const overloaded = logLines(receiver.output()).filter((line) => line['reason'] === 'overloaded').length;
    const peakMiB = Math.round(peakRss / 1024 / 1024);
    console.log(
      `load: ${report.deliveries} deliveries, ${report.attempts} attempts, ` +
        `answers ${JSON.stringify(report.statuses)}, ${overloaded} refused over ` +
        `the in-flight cap, ${report.duplicates} duplicates, peak RSS ${peakMiB} MiB`,
    );
    recordFigures('load', {
      ...figuresFrom(report),
      peakReceiverRssMiB: peakMiB,
    });
    assertInvariants(report, { everyDeliveryAcknowledged: true });
    assert.ok(receiver.alive(), 'the receiver survived');
    assert.ok(overloaded > 0, 'with Pub/Sub frozen, deliveries beyond the in-flight cap were refused at once');
    assert.equal(report.statuses['timeout'] ?? 0, 0, 'no attempt waited for an answer until the sender gave up');
    assert.ok(peakMiB < RSS_LIMIT_MIB, `peak RSS ${peakMiB} MiB stays under ${RSS_LIMIT_MIB} MiB`);
  },
);
