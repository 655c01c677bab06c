// The Secret Manager signing-secret loader against a real gRPC server (test/support/fake-secret-manager.ts)
// driven by the real @google-cloud/secret-manager client.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { status } from '@grpc/grpc-js';
import {
  SecretsUnavailableError,
  crc32c,
  createSecretManagerSource,
  parseSecretName,
} from '../../functions/secrets/secret-manager.ts';
import type { SecretManagerSourceOptions } from '../../functions/secrets/secret-manager.ts';
import { startFakeSecretManager } from '../support/fake-secret-manager.ts';
import type { FakeSecretManager, FakeSecretManagerOptions } from '../support/fake-secret-manager.ts';

const S1 = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const S2 = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';
const S3 = 'whsec_dGhpcmQtc2VjcmV0LWZvci10ZXN0aW5nLTEyMw==';

interface Harness {
  fake: FakeSecretManager;
  client: ReturnType<FakeSecretManager['client']>;
  clock: { t: number };
  source: ReturnType<typeof createSecretManagerSource>;
}

async function setup(
  t: TestContext,
  opts: { fake?: FakeSecretManagerOptions; source?: Partial<SecretManagerSourceOptions> } = {},
): Promise<Harness> {
  const fake = await startFakeSecretManager(opts.fake);
  const client = fake.client();
  const clock = { t: 1_000_000 };
  const source = createSecretManagerSource({
    secretName: fake.secretName,
    client,
    now: () => clock.t,
    ...opts.source,
  });
  t.after(async () => {
    await source.close();
    await client.close();
    await fake.close();
  });
  return { fake, client, clock, source };
}

/** Asserts a SecretsUnavailableError whose message matches and leaks none of the given values. */
async function rejectsUnavailable(
  promise: Promise<unknown>,
  pattern: RegExp,
  secretValues: readonly string[] = [S1, S2, S3],
): Promise<SecretsUnavailableError> {
  let caught: unknown;
  await assert.rejects(promise, (err) => {
    caught = err;
    return true;
  });
  assert.ok(caught instanceof SecretsUnavailableError, `expected SecretsUnavailableError, got ${String(caught)}`);
  assert.match(caught.message, pattern);
  for (const value of secretValues) {
    assert.ok(!caught.message.includes(value), 'error message must not contain a secret value');
    assert.ok(!caught.message.includes(value.replace(/^whsec_/, '')), 'error message must not contain key material');
  }
  return caught;
}

test('loads every ENABLED version, newest first, trimmed, with the state:ENABLED filter', async (t) => {
  const { fake, source } = await setup(t);
  fake.addVersion(`${S1}\n`);
  fake.addVersion(S2, { state: 'DISABLED' });
  fake.addVersion(`  ${S3.replace(/^whsec_/, '')}\r\n`); // prefix may be absent: returned as configured
  fake.addVersion('whsec_destroyed', { state: 'DESTROYED' });

  assert.deepEqual(await source.current(), [S3.replace(/^whsec_/, ''), S1]);
  assert.deepEqual(fake.listFilters, ['state:ENABLED']);
  assert.equal(fake.calls.AccessSecretVersion, 2, 'only enabled versions are accessed');
});

test('orders by create_time, ties broken by the higher version number', async (t) => {
  const { fake, source } = await setup(t);
  const base = Date.UTC(2026, 2, 1);
  fake.addVersion(S1, { createTimeMs: base + 5_000 }); // v1, newest by time
  fake.addVersion(S2, { createTimeMs: base }); // v2
  fake.addVersion(S3, { createTimeMs: base }); // v3, same time as v2
  assert.deepEqual(await source.current(), [S1, S3, S2]);
});

test('serves the cache within the refresh interval without calling Secret Manager', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { refreshIntervalMs: 60_000 } });
  fake.addVersion(S1);
  await source.current();
  const calls = fake.totalCalls();
  clock.t += 59_000;
  assert.deepEqual(await source.current(), [S1]);
  await source.settled();
  assert.equal(fake.totalCalls(), calls);
});

