/**
 * An error that escapes asynchronously (thrown from a callback while a delivery is being
 * published), under load, against the receiver process and the real emulator: the measurement
 * behind keeping the Functions Framework's per-request `domain` (docs/architecture.md).
 *
 * Both ways of serving the handler run the same load, with one delivery in thirty carrying the
 * fault (once per delivery):
 * - inside the framework's domain (functions/index.ts): the framework answers that one request
 *   500 and the process keeps serving everything else;
 * - having left the domain first (what functions/index.ts did before): the error reaches the
 *   framework's process-wide handler, which answers 500 to whichever request came last and exits
 *   the process. Here the harness restarts it, as Cloud Run would start a new instance.
 * Neither may lose an acknowledged delivery; the one kept must also keep serving the others.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { EVENT_TYPES } from '../../functions/catalog.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import { PubSubWorld, startReceiver } from './harness.ts';
import { assertInvariants, checkInvariants, figuresFrom, type InvariantReport } from './invariants.ts';
import { envelope, SenderSimulator, type DeliveryRecord, type Event } from './sender-simulator.ts';

const MARKER = 'escape-asynchronously';
const DELIVERIES = 300;
const FAULT_EVERY = 30;
const CONNECTIONS = 16;
const FIXTURE = join(import.meta.dirname, '..', 'support', 'escaping-error-receiver.ts');

const secret = generateSigningSecret();
let world: PubSubWorld;
const dirs: string[] = [];

before(async () => {
  world = await PubSubWorld.start();
});

after(async () => {
  await world?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface Measurement {
  report: InvariantReport;
  crashes: number;
  seconds: number;
  faulted: DeliveryRecord[];
  /** Deliveries without the fault that nevertheless saw an attempt fail. */
  bystandersHit: DeliveryRecord[];
}

async function measure(label: string, leavesDomain: boolean): Promise<Measurement> {
  const stateDir = mkdtempSync(join(tmpdir(), 'escaping-error-'));
  dirs.push(stateDir);
  const receiver = await startReceiver(
    {
      PUBSUB_EMULATOR_HOST: world.host,
      WEBHOOK_SIGNING_SECRETS: secret,
      WEBHOOK_PUBLISH_TIMEOUT_MS: '3000',
      ESCAPING_ERROR_STATE_DIR: stateDir,
      ESCAPING_ERROR_MARKER: MARKER,
      RECEIVER_LEAVES_DOMAIN: String(leavesDomain),
    },
    { source: FIXTURE },
  );
  // A process that exits is started again on the same port, as Cloud Run replaces an instance.
  let crashes = 0;
  let running = true;
  const watcher = (async () => {
    while (running) {
      const child = receiver.process.child;
      if (child.exitCode === null && child.signalCode === null)
        await new Promise((resolve) => child.once('exit', resolve));
      if (!running) break;
      crashes++;
      await receiver.restart();
    }
  })();

  const events: Event[] = Array.from({ length: DELIVERIES }, (_, i) => ({
    body: envelope(
      EVENT_TYPES[i % EVENT_TYPES.length]!,
      `${label}-${i}`,
      i % FAULT_EVERY === 0 ? { marker: MARKER } : {},
    ),
  }));
  const sender = new SenderSimulator({
    url: receiver.url,
    secret,
    concurrency: CONNECTIONS,
    maxAttempts: 100,
    maxDelayMs: 500,
  });
  const started = performance.now();
  try {
    await sender.run(events);
  } finally {
    sender.destroy();
    running = false;
    await receiver.stop();
    await watcher;
  }
  const seconds = (performance.now() - started) / 1000;
  const records = [...sender.records.values()];
  const own = new Set(sender.records.keys());
  const report = checkInvariants(
    records,
    (await world.drain()).filter((m) => own.has(m.attributes['webhook_id'] ?? '')),
  );
  const faulted = records.filter((r) => r.body.includes(MARKER));
  const bystandersHit = records.filter((r) => !r.body.includes(MARKER) && r.attempts.some((a) => a.status !== 200));
  console.log(
    `escaping-error/${label}: ${report.deliveries} deliveries ` +
      `(${faulted.length} with the fault) in ${seconds.toFixed(1)} s, ` +
      `answers ${JSON.stringify(report.statuses)}, process exits ${crashes}, ` +
      `other deliveries hit ${bystandersHit.length}, ` +
      `acknowledged but lost ${report.acknowledgedButLost.length}`,
  );
  recordFigures(`escaping-error-${label}`, figuresFrom(report));
  return { report, crashes, seconds, faulted, bystandersHit };
}

describe('an error escaping asynchronously under load', { timeout: 300_000 }, () => {
  test(
    "inside the framework's domain: that one request is answered 500, " +
      'the process keeps serving the others, nothing is lost',
    async () => {
      const { report, crashes, faulted, bystandersHit } = await measure('domain-kept', false);
      assertInvariants(report, { everyDeliveryAcknowledged: true });
      assert.equal(crashes, 0, 'the process never exited');
      assert.deepEqual(
        bystandersHit.map((r) => r.id),
        [],
        'no other delivery saw a failed attempt',
      );
      for (const record of faulted) {
        assert.deepEqual(
          record.attempts.map((a) => a.status),
          [500, 200],
          `${record.id}: 500 for the faulted attempt, then acknowledged`,
        );
      }
    },
  );

  test(
    'having left the domain: the process exits on each such error and takes the deliveries in flight with it; ' +
      'nothing is lost either',
    async () => {
      const { report, crashes, bystandersHit } = await measure('domain-left', true);
      assertInvariants(report, { everyDeliveryAcknowledged: true });
      assert.ok(crashes >= 1, `the process exited (${crashes} times)`);
      assert.ok(bystandersHit.length > 0, 'deliveries without the fault failed too');
    },
  );
});
