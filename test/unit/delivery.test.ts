// Scheme detection from the headers (as Node's req.headersDistinct gives them) and the one entry
// point the HTTP edge calls.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLocalJWKSet } from 'jose';
import { detectScheme, verifyDetected, type Detected, type DistinctHeaders } from '../../functions/verify/delivery.ts';
import { parseEd25519PublicKeys, parseSigningSecrets } from '../../functions/verify/keys.ts';
import type { Rejection, Scheme, VerificationResult } from '../../functions/verify/result.ts';
import {
  BODY,
  distinct,
  newEd25519Signer,
  newRsaSigner,
  newSecret,
  NOW,
  NOW_SECONDS,
  staticHeaders,
} from '../support/signing.ts';

const BOTH: ReadonlySet<Scheme> = new Set(['static', 'jwt']);
const STATIC_ONLY: ReadonlySet<Scheme> = new Set(['static']);
const JWT_ONLY: ReadonlySet<Scheme> = new Set(['jwt']);
const SECRET = newSecret();
const signer = await newRsaSigner('google-key-1');
const jwt = await signer.sign({ iat: NOW_SECONDS, exp: NOW_SECONDS + 300 });

function assertRejection(
  result: Detected | Rejection | VerificationResult,
  kind: Rejection['kind'],
  reason: string,
): void {
  assert.ok(
    'ok' in result && result.ok === false,
    `expected rejection ${kind}/${reason}, got ${JSON.stringify(result)}`,
  );
  assert.deepEqual({ kind: result.kind, reason: result.reason }, { kind, reason }, result.detail);
}

function detected(result: Detected | Rejection): Detected {
  assert.ok(!('ok' in result), `expected a detected scheme, got ${JSON.stringify(result)}`);
  return result;
}

describe('detectScheme', () => {
  test('v1 entries are the static scheme, with the three headers passed on', () => {
    const headers = staticHeaders(SECRET, BODY);
    assert.deepEqual(detectScheme(distinct(headers), BOTH), { scheme: 'static', headers });
  });

  test('v1a entries, and mixed v1/v1a entries, are the static scheme', async () => {
    const signer = await newEd25519Signer();
    const v1 = staticHeaders(SECRET, BODY);
    const v1a = await signer.sign(v1.id, NOW_SECONDS, BODY);
    for (const signature of [v1a, `${v1a} ${v1.signature}`]) {
      assert.equal(detected(detectScheme(distinct({ ...v1, signature }), BOTH)).scheme, 'static');
    }
  });

  test('a three-segment JWT is the jwt scheme; id and timestamp ride along when sent', () => {
    assert.deepEqual(detectScheme({ 'webhook-signature': [jwt] }, BOTH), { scheme: 'jwt', token: jwt });
    assert.deepEqual(
      detectScheme(
        { 'webhook-signature': [jwt], 'webhook-id': ['msg_1'], 'webhook-timestamp': [String(NOW_SECONDS)] },
        BOTH,
      ),
      { scheme: 'jwt', token: jwt, webhookId: 'msg_1', timestamp: String(NOW_SECONDS) },
    );
  });

  test('surrounding whitespace does not change the scheme', () => {
    assert.deepEqual(detectScheme({ 'webhook-signature': [` ${jwt} `] }, BOTH), { scheme: 'jwt', token: jwt });
  });

  test('a disabled scheme is refused as unauthorized (401), whichever it is', () => {
    assertRejection(detectScheme({ 'webhook-signature': [jwt] }, STATIC_ONLY), 'unauthorized', 'scheme_disabled');
    assertRejection(detectScheme(distinct(staticHeaders(SECRET, BODY)), JWT_ONLY), 'unauthorized', 'scheme_disabled');
    assert.equal(detected(detectScheme({ 'webhook-signature': [jwt] }, JWT_ONLY)).scheme, 'jwt');
    assert.equal(detected(detectScheme(distinct(staticHeaders(SECRET, BODY)), STATIC_ONLY)).scheme, 'static');
  });

  test('a repeated header is malformed (never guessed at), whichever header it is', () => {
    const headers = staticHeaders(SECRET, BODY);
    const base = distinct(headers);
    for (const name of ['webhook-signature', 'webhook-id', 'webhook-timestamp']) {
      const value = base[name]![0]!;
      assertRejection(detectScheme({ ...base, [name]: [value, value] }, BOTH), 'malformed', 'duplicate_headers');
    }
    assertRejection(detectScheme({ 'webhook-signature': [jwt, jwt] }, BOTH), 'malformed', 'duplicate_headers');
  });

  test('missing or empty webhook-signature is malformed', () => {
    const { id, timestamp } = staticHeaders(SECRET, BODY);
    for (const headers of [
      {},
      distinct({ id, timestamp }),
      { ...distinct({ id, timestamp }), 'webhook-signature': [] },
      distinct({ id, timestamp, signature: '  ' }),
    ]) {
      assertRejection(detectScheme(headers, BOTH), 'malformed', 'missing_headers');
    }
  });

  test('static entries without webhook-id or webhook-timestamp are malformed', () => {
    const { id, timestamp, signature } = staticHeaders(SECRET, BODY);
    for (const headers of [{ signature }, { id, signature }, { timestamp, signature }]) {
      const result = detectScheme(distinct(headers), BOTH);
      assertRejection(result, 'malformed', 'missing_headers');
    }
  });

  test('an unsigned "alg: none" token (empty third segment) is not taken for a JWT', () => {
    const [header, payload] = jwt.split('.');
    const result = detectScheme({ 'webhook-signature': [`${header}.${payload}.`] }, BOTH);
    assert.ok('ok' in result && !result.ok);
  });
});