test('rotation: a new version appears after the refresh interval, a disabled one disappears', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { refreshIntervalMs: 60_000 } });
  const old = fake.addVersion(S1);
  assert.deepEqual(await source.current(), [S1]);

  fake.addVersion(S2); // rotate: new secret added as a version
  clock.t += 30_000;
  assert.deepEqual(await source.current(), [S1], 'still cached inside the interval');

  clock.t += 31_000; // past the interval: this call answers from cache and refreshes in the background
  assert.deepEqual(await source.current(), [S1]);
  await source.settled();
  assert.deepEqual(await source.current(), [S2, S1], 'both secrets during the grace period');

  fake.setState(old.number, 'DISABLED'); // grace period over
  clock.t += 61_000;
  await source.current();
  await source.settled();
  assert.deepEqual(await source.current(), [S2]);
});

test('refreshAfterFailure refetches at once but at most once per minRefreshIntervalMs', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { minRefreshIntervalMs: 30_000 } });
  fake.addVersion(S1);
  await source.current(); // fetch at t0
  assert.equal(fake.calls.ListSecretVersions, 1);

  fake.addVersion(S2);
  clock.t += 10_000;
  source.refreshAfterFailure(); // 10 s after the last fetch: ignored
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 1);
  assert.deepEqual(await source.current(), [S1]);

  clock.t += 20_000; // 30 s after the last fetch
  source.refreshAfterFailure();
  source.refreshAfterFailure(); // joins the in-flight fetch
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 2);
  assert.deepEqual(await source.current(), [S2, S1]);

  for (let i = 0; i < 50; i++) {
    clock.t += 500;
    source.refreshAfterFailure(); // a storm of bad signatures over 25 s
  }
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 2, 'rate limited');
  clock.t += 5_000;
  source.refreshAfterFailure();
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 3);
});

test('refreshAfterFailure never throws, even when Secret Manager fails', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { minRefreshIntervalMs: 1_000 } });
  fake.addVersion(S1);
  await source.current();
  fake.failAll(status.PERMISSION_DENIED);
  clock.t += 2_000;
  assert.doesNotThrow(() => source.refreshAfterFailure());
  await source.settled();
  assert.deepEqual(await source.current(), [S1]);
});

test('single flight: concurrent callers share one fetch', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { refreshIntervalMs: 60_000 } });
  fake.addVersion(S1);
  fake.addVersion(S2);
  const results = await Promise.all(Array.from({ length: 25 }, () => source.current()));
  for (const r of results) assert.deepEqual(r, [S2, S1]);
  assert.equal(fake.calls.ListSecretVersions, 1);
  assert.equal(fake.calls.AccessSecretVersion, 2);

  clock.t += 61_000; // expired: many callers, plus a forced refresh, still one fetch
  const again = await Promise.all(Array.from({ length: 25 }, () => source.current()));
  source.refreshAfterFailure();
  await source.settled();
  for (const r of again) assert.deepEqual(r, [S2, S1]);
  assert.equal(fake.calls.ListSecretVersions, 2);
  assert.equal(fake.calls.AccessSecretVersion, 4);
});

test('keeps serving the last good list while Secret Manager is UNAVAILABLE, and recovers', async (t) => {
  const { fake, clock, source } = await setup(t, {
    source: { refreshIntervalMs: 60_000, minRefreshIntervalMs: 30_000 },
  });
  fake.addVersion(S1);
  assert.deepEqual(await source.current(), [S1]);

  fake.failAll(status.UNAVAILABLE);
  fake.addVersion(S2);
  clock.t += 61_000;
  assert.deepEqual(await source.current(), [S1]);
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 2, 'the refresh was attempted');
  assert.deepEqual(await source.current(), [S1], 'stale list still served after the failure');
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 2, 'no retry before the 1 s backoff');

  clock.t += 1_000; // backoff elapsed: retried, fails again (backoff now 2 s)
  await source.current();
  await source.settled();
  assert.equal(fake.calls.ListSecretVersions, 3);

  fake.heal();
  clock.t += 2_000;
  assert.deepEqual(await source.current(), [S1]);
  await source.settled();
  assert.deepEqual(await source.current(), [S2, S1]);
  assert.equal(fake.calls.ListSecretVersions, 4);
});

