/**
 * Fault injection, end to end: the real emulator, the receiver under the real Functions Framework,
 * a sender that retries like Gemini. Every scenario ends by pulling everything Pub/Sub holds and
 * checking both invariants: nothing acknowledged is lost, nothing unsigned is published; and,
 * after recovery, every delivery was eventually acknowledged (at least once, duplicates with the
 * same webhook id).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { PubSub } from '@google-cloud/pubsub';
import { v1 as secretManagerV1 } from '@google-cloud/secret-manager';
import { EVENT_TYPES } from '../../functions/catalog.ts';
import { createPubSubEventBus } from '../../functions/event-bus.ts';
import { createWebhookHandler } from '../../functions/receiver.ts';
import { createSecretManagerSource } from '../../functions/secrets/secret-manager.ts';
import { createStaticKeyProvider, fixedSecretSource } from '../../functions/signing-keys.ts';
import { createJwksCache } from '../../functions/verify/jwks.ts';
import { generateJwtKeyPair, generateSigningSecret, type JwtKeyPair } from '../../scripts/lib/dev-keys.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { startFakeSecretManager } from '../support/fake-secret-manager.ts';
import { FlakyJwks, TcpGate } from './fault-servers.ts';
import { recordFigures } from './figures.ts';
import {
  logLines,
  PREFIX,
  PROJECT,
  PubSubWorld,
  sleep,
  startReceiver,
  waitUntil,
  type ReceiverHandle,
} from './harness.ts';
import { assertInvariants, checkInvariants, figuresFrom, type InvariantReport } from './invariants.ts';
import { envelope, SenderSimulator, type DeliveryRecord, type Event } from './sender-simulator.ts';

const PUBLISH_TIMEOUT_MS = 1000;

let world: PubSubWorld;
let secret: string;
let jwtKeys: JwtKeyPair;
let receiver: ReceiverHandle;
/** Every delivery of every scenario, so a late publish from an earlier scenario is still explained. */
const allRecords = new Map<string, DeliveryRecord>();
const reports: Record<string, InvariantReport> = {};

function staticEvents(count: number, label: string): Event[] {
  return Array.from({ length: count }, (_, i) => ({
    body: envelope(EVENT_TYPES[i % EVENT_TYPES.length]!, `${label}-${i}`),
  }));
}

function baseEnv(): Record<string, string> {
  return {
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static',
    WEBHOOK_PUBLISH_TIMEOUT_MS: String(PUBLISH_TIMEOUT_MS),
  };
}

/** Drains Pub/Sub, checks the invariants for `sender`'s deliveries, records the figures. */
async function finish(
  name: string,
  sender: SenderSimulator,
  options = { everyDeliveryAcknowledged: true },
): Promise<InvariantReport> {
  sender.destroy();
  for (const [id, record] of sender.records) allRecords.set(id, record);
  await world.drain();
  const own = new Set(sender.records.keys());
  // Lost: judged on this scenario's deliveries. Unexplained: judged against every delivery sent.
  const report = checkInvariants(
    sender.records.values(),
    world.collected.filter((m) => own.has(m.attributes['webhook_id'] ?? '')),
  );
  report.unexplainedMessages = checkInvariants(allRecords.values(), world.collected).unexplainedMessages;
  reports[name] = report;
  const slowest = Math.max(
    0,
    ...[...sender.records.values()].flatMap((r) =>
      r.attempts.filter((a) => typeof a.status === 'number').map((a) => a.elapsedMs),
    ),
  );
  console.log(
    `faults/${name}: ${report.deliveries} deliveries, ${report.attempts} attempts, ` +
      `answers ${JSON.stringify(report.statuses)}, ` +
      `${report.acknowledged} acknowledged, ${report.duplicates} duplicates, slowest answer ${slowest} ms`,
  );
  recordFigures(`faults-${name}`, {
    ...figuresFrom(report),
    neverAcknowledgedByDesign: options.everyDeliveryAcknowledged ? 0 : report.deliveries - report.acknowledged,
  });
  assertInvariants(report, options);
  return report;
}

const acknowledgedCount = (sender: SenderSimulator): number =>
  [...sender.records.values()].filter((r) => r.acknowledged).length;