describe('verifyDetected', () => {
  const settings = { toleranceSeconds: 300 };
  const staticKeys = { hmacKeys: parseSigningSecrets([SECRET], 'test'), ed25519Keys: [] };

  async function run(
    headers: DistinctHeaders,
    body: string,
    keys: Parameters<typeof verifyDetected>[2],
    schemes = BOTH,
  ): Promise<VerificationResult | Rejection> {
    const found = detectScheme(headers, schemes);
    if ('ok' in found) return found;
    return verifyDetected(found, Buffer.from(body), keys, settings, NOW);
  }

  test('a static delivery verifies end to end', async () => {
    const result = await run(distinct(staticHeaders(SECRET, BODY)), BODY, { static: staticKeys });
    assert.equal(result.ok && result.scheme, 'static-v1');
  });

  test('a v1a delivery verifies end to end', async () => {
    const signer = await newEd25519Signer();
    const v1 = staticHeaders(SECRET, BODY);
    const signature = await signer.sign(v1.id, NOW_SECONDS, BODY);
    const keys = { static: { hmacKeys: [], ed25519Keys: parseEd25519PublicKeys([signer.publicKey], 'test') } };
    const result = await run(distinct({ ...v1, signature }), BODY, keys);
    assert.equal(result.ok && result.scheme, 'static-v1a');
  });

  test('the tolerance setting and the clock argument are applied to static deliveries', async () => {
    const headers = distinct(staticHeaders(SECRET, BODY, { timestampSeconds: NOW_SECONDS - 100 }));
    const found = detected(detectScheme(headers, BOTH));
    const body = Buffer.from(BODY);
    assert.equal((await verifyDetected(found, body, { static: staticKeys }, { toleranceSeconds: 100 }, NOW)).ok, true);
    assertRejection(
      await verifyDetected(found, body, { static: staticKeys }, { toleranceSeconds: 99 }, NOW),
      'unauthorized',
      'timestamp_out_of_window',
    );
    // The clock is taken in whole seconds: 999 ms past the edge is still the same second.
    assert.equal(
      (
        await verifyDetected(
          found,
          body,
          { static: staticKeys },
          { toleranceSeconds: 100 },
          new Date(NOW.getTime() + 999),
        )
      ).ok,
      true,
    );
    assertRejection(
      await verifyDetected(
        found,
        body,
        { static: staticKeys },
        { toleranceSeconds: 100 },
        new Date(NOW.getTime() + 1000),
      ),
      'unauthorized',
      'timestamp_out_of_window',
    );
  });

  test('a static delivery with no static keys at all is refused', async () => {
    assertRejection(await run(distinct(staticHeaders(SECRET, BODY)), BODY, {}), 'unauthorized', 'no_keys_configured');
  });

  test('a JWT delivery verifies end to end', async () => {
    const jwtOptions = {
      keys: createLocalJWKSet({ keys: [signer.publicJwk] }),
      clockToleranceSeconds: 60,
      requireBodyBinding: false,
    };
    const result = await run({ 'webhook-signature': [jwt] }, BODY, { jwt: jwtOptions });
    assert.equal(result.ok && result.scheme, 'jwt');
  });

  test('a JWT delivery with no JWT options is refused as disabled', async () => {
    assertRejection(
      await run({ 'webhook-signature': [jwt] }, BODY, { static: staticKeys }),
      'unauthorized',
      'scheme_disabled',
    );
  });
});
