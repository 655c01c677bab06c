/**
 * Secret Manager over REST, the receiver's transport (google-gax `fallback` mode: HTTP/1.1 with JSON), held
 * to the faults the gRPC transport is tested against (faults.test.ts, test/unit/secret-manager.test.ts), and
 * to the ones only HTTP has: an answer that is not JSON from something in front of the service, a connection
 * dropped without an answer, an error status carried in the JSON body rather than in the HTTP code.
 *
 * The real `@google-cloud/secret-manager` client talks to the fake Secret Manager's REST front
 * (test/support/fake-secret-manager.ts), which serves the service's HTTP rules from the same store and the
 * same injected failures as its gRPC front. The last scenario runs end to end: the real emulator, the
 * receiver's handler under the real Functions Framework, a sender that retries like Gemini, and both
 * invariants checked on everything Pub/Sub holds.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { PubSub } from '@google-cloud/pubsub';
import { status } from '@grpc/grpc-js';
import { EVENT_TYPES } from '../../functions/catalog.ts';
import { createPubSubEventBus } from '../../functions/event-bus.ts';
import { createWebhookHandler } from '../../functions/receiver.ts';
import {
  createSecretManagerSource,
  SecretsUnavailableError,
  type SecretManagerSourceOptions,
} from '../../functions/secrets/secret-manager.ts';
import { createStaticKeyProvider } from '../../functions/signing-keys.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { startFakeSecretManager, type FakeSecretManager } from '../support/fake-secret-manager.ts';
import { TcpGate } from './fault-servers.ts';
import { recordFigures } from './figures.ts';
import { PREFIX, PROJECT, PubSubWorld, sleep } from './harness.ts';
import { assertInvariants, checkInvariants, figuresFrom } from './invariants.ts';
import { envelope, SenderSimulator, type Event } from './sender-simulator.ts';

const S1 = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const S2 = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

async function restFake(t: TestContext, opts: { pageSize?: number } = {}): Promise<FakeSecretManager> {
  const fake = await startFakeSecretManager(opts);
  await fake.startRest();
  t.after(() => fake.close());
  return fake;
}

function restSource(
  t: TestContext,
  fake: FakeSecretManager,
  opts: Partial<SecretManagerSourceOptions> & { port?: number } = {},
) {
  const client = fake.restClient(opts.port);
  const source = createSecretManagerSource({ secretName: fake.secretName, client, ...opts });
  t.after(async () => {
    await source.close();
    await client.close();
  });
  return source;
}

/** The SecretsUnavailableError `promise` rejects with; it never carries a secret value. */
async function unavailable(promise: Promise<unknown>): Promise<SecretsUnavailableError> {
  const error = await promise.then(
    () => assert.fail('expected the load to fail'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof SecretsUnavailableError, `expected SecretsUnavailableError, got ${String(error)}`);
  for (const value of [S1, S2]) assert.ok(!error.message.includes(value.slice(6)), 'no key material in errors');
  return error;
}

/** A loopback HTTP server answering every request with `handler`, closed after the test. */
async function loopback(t: TestContext, handler: RequestListener): Promise<number> {
  const server: Server = createHttpServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as { port: number }).port;
}