describe('fault injection', { timeout: 240_000 }, () => {
  before(async () => {
    world = await PubSubWorld.start();
    secret = generateSigningSecret();
    jwtKeys = await generateJwtKeyPair('reliability-key');
    receiver = await startReceiver(baseEnv());
  });

  after(async () => {
    await receiver?.stop();
    await world?.stop();
  });

  test(
    'emulator frozen (SIGSTOP): publishes hang, ' + 'answers are 503 + Retry-After within the deadline, nothing lost',
    async () => {
      // The sender gives up on an attempt after 5x the publish deadline and the freeze lasts longer
      // than that: a receiver that waited for the hung publish would show up as timeouts.
      const sender = new SenderSimulator({
        url: receiver.url,
        secret,
        concurrency: 8,
        attemptTimeoutMs: 5 * PUBLISH_TIMEOUT_MS,
      });
      const run = sender.run(staticEvents(240, 'frozen'));
      await waitUntil(
        () => acknowledgedCount(sender) >= 40,
        60_000,
        () => 'first 40 acknowledgements',
      );
      await world.freezeFor(7000);
      await run;
      const report = await finish('emulator-frozen', sender);
      assert.ok((report.statuses['503'] ?? 0) > 0, 'the freeze produced 503 answers');
      assert.equal(report.statuses['timeout'] ?? 0, 0, 'every attempt was answered before the sender gave up on it');
      assert.deepEqual(
        Object.keys(report.statuses).filter((s) => s !== '200' && s !== '503'),
        [],
        `only 200 and 503 answers: ${JSON.stringify(report.statuses)}`,
      );
    },
  );

  test(
    'receiver process SIGKILLed mid-stream and restarted on the same port: ' + 'nothing acknowledged is lost',
    async () => {
      const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 16 });
      const run = sender.run(staticEvents(300, 'receiver-kill'));
      await waitUntil(
        () => acknowledgedCount(sender) >= 80,
        60_000,
        () => 'first 80 acknowledgements',
      );
      assert.ok(sender.inFlight > 0, 'requests are in flight when the receiver dies');
      await receiver.kill();
      await sleep(1000);
      await receiver.restart();
      await run;
      const report = await finish('receiver-killed', sender);
      assert.ok((report.statuses['network'] ?? 0) > 0, 'the kill cut connections (the sender saw network errors)');
    },
  );

  test(
    'JWKS down, slow, garbage, failing: ' +
      'JWT deliveries get 503 + Retry-After, static ones flow, all arrive after recovery',
    async () => {
      // In process, with the receiver's JWKS cache at a 1 s cooldown instead of 30 s, so every failure
      // mode below (1.5 s each) is really fetched. The 30 s cooldown itself, counted against a
      // receiver process, is in test/reliability/hostile-jwks.test.ts.
      const jwks = new FlakyJwks(await freePort(), [jwtKeys.publicJwk], { slowMs: 4000 });
      const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: world.host });
      const bus = createPubSubEventBus(pubsub, { topicPrefix: PREFIX, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
      functions.http(
        'reliabilityJwks',
        createWebhookHandler({
          bus,
          staticKeys: createStaticKeyProvider(fixedSecretSource([secret]), []),
          jwt: {
            jwks: createJwksCache({ url: new URL(jwks.url), fetchTimeoutMs: PUBLISH_TIMEOUT_MS / 2, cooldownMs: 1000 }),
            issuer: 'https://generativelanguage.googleapis.com',
            audience: 'reliability-receiver',
            clockToleranceSeconds: 60,
            requireBodyBinding: false,
          },
          schemes: new Set(['static', 'jwt']),
          toleranceSeconds: 300,
          maxBodyBytes: 1_048_576,
          maxInFlight: 64,
          log: () => {},
        }),
      );
      const server = getTestServer('reliabilityJwks');
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const sender = new SenderSimulator({
        url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`,
        secret,
        jwt: {
          privateJwk: jwtKeys.privateJwk,
          issuer: 'https://generativelanguage.googleapis.com',
          audience: 'reliability-receiver',
        },
        concurrency: 8,
        attemptTimeoutMs: 4 * PUBLISH_TIMEOUT_MS,
        maxDelayMs: 500,
      });
      const events: Event[] = Array.from({ length: 160 }, (_, i) => ({
        scheme: i % 2 === 0 ? 'jwt' : 'static',
        body: envelope(EVENT_TYPES[i % EVENT_TYPES.length]!, `jwks-${i}`),
      }));
      try {
        const run = sender.run(events);
        for (const mode of ['down', 'slow', 'garbage', 'not-a-key-set', 'error'] as const) {
          await jwks.set(mode);
          await sleep(1500);
        }
        const fetchesDuringOutage = jwks.requests;
        const staticAckedDuringOutage = [...sender.records.values()].filter(
          (r) => r.scheme === 'static' && r.acknowledged,
        ).length;
        const jwtAckedDuringOutage = [...sender.records.values()].filter(
          (r) => r.scheme === 'jwt' && r.acknowledged,
        ).length;
        await jwks.set('up');
        await run;
        const report = await finish('jwks-outage', sender);
        assert.equal(jwtAckedDuringOutage, 0, 'no JWT delivery is acknowledged while the JWKS cannot be had');
        assert.ok(staticAckedDuringOutage > 0, 'static deliveries do not depend on the JWKS');
        // HTTP answers only: a keep-alive connection closed under the sender is a network error any sender retries.
        const jwtStatuses = new Set(
          [...sender.records.values()]
            .filter((r) => r.scheme === 'jwt')
            .flatMap((r) => r.attempts.map((a) => a.status).filter((s) => typeof s === 'number')),
        );
        assert.deepEqual(
          [...jwtStatuses].sort(),
          [200, 503],
          'JWT deliveries were answered 503 during the outage, 200 after',
        );
        assert.equal(report.statuses['timeout'] ?? 0, 0, 'a slow JWKS does not hold requests past the sender timeout');
        // slow, garbage, not-a-key-set and error were each fetched (down refuses connections, uncounted).
        assert.ok(
          fetchesDuringOutage >= 4,
          `the JWKS was fetched in each failure mode (${fetchesDuringOutage} fetches)`,
        );
        assert.ok(
          fetchesDuringOutage <= 8,
          `but at most about once per cooldown (${fetchesDuringOutage} fetches in 7.5 s)`,
        );
      } finally {
        sender.destroy();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await bus.close();
        await pubsub.close();
        await jwks.close();
      }
    },
  );

  test('Secret Manager unreachable at start (receiver process): 503 + Retry-After, nothing published', async () => {
    // A service-account key whose token endpoint is a closed loopback port: whatever path the auth
    // library takes (token exchange or self-signed JWT to secretmanager.googleapis.com, which does
    // not resolve here), Secret Manager cannot be reached.
    const dir = mkdtempSync(join(tmpdir(), 'reliability-adc-'));
    const keyFile = join(dir, 'sa.json');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(
      keyFile,
      JSON.stringify({
        type: 'service_account',
        project_id: PROJECT,
        private_key_id: 'reliability',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        client_email: `receiver@${PROJECT}.iam.gserviceaccount.com`,
        client_id: '1',
        token_uri: `http://127.0.0.1:${await freePort()}/token`,
      }),
    );
    const env: Record<string, string> = { ...baseEnv(), GOOGLE_APPLICATION_CREDENTIALS: keyFile };
    delete env['WEBHOOK_SIGNING_SECRETS'];
    env['WEBHOOK_SIGNING_SECRETS_SECRET'] = `projects/${PROJECT}/secrets/webhook-signing-secrets`;
    const smReceiver = await startReceiver(env);
    const sender = new SenderSimulator({
      url: smReceiver.url,
      secret,
      concurrency: 4,
      maxAttempts: 3,
      attemptTimeoutMs: 30_000,
    });
    try {
      await sender.run(staticEvents(8, 'secret-manager-down'));
      const report = await finish('secret-manager-down', sender, { everyDeliveryAcknowledged: false });
      assert.equal(report.acknowledged, 0);
      assert.deepEqual(
        Object.keys(report.statuses),
        ['503'],
        `every answer is 503: ${JSON.stringify(report.statuses)}`,
      );
      assert.ok(smReceiver.alive(), 'the receiver keeps running without its secrets');
      const reasons = new Set(
        logLines(smReceiver.output())
          .filter((line) => line['status'] === 503)
          .map((line) => line['reason']),
      );
      assert.deepEqual([...reasons], ['secrets_unavailable'], 'the 503s are Secret Manager being unreachable');
      const why = logLines(smReceiver.output()).find((line) => line['status'] === 503)?.['detail'];
      console.log(`faults/secret-manager-down, why: ${String(why).slice(0, 200)}`);
    } finally {
      sender.destroy();
      await smReceiver.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test(
    'Secret Manager unreachable at start, then reachable (real client, fake server): ' +
      '503 first, every delivery after',
    async () => {
      // The receiver process cannot be pointed at a local Secret Manager (no endpoint setting), so this
      // builds the same handler in process, with the real client library talking gRPC to the fake
      // server through a gate that is closed (connection refused) until opened.
      const fake = await startFakeSecretManager({ secretName: `projects/${PROJECT}/secrets/webhook-signing-secrets` });
      fake.addVersion(secret);
      const gate = new TcpGate(await freePort(), fake.port);
      const client = new secretManagerV1.SecretManagerServiceClient({
        apiEndpoint: '127.0.0.1',
        port: gate.port,
        sslCreds: grpc.credentials.createInsecure(),
        universeDomain: 'googleapis.com',
        fallback: false,
      });
      const source = createSecretManagerSource({
        secretName: fake.secretName,
        client,
        timeoutMs: PUBLISH_TIMEOUT_MS,
        minRefreshIntervalMs: 1000,
      });
      const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: world.host });
      const bus = createPubSubEventBus(pubsub, { topicPrefix: PREFIX, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
      functions.http(
        'reliabilitySecretManager',
        createWebhookHandler({
          bus,
          staticKeys: createStaticKeyProvider(source, []),
          jwt: undefined,
          schemes: new Set(['static']),
          toleranceSeconds: 300,
          maxBodyBytes: 1_048_576,
          maxInFlight: 64,
          log: () => {},
        }),
      );
      const server = getTestServer('reliabilitySecretManager');
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
      const sender = new SenderSimulator({
        url,
        secret,
        concurrency: 4,
        maxDelayMs: 500,
        attemptTimeoutMs: 4 * PUBLISH_TIMEOUT_MS,
      });
      try {
        const run = sender.run(staticEvents(40, 'secret-manager-recovers'));
        await sleep(2500);
        const acknowledgedWhileUnreachable = acknowledgedCount(sender);
        await gate.open();
        await run;
        const report = await finish('secret-manager-recovers', sender);
        assert.equal(acknowledgedWhileUnreachable, 0, 'nothing is acknowledged without the secrets');
        assert.ok((report.statuses['503'] ?? 0) > 0, 'unreachable Secret Manager answered 503');
        assert.ok(fake.totalCalls() > 0, 'the real client reached the fake server once the gate opened');
      } finally {
        sender.destroy();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await source.close();
        await bus.close();
        await pubsub.close();
        await gate.close();
        await fake.close();
      }
    },
  );

  test(
    'emulator killed mid-stream and restarted on the same port (topology re-created): ' +
      'nothing acknowledged is lost',
    async () => {
      const sender = new SenderSimulator({
        url: receiver.url,
        secret,
        concurrency: 8,
        maxAttempts: 120,
        maxDelayMs: 1000,
      });
      const run = sender.run(staticEvents(300, 'emulator-kill'));
      let collecting = true;
      const collector = (async () => {
        while (collecting) {
          await world.pullOnce().catch(() => 0);
          await sleep(100);
        }
      })();
      await waitUntil(
        () => acknowledgedCount(sender) >= 80,
        60_000,
        () => 'first 80 acknowledgements',
      );

      // The emulator keeps messages in memory only: what it holds when killed is gone, which real
      // Pub/Sub would not do. So first let every acknowledged message reach the consumer, then
      // freeze the emulator (nothing can be acknowledged from here on), let the sender run into it,
      // and kill it while requests hang on their publishes.
      sender.close();
      await waitUntil(
        () => sender.inFlight === 0,
        30_000,
        () => 'in-flight attempts to finish',
      );
      const ackedIds = [...sender.records.values()].filter((r) => r.acknowledged).map((r) => r.id);
      await waitUntil(
        () => ackedIds.every((id) => world.collected.some((m) => m.attributes['webhook_id'] === id)),
        30_000,
        () => 'every acknowledged message to be consumed before the kill',
      );
      collecting = false;
      await collector;
      world.emulator.pause();
      const frozenAt = Date.now();
      sender.open();
      await waitUntil(
        () => sender.inFlight >= 4,
        10_000,
        () => 'requests hanging on the frozen emulator',
      );
      await sleep(300);
      world.killHard();
      await sleep(2000);
      const restartedFrom = Date.now();
      await world.restart();
      await run;
      const report = await finish('emulator-killed', sender);
      const ackedWhileDown = [...sender.records.values()].filter(
        (r) => r.acknowledgedAt !== undefined && r.acknowledgedAt >= frozenAt && r.acknowledgedAt < restartedFrom,
      );
      assert.deepEqual(
        ackedWhileDown.map((r) => r.id),
        [],
        'nothing is acknowledged while the emulator is frozen or dead',
      );
      assert.ok((report.statuses['503'] ?? 0) > 0, 'the outage produced 503 answers');
    },
  );
});
