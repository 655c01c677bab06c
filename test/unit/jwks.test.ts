// The JWKS cache as the receiver uses it (the key set for a token's kid, then jose verifies with
// it), against a JWKS served on 127.0.0.1. Fetches are counted at the server; the cooldown is
// driven with mocked Date timers.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { describe, test, type TestContext } from 'node:test';
import type { JWK, JWTPayload } from 'jose';
import {
  createJwksCache,
  JwksRefreshPendingError,
  JwksUnavailableError,
  JWKS_COOLDOWN_MS,
  JWKS_MAX_AGE_MS,
  issuedAtOf,
  kidOf,
  type JwksCache,
} from '../../functions/verify/jwks.ts';
import { verifyJwtDelivery } from '../../functions/verify/jwt.ts';
import { unavailable, type VerificationResult } from '../../functions/verify/result.ts';
import { serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { serveOnLoopback } from '../support/loopback-server.ts';
import { BODY, newRsaSigner, NOW, NOW_SECONDS } from '../support/signing.ts';

const signer = await newRsaSigner('google-key-1');
const second = await newRsaSigner('google-key-2');

function claims(extra: JWTPayload = {}): JWTPayload {
  return { iat: NOW_SECONDS, exp: NOW_SECONDS + 300, ...extra };
}

/** As the receiver does it: the key set for the token's kid (503 when there is none), then verification. */
async function verify(token: string, cache: JwksCache): Promise<VerificationResult> {
  let keys;
  try {
    keys = await cache.keySetFor(kidOf(token), issuedAtOf(token));
  } catch (error) {
    if (error instanceof JwksRefreshPendingError) return unavailable('jwks_refresh_pending', error.message);
    if (error instanceof JwksUnavailableError) return unavailable('jwks_unavailable', error.message);
    throw error;
  }
  // The clock is NOW whatever the mocked Date says: only the cache's cooldown moves with it.
  return verifyJwtDelivery(
    token,
    Buffer.from(BODY),
    { keys, clockToleranceSeconds: 60 * 60 * 24, requireBodyBinding: false },
    NOW,
  );
}

function assertAccepted(result: VerificationResult): void {
  assert.equal(result.ok, true, `expected acceptance, got ${JSON.stringify(result)}`);
}

function assertRejected(result: VerificationResult, kind: 'unauthorized' | 'unavailable', reason: string): void {
  assert.equal(result.ok, false, `expected rejection ${kind}/${reason}, got acceptance`);
  if (result.ok) return;
  assert.deepEqual({ kind: result.kind, reason: result.reason }, { kind, reason }, result.detail);
}

async function jwksServer(t: TestContext, keys: readonly JWK[]): Promise<JwksServer> {
  const server = await serveJwks(keys);
  t.after(() => server.close());
  return server;
}

/** The receiver's defaults: 30 s cooldown between attempts, 10 min maximum age. */
function remote(url: string, fetchTimeoutMs = 5000): JwksCache {
  return createJwksCache({ url: new URL(url), fetchTimeoutMs });
}

describe('JWKS cache', () => {
  test('a token verifies against a served JWKS, fetched once and then cached', async (t) => {
    const server = await jwksServer(t, [signer.publicJwk]);
    const keys = remote(server.url);
    assertAccepted(await verify(await signer.sign(claims()), keys));
    assertAccepted(await verify(await signer.sign(claims({ sub: 'again' })), keys));
    assert.equal(server.requests(), 1);
  });

  test('concurrent tokens share one fetch', async (t) => {
    const server = await jwksServer(t, [signer.publicJwk]);
    const keys = remote(server.url);
    const token = await signer.sign(claims());
    const results = await Promise.all(Array.from({ length: 20 }, () => verify(token, keys)));
    for (const result of results) assertAccepted(result);
    assert.equal(server.requests(), 1);
  });

  test('an unknown kid refetches the JWKS at most once every 30 s', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW.getTime() });
    const server = await jwksServer(t, [signer.publicJwk]);
    const keys = remote(server.url);
    const tokenA = await signer.sign(claims());
    const tokenB = await second.sign(claims());

    assertAccepted(await verify(tokenA, keys));
    assert.equal(server.requests(), 1);

    // Google rotates: key 1 out, key 2 in. Within the cooldown the new kid is unknown, no refetch;
    // tokenB was issued when the set was fetched, so its key may be newer than the set: 503.
    server.setDocument({ keys: [second.publicJwk] });
    assertRejected(await verify(tokenB, keys), 'unavailable', 'jwks_refresh_pending');
    t.mock.timers.tick(JWKS_COOLDOWN_MS - 1000);
    assertRejected(await verify(tokenB, keys), 'unavailable', 'jwks_refresh_pending');
    assertAccepted(await verify(tokenA, keys));
    assert.equal(server.requests(), 1);

    // Past the cooldown, the unknown kid triggers one refetch and verifies.
    t.mock.timers.tick(1_001);
    assertAccepted(await verify(tokenB, keys));
    assert.equal(server.requests(), 2);

    // The retired key and made-up kids are now unknown, and hammering them does not refetch.
    for (let i = 0; i < 5; i++) {
      assertRejected(await verify(tokenA, keys), 'unauthorized', 'jwt_unknown_key');
      assertRejected(
        await verify(await signer.sign(claims(), { kid: `made-up-${i}` }), keys),
        'unauthorized',
        'jwt_unknown_key',
      );
    }
    assert.equal(server.requests(), 2);

    t.mock.timers.tick(JWKS_COOLDOWN_MS + 1);
    assertRejected(await verify(tokenA, keys), 'unauthorized', 'jwt_unknown_key');
    assert.equal(server.requests(), 3);
  });

  test(
    'anyone can spend the cooldown, so a kid missing from a set fetched before the token was issued is 503, ' +
      'and 401 once a later fetch lacks it too',
    async (t) => {
      // Issue 20 item 7: an unsigned token naming a made-up kid spent the one fetch per 30 s, and a
      // key Google published just after was refused with 401 jwt_unknown_key for the whole cooldown.
      t.mock.timers.enable({ apis: ['Date'], now: NOW.getTime() });
      const server = await jwksServer(t, [signer.publicJwk]);
      const keys = remote(server.url);
      const probe = await second.sign(claims({ iat: NOW_SECONDS - 60 }), { kid: 'made-up' });
      assertRejected(await verify(probe, keys), 'unauthorized', 'jwt_unknown_key');
      assert.equal(server.requests(), 1, 'the probe spent the fetch');

      t.mock.timers.tick(2000);
      server.setDocument({ keys: [signer.publicJwk, second.publicJwk] }); // Google publishes key 2
      t.mock.timers.tick(8000);
      const genuine = await second.sign(claims({ iat: NOW_SECONDS + 10 }));
      assertRejected(await verify(genuine, keys), 'unavailable', 'jwks_refresh_pending');
      // Issued well before the fetch: no key published since can be its key.
      const old = await second.sign(claims({ iat: NOW_SECONDS - 3600 }), { kid: 'retired' });
      assertRejected(await verify(old, keys), 'unauthorized', 'jwt_unknown_key');
      // The genuine token with a cached key is untouched by any of this.
      assertAccepted(await verify(await signer.sign(claims()), keys));
      assert.equal(server.requests(), 1);

      // Gemini retries after the cooldown: one fetch, and the new key verifies.
      t.mock.timers.tick(JWKS_COOLDOWN_MS);
      assertAccepted(await verify(genuine, keys));
      assert.equal(server.requests(), 2);
    },
  );

  test('a failing JWKS is tried at most once per cooldown, failures included, and recovers after it', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW.getTime() });
    const server = await jwksServer(t, [signer.publicJwk]);
    server.setDocument({ error: 'internal' }, 500);
    const keys = remote(server.url);
    for (let i = 0; i < 200; i++) {
      assertRejected(
        await verify(await signer.sign(claims(), { kid: `unknown-${i}` }), keys),
        'unavailable',
        'jwks_unavailable',
      );
    }
    assert.equal(server.requests(), 1, '200 tokens with unknown kids against a failing JWKS: one fetch');

    server.setDocument({ keys: [signer.publicJwk] });
    const token = await signer.sign(claims());
    assertRejected(await verify(token, keys), 'unavailable', 'jwks_unavailable');
    assert.equal(server.requests(), 1, 'a JWKS that is back is not fetched before the cooldown ends');
    t.mock.timers.tick(JWKS_COOLDOWN_MS);
    assertAccepted(await verify(token, keys));
    assert.equal(server.requests(), 2);
  });

  test(
    'while a refresh fails, tokens whose key is cached still verify; ' + 'unknown kids are unavailable, not unknown',
    async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: NOW.getTime() });
      const server = await jwksServer(t, [signer.publicJwk]);
      const keys = remote(server.url);
      const known = await signer.sign(claims());
      assertAccepted(await verify(known, keys));

      // The JWKS starts failing and the cached set grows older than its maximum age.
      server.setDocument('<html>oops</html>', 502);
      t.mock.timers.tick(JWKS_MAX_AGE_MS + 1);
      assertAccepted(await verify(known, keys));
      assert.equal(server.requests(), 2, 'the stale set was refreshed once, and that failure kept it');
      for (let i = 0; i < 50; i++) assertAccepted(await verify(known, keys));
      // A kid the cached set lacks cannot be told apart from a new Google key while refreshing fails: 503.
      assertRejected(await verify(await second.sign(claims()), keys), 'unavailable', 'jwks_unavailable');
      assert.equal(server.requests(), 2, 'no further fetch within the cooldown');

      t.mock.timers.tick(JWKS_COOLDOWN_MS);
      assertAccepted(await verify(known, keys));
      assert.equal(server.requests(), 3, 'the next refresh attempt comes one cooldown later');
    },
  );

  test('JWKS server down: unavailable (503), not unauthorized', async () => {
    const server = await serveJwks([signer.publicJwk]);
    const { url } = server;
    await server.close();
    assertRejected(await verify(await signer.sign(claims()), remote(url)), 'unavailable', 'jwks_unavailable');
  });

  test('JWKS answering garbage: unavailable', async (t) => {
    const server = await jwksServer(t, []);
    const token = await signer.sign(claims());
    for (const garbage of ['<html>not json</html>', { keys: 'nope' }, { notKeys: [] }, [1, 2, 3], '']) {
      server.setDocument(garbage);
      assertRejected(await verify(token, remote(server.url)), 'unavailable', 'jwks_unavailable');
    }
  });

  test('a JWKS entry with broken key material: unavailable, never a verification', async (t) => {
    const server = await jwksServer(t, [
      { kty: 'RSA', kid: signer.kid, alg: 'RS256', use: 'sig', n: '%%%not-base64url%%%', e: 'AQAB' },
    ]);
    assertRejected(await verify(await signer.sign(claims()), remote(server.url)), 'unavailable', 'jwks_unavailable');
  });

  test('JWKS not answering in time: unavailable', async (t) => {
    const hanging = createServer(() => {
      /* never answers */
    });
    const keys = remote(`${await serveOnLoopback(t, hanging)}/jwks.json`, 200);
    assertRejected(await verify(await signer.sign(claims()), keys), 'unavailable', 'jwks_unavailable');
  });

  test('an unknown kid on a healthy JWKS stays unauthorized (401, not 503)', async (t) => {
    const server = await jwksServer(t, [signer.publicJwk]);
    assertRejected(
      await verify(await signer.sign(claims(), { kid: 'nope' }), remote(server.url)),
      'unauthorized',
      'jwt_unknown_key',
    );
  });
});