describe('Secret Manager over REST: the loader under faults', () => {
  test('loads every ENABLED version across pages, newest first, with the state:ENABLED filter', async (t) => {
    const fake = await restFake(t, { pageSize: 1 });
    fake.addVersion(S1);
    fake.addVersion('whsec_disabled', { state: 'DISABLED' });
    fake.addVersion(S2);
    const source = restSource(t, fake);
    assert.deepEqual(await source.current(), [S2, S1]);
    assert.deepEqual(fake.listFilters, ['state:ENABLED', 'state:ENABLED'], 'one request per page, filter sent');
    assert.deepEqual(fake.listPageTokens, ['', '1'], 'the second page asked for with the first page token');
  });

  test('a hung Secret Manager: the load ends at its deadline with DEADLINE_EXCEEDED', async (t) => {
    const fake = await restFake(t);
    fake.addVersion(S1);
    fake.hanging.add('AccessSecretVersion');
    const source = restSource(t, fake, { timeoutMs: 600 });
    const started = performance.now();
    const error = await unavailable(source.current());
    const elapsed = performance.now() - started;
    assert.equal(error.grpcStatus, 'DEADLINE_EXCEEDED');
    assert.ok(elapsed >= 550 && elapsed < 1500, `ended after ${Math.round(elapsed)} ms, deadline 600 ms`);
    assert.match(error.message, /retrying shortly/);
  });

  for (const [code, hint] of [
    [status.PERMISSION_DENIED, /roles\/secretmanager\.secretAccessor/],
    [status.NOT_FOUND, /does not exist/],
    [status.UNAUTHENTICATED, /no valid Google credentials/],
    [status.RESOURCE_EXHAUSTED, /retrying shortly/],
  ] as const) {
    test(`${status[code]} in Google's JSON error body: named, with what to do`, async (t) => {
      const fake = await restFake(t);
      fake.addVersion(S1);
      fake.fail('ListSecretVersions', code);
      const error = await unavailable(restSource(t, fake, { timeoutMs: 1000 }).current());
      assert.equal(error.grpcStatus, status[code]);
      assert.match(error.message, hint);
    });
  }

  test('UNAVAILABLE on access is retried, as on gRPC (the method is idempotent)', async (t) => {
    const fake = await restFake(t);
    fake.addVersion(S1);
    fake.fail('AccessSecretVersion', status.UNAVAILABLE);
    const source = restSource(t, fake, { timeoutMs: 5000 });
    const load = source.current();
    while (fake.calls.AccessSecretVersion === 0) await sleep(5);
    fake.heal();
    assert.deepEqual(await load, [S1]);
    assert.equal(fake.calls.AccessSecretVersion, 2, 'one failed attempt, one retry');
  });

  test('a version disabled between list and access is skipped (FAILED_PRECONDITION behind HTTP 400)', async (t) => {
    // HTTP 400 is INVALID_ARGUMENT, FAILED_PRECONDITION or OUT_OF_RANGE: only the body's `status` tells.
    const fake = await restFake(t);
    fake.addVersion(S1);
    fake.addVersion(S2);
    fake.afterList = () => fake.setState(2, 'DISABLED');
    assert.deepEqual(await restSource(t, fake).current(), [S1]);
  });

  test('a payload whose data_crc32c (an int64, a JSON string) does not match is refused', async (t) => {
    const fake = await restFake(t);
    fake.addVersion(S1, { checksum: 'wrong' });
    const error = await unavailable(restSource(t, fake).current());
    assert.match(error.message, /CRC32C/);
  });

  test('a refresh that fails keeps the last good list in service', async (t) => {
    const fake = await restFake(t);
    fake.addVersion(S1);
    const clock = { t: 1_000_000 };
    const source = restSource(t, fake, { now: () => clock.t, refreshIntervalMs: 1000 });
    assert.deepEqual(await source.current(), [S1]);
    fake.failAll(status.UNAVAILABLE);
    clock.t += 2000;
    assert.deepEqual(await source.current(), [S1], 'answered from the cache while the refresh runs');
    await source.settled();
    assert.ok(fake.calls.ListSecretVersions >= 2, 'the refresh reached Secret Manager');
    assert.deepEqual(await source.current(), [S1], 'still the last good list after the refresh failed');
  });

  test('an HTML error page from something in front of the service: a clear, bounded error', async (t) => {
    const page = `<html><head><title>502 Bad Gateway</title></head><body>${'x'.repeat(5000)}</body></html>`;
    const port = await loopback(t, (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end(page));
    const fake = await restFake(t);
    const error = await unavailable(restSource(t, fake, { port, timeoutMs: 1000 }).current());
    assert.match(error.message, /502/, 'the HTTP status is named');
    assert.ok(error.message.length < 1000, `the page is not pasted whole (${error.message.length} characters)`);
    assert.match(error.message, /retrying shortly|Check/);
  });

  test('a connection dropped without an answer: a transport failure, not a verdict of the service', async (t) => {
    let connections = 0;
    const server: NetServer = createNetServer((socket) => {
      connections++;
      socket.once('data', () => socket.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const fake = await restFake(t);
    const port = (server.address() as { port: number }).port;
    const error = await unavailable(restSource(t, fake, { port, timeoutMs: 1000 }).current());
    assert.ok(connections >= 1);
    assert.ok(
      error.grpcStatus === 'UNAVAILABLE' || error.grpcStatus === 'DEADLINE_EXCEEDED',
      `a transport failure, not a verdict of the service: ${error.message}`,
    );
    assert.match(error.message, /retrying shortly/);
  });
});

describe('Secret Manager over REST, end to end', { timeout: 120_000 }, () => {
  const PUBLISH_TIMEOUT_MS = 1000;
  let world: PubSubWorld;

  before(async () => {
    world = await PubSubWorld.start();
  });
  after(async () => {
    await world?.stop();
  });

  test('unreachable at start, then reachable (real REST client, fake server): 503, then all delivered', async () => {
    const secret = generateSigningSecret();
    const fake = await startFakeSecretManager({ secretName: `projects/${PROJECT}/secrets/webhook-signing-secrets` });
    fake.addVersion(secret);
    const gate = new TcpGate(await freePort(), await fake.startRest());
    const client = fake.restClient(gate.port);
    const source = createSecretManagerSource({
      secretName: fake.secretName,
      client,
      timeoutMs: PUBLISH_TIMEOUT_MS,
      minRefreshIntervalMs: 1000,
    });
    const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: world.host });
    const bus = createPubSubEventBus(pubsub, { topicPrefix: PREFIX, publishTimeoutMs: PUBLISH_TIMEOUT_MS });
    functions.http(
      'reliabilitySecretManagerRest',
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
    const server = getTestServer('reliabilitySecretManagerRest');
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
    const events: Event[] = Array.from({ length: 40 }, (_, i) => ({
      body: envelope(EVENT_TYPES[i % EVENT_TYPES.length]!, `secret-manager-rest-recovers-${i}`),
    }));
    try {
      const run = sender.run(events);
      await sleep(2500);
      const acknowledgedWhileUnreachable = [...sender.records.values()].filter((r) => r.acknowledged).length;
      await gate.open();
      await run;
      sender.destroy();
      await world.drain();
      const own = new Set(sender.records.keys());
      const report = checkInvariants(
        sender.records.values(),
        world.collected.filter((m) => own.has(m.attributes['webhook_id'] ?? '')),
      );
      console.log(
        `secret-manager-rest/recovers: ${report.deliveries} deliveries, ${report.attempts} attempts, ` +
          `answers ${JSON.stringify(report.statuses)}, ${report.acknowledged} acknowledged`,
      );
      recordFigures('secret-manager-rest-recovers', { ...figuresFrom(report), neverAcknowledgedByDesign: 0 });
      assertInvariants(report, { everyDeliveryAcknowledged: true });
      assert.equal(acknowledgedWhileUnreachable, 0, 'nothing is acknowledged without the secrets');
      assert.ok((report.statuses['503'] ?? 0) > 0, 'unreachable Secret Manager answered 503');
      assert.ok(fake.totalCalls() > 0, 'the real REST client reached the fake once the gate opened');
    } finally {
      sender.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await source.close();
      await client.close();
      await bus.close();
      await pubsub.close();
      await gate.close();
      await fake.close();
    }
  });
});