test('a stale list is served for at most maxStaleMs after the last success', async (t) => {
  const { fake, clock, source } = await setup(t, {
    source: { refreshIntervalMs: 60_000, maxStaleMs: 3_600_000 },
  });
  fake.addVersion(S1);
  await source.current();
  fake.failAll(status.UNAVAILABLE);
  clock.t += 3_600_000;
  assert.deepEqual(await source.current(), [S1]);
  await source.settled();
  clock.t += 60_001;
  await rejectsUnavailable(source.current(), /UNAVAILABLE/);
});

test(
  'SecretsUnavailableError when Secret Manager is unavailable from the start; ' + 'backs off, then recovers',
  async (t) => {
    const { fake, clock, source } = await setup(t);
    fake.addVersion(S1);
    fake.failAll(status.UNAVAILABLE, 'connection refused');
    const err = await rejectsUnavailable(
      source.current(),
      /projects\/test-project\/secrets\/webhook-signing-secrets.*UNAVAILABLE.*retrying/s,
    );
    assert.equal(err.grpcStatus, 'UNAVAILABLE');
    assert.equal(fake.calls.ListSecretVersions, 1);

    // Within the backoff the error is rethrown without another RPC (no thundering herd on a dead backend).
    await rejectsUnavailable(source.current(), /UNAVAILABLE/);
    assert.equal(fake.calls.ListSecretVersions, 1);

    fake.heal();
    clock.t += 1_000;
    assert.deepEqual(await source.current(), [S1]);
  },
);

test('PERMISSION_DENIED explains which roles to grant', async (t) => {
  const { fake, source } = await setup(t);
  fake.addVersion(S1);
  fake.fail('ListSecretVersions', status.PERMISSION_DENIED, "Permission 'secretmanager.versions.list' denied");
  const err = await rejectsUnavailable(source.current(), /roles\/secretmanager\.secretAccessor/);
  assert.match(err.message, /roles\/secretmanager\.viewer/);
  assert.match(err.message, /secretmanager\.versions\.list/);
  assert.equal(err.grpcStatus, 'PERMISSION_DENIED');

  const { fake: fake2, source: source2 } = await setup(t);
  fake2.addVersion(S1);
  fake2.fail('AccessSecretVersion', status.PERMISSION_DENIED, "Permission 'secretmanager.versions.access' denied");
  const err2 = await rejectsUnavailable(
    source2.current(),
    /access the versions of.*roles\/secretmanager\.secretAccessor/s,
  );
  assert.equal(err2.grpcStatus, 'PERMISSION_DENIED');
});

test('NOT_FOUND points at WEBHOOK_SIGNING_SECRETS_SECRET', async (t) => {
  const { fake, source } = await setup(t);
  fake.secretExists = false;
  await rejectsUnavailable(source.current(), /NOT_FOUND.*WEBHOOK_SIGNING_SECRETS_SECRET/s);
});

test('no ENABLED version: SecretsUnavailableError with a fix, and no secret value in it', async (t) => {
  const { fake, clock, source } = await setup(t);
  await rejectsUnavailable(
    source.current(),
    /no ENABLED version.*gcloud secrets versions add webhook-signing-secrets/s,
  );

  fake.addVersion(S1, { state: 'DISABLED' });
  fake.addVersion(S2, { state: 'DESTROYED' });
  clock.t += 60_000;
  await rejectsUnavailable(source.current(), /no ENABLED version/);
  assert.equal(fake.calls.AccessSecretVersion, 0);
});

test('a version disabled between list and access is skipped', async (t) => {
  const { fake, source } = await setup(t);
  fake.addVersion(S1);
  const v2 = fake.addVersion(S2);
  fake.afterList = () => fake.setState(v2.number, 'DISABLED');
  assert.deepEqual(await source.current(), [S1]);
  assert.equal(fake.calls.AccessSecretVersion, 2);
});

test('malformed secret names are rejected with a clear SecretsUnavailableError', async () => {
  const bad = [
    '',
    'webhook-signing-secrets',
    'projects/p/secrets/',
    'projects//secrets/x',
    'projects/p/secrets/x/versions/latest',
    'projects/p/locations/europe-west1/secrets/x',
    'projects/p/secrets/has space',
    'https://secretmanager.googleapis.com/v1/projects/p/secrets/x',
  ];
  for (const secretName of bad) {
    assert.throws(
      () => createSecretManagerSource({ secretName }),
      (err: unknown) =>
        err instanceof SecretsUnavailableError &&
        /WEBHOOK_SIGNING_SECRETS_SECRET.*projects\/<project>\/secrets\/<secret-id>/s.test(err.message),
      secretName,
    );
  }
  assert.throws(() => parseSecretName('projects/p/secrets/x/versions/3'), /not a version/);
  assert.throws(() => parseSecretName('projects/p/locations/us/secrets/x'), /regional secrets/);
  assert.deepEqual(parseSecretName('projects/my-project-123/secrets/gemini_webhook-secrets'), {
    project: 'my-project-123',
    secretId: 'gemini_webhook-secrets',
  });
  assert.deepEqual(parseSecretName(' projects/123456789/secrets/s \n'), { project: '123456789', secretId: 's' });
});

test('a hung Secret Manager cannot hold current() past the deadline', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { timeoutMs: 300 } });
  fake.addVersion(S1);
  fake.hanging.add('ListSecretVersions');
  let started = Date.now();
  const err = await rejectsUnavailable(source.current(), /DEADLINE_EXCEEDED/);
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
  assert.equal(err.grpcStatus, 'DEADLINE_EXCEEDED');

  fake.heal();
  fake.hanging.add('AccessSecretVersion');
  clock.t += 1_000;
  started = Date.now();
  await rejectsUnavailable(source.current(), /DEADLINE_EXCEEDED/);
  assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
});

test('a hung refresh does not delay callers that have a cached list', async (t) => {
  const { fake, clock, source } = await setup(t, { source: { timeoutMs: 400, refreshIntervalMs: 60_000 } });
  fake.addVersion(S1);
  await source.current();
  fake.hanging.add('ListSecretVersions');
  clock.t += 61_000;
  const started = Date.now();
  assert.deepEqual(await source.current(), [S1]);
  assert.deepEqual(await source.current(), [S1]);
  assert.ok(Date.now() - started < 200, 'answered from cache while the refresh hangs');
  await source.settled();
  assert.deepEqual(await source.current(), [S1]);
});

test('pagination: versions spread over several pages are all loaded', async (t) => {
  const { fake, source } = await setup(t, { fake: { pageSize: 2 } });
  const values = Array.from({ length: 7 }, (_, i) => `whsec_${Buffer.from(`secret-number-${i}`).toString('base64')}`);
  for (const v of values) fake.addVersion(v);
  fake.addVersion('whsec_disabled', { state: 'DISABLED' });
  assert.deepEqual(await source.current(), [...values].reverse());
  assert.deepEqual(fake.listPageTokens, ['', '2', '4', '6']);
  assert.deepEqual(fake.listFilters, Array(4).fill('state:ENABLED'));
});

test('data_crc32c is verified when present', async (t) => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283); // CRC-32C check value
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros

  const { fake, source } = await setup(t);
  fake.addVersion(S1, { checksum: 'absent' });
  fake.addVersion(S2, { checksum: 'correct' });
  assert.deepEqual(await source.current(), [S2, S1]);

  const { fake: fake2, source: source2 } = await setup(t);
  fake2.addVersion(S1);
  fake2.addVersion(S2, { checksum: 'wrong' });
  await rejectsUnavailable(source2.current(), /version 2 failed its CRC32C check/);
});

test('a version holding no secret, several secrets or non-UTF-8 bytes is refused without echoing it', async (t) => {
  const cases: Array<[string | Buffer, RegExp]> = [
    [' \n', /version 1 is empty/],
    [`${S1},${S2}`, /more than one value/],
    [`${S1}\n${S2}\n`, /more than one value/],
    [Buffer.from([0x77, 0xff, 0xfe]), /not valid UTF-8/],
  ];
  for (const [payload, pattern] of cases) {
    const { fake, source } = await setup(t);
    fake.addVersion(payload);
    await rejectsUnavailable(source.current(), pattern);
  }
});

test('close(): further current() calls fail, an injected client is left open', async (t) => {
  const { fake, client, source } = await setup(t);
  const v1 = fake.addVersion(S1);
  await source.current();
  await source.close();
  await rejectsUnavailable(source.current(), /closed/);
  assert.doesNotThrow(() => source.refreshAfterFailure());
  const [response] = await client.accessSecretVersion({ name: v1.name });
  assert.equal(Buffer.from(response.payload?.data ?? '').toString(), S1, 'the injected client still works');
});
