// Dynamic (RS256 JWT) verification: tokens made by `jose`, attacks built by hand, the JWKS served
// locally (createLocalJWKSet). The remote JWKS cache has its own tests (jwks.test.ts).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { CompactSign, createLocalJWKSet, type JWTPayload } from 'jose';
import { MAX_COMPARED_DEPTH, MAX_JWT_LENGTH, verifyJwtDelivery, type JwtOptions } from '../../functions/verify/jwt.ts';
import type { VerificationResult } from '../../functions/verify/result.ts';
import { base64url, BODY, hs256WithKey, newRsaSigner, NOW, NOW_SECONDS, unsecuredToken } from '../support/signing.ts';

const body = Buffer.from(BODY);
const EVENT = JSON.parse(BODY) as Record<string, unknown>;

// One key pair in the JWKS, one "rotated in later", one an attacker holds under a known kid.
const signer = await newRsaSigner('google-key-1');
const second = await newRsaSigner('google-key-2');
const impostor = await newRsaSigner('google-key-1');
const localKeys = createLocalJWKSet({ keys: [signer.publicJwk, second.publicJwk] });

/** Claims a plausible dynamic delivery carries: valid for five minutes around NOW. */
function claims(extra: JWTPayload = {}): JWTPayload {
  return { iat: NOW_SECONDS, exp: NOW_SECONDS + 300, ...extra };
}

function options(overrides: Partial<JwtOptions> = {}): JwtOptions {
  return { keys: localKeys, clockToleranceSeconds: 60, requireBodyBinding: false, ...overrides };
}

function verify(
  token: string,
  overrides: Partial<JwtOptions> = {},
  payload: Buffer = body,
  now: Date = NOW,
): Promise<VerificationResult> {
  return verifyJwtDelivery(token, payload, options(overrides), now);
}

function assertAccepted(
  result: VerificationResult,
  binding: 'claims' | 'digest' | 'signature-only' = 'signature-only',
): void {
  assert.equal(result.ok, true, `expected acceptance, got ${JSON.stringify(result)}`);
  assert.equal(result.ok && result.scheme, 'jwt');
  assert.equal(result.ok && result.scheme === 'jwt' && result.binding, binding);
}

function assertRejected(result: VerificationResult, kind: 'unauthorized' | 'unavailable', reason: string): void {
  assert.equal(result.ok, false, `expected rejection ${kind}/${reason}, got acceptance`);
  if (result.ok) return;
  assert.deepEqual({ kind: result.kind, reason: result.reason }, { kind, reason }, result.detail);
}

describe('RS256 signatures', () => {
  test('a token signed by a key in the JWKS verifies and exposes its claims', async () => {
    const result = await verify(await signer.sign(claims({ sub: 'webhook' })));
    assertAccepted(result);
    assert.equal(result.ok && result.scheme === 'jwt' && result.claims['sub'], 'webhook');
  });

  test('the key is chosen by kid: a token from the second JWKS key verifies too', async () => {
    assertAccepted(await verify(await second.sign(claims())));
  });

  test('alg "none" is refused, with or without a third segment', async () => {
    assertRejected(await verify(unsecuredToken(claims(), signer.kid)), 'unauthorized', 'jwt_invalid');
    assertRejected(await verify(unsecuredToken(claims(), signer.kid, 'AAAA')), 'unauthorized', 'jwt_alg_not_allowed');
  });

  test('HS256 keyed with the RSA public key (algorithm confusion) is refused', async () => {
    for (const hmacKey of [
      signer.publicPem,
      JSON.stringify(signer.publicJwk),
      Buffer.from(signer.publicJwk.n!, 'base64url'),
    ]) {
      assertRejected(await verify(hs256WithKey(claims(), signer.kid, hmacKey)), 'unauthorized', 'jwt_alg_not_allowed');
    }
  });

  test('other RSA algorithms with a JWKS key are refused: RS256 only', async () => {
    for (const alg of ['RS384', 'RS512', 'PS256']) {
      const other = await newRsaSigner(signer.kid, alg);
      const keys = createLocalJWKSet({ keys: [{ ...other.publicJwk, alg: undefined }] });
      assertRejected(await verify(await other.sign(claims()), { keys }), 'unauthorized', 'jwt_alg_not_allowed');
    }
  });

  test('a kid the JWKS does not have is an unknown key', async () => {
    assertRejected(
      await verify(await signer.sign(claims(), { kid: 'not-in-jwks' })),
      'unauthorized',
      'jwt_unknown_key',
    );
  });

  test('a token without kid does not pick one of several keys', async () => {
    assertRejected(await verify(await signer.sign(claims(), { kid: null })), 'unauthorized', 'jwt_unknown_key');
  });

  test('a key pair that is not in the JWKS, under a kid that is, fails', async () => {
    assertRejected(await verify(await impostor.sign(claims())), 'unauthorized', 'jwt_invalid');
  });

  test('a token signed by one JWKS key but naming the other one fails', async () => {
    assertRejected(await verify(await signer.sign(claims(), { kid: second.kid })), 'unauthorized', 'jwt_invalid');
  });

  test('a tampered payload fails', async () => {
    const [header, , signature] = (await signer.sign(claims({ sub: 'a' }))).split('.');
    const forged = `${header}.${base64url(claims({ sub: 'b' }))}.${signature}`;
    assertRejected(await verify(forged), 'unauthorized', 'jwt_invalid');
  });

  test('a tampered signature fails', async () => {
    const [header, payload, signature = ''] = (await signer.sign(claims())).split('.');
    const bytes = Buffer.from(signature, 'base64url');
    bytes[100] = bytes[100]! ^ 0x01;
    assertRejected(await verify(`${header}.${payload}.${bytes.toString('base64url')}`), 'unauthorized', 'jwt_invalid');
    assertRejected(
      await verify(`${header}.${payload}.${bytes.subarray(0, 128).toString('base64url')}`),
      'unauthorized',
      'jwt_invalid',
    );
  });

  test('a tampered header fails (the header is signed too)', async () => {
    const [header = '', payload, signature] = (await signer.sign(claims())).split('.');
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    const forged = `${base64url({ ...decoded, typ: 'at+jwt' })}.${payload}.${signature}`;
    assertRejected(await verify(forged), 'unauthorized', 'jwt_invalid');
  });

  test('not a compact JWT, or longer than the limit, is refused before any decoding', async () => {
    for (const token of ['a.b', 'a.b.c.d', 'a.b.c ', '', 'x'.repeat(10)]) {
      assertRejected(await verify(token), 'unauthorized', 'jwt_invalid');
    }
    const huge = await signer.sign(claims({ padding: 'x'.repeat(MAX_JWT_LENGTH) }));
    assert.ok(huge.length > MAX_JWT_LENGTH);
    assertRejected(await verify(huge), 'unauthorized', 'jwt_invalid');
  });

  test('a validly signed payload that is not a JSON claims set fails', async () => {
    const token = await new CompactSign(Buffer.from('not json'))
      .setProtectedHeader({ alg: 'RS256', kid: signer.kid })
      .sign(signer.privateKey);
    assertRejected(await verify(token), 'unauthorized', 'jwt_invalid');
  });
});

describe('time claims', () => {
  test('an expired token is refused', async () => {
    assertRejected(await verify(await signer.sign(claims({ exp: NOW_SECONDS - 120 }))), 'unauthorized', 'jwt_expired');
    assertRejected(
      await verify(await signer.sign(claims({ exp: NOW_SECONDS - 1 })), { clockToleranceSeconds: 0 }),
      'unauthorized',
      'jwt_expired',
    );
  });

  test('expiry within the clock tolerance passes', async () => {
    assertAccepted(await verify(await signer.sign(claims({ exp: NOW_SECONDS - 30 }))));
    assertAccepted(await verify(await signer.sign(claims({ exp: NOW_SECONDS + 1 })), { clockToleranceSeconds: 0 }));
  });

  test('a token not yet valid (nbf) is refused', async () => {
    const result = await verify(await signer.sign(claims({ nbf: NOW_SECONDS + 120 })));
    assertRejected(result, 'unauthorized', 'jwt_claim_invalid');
    assert.match(!result.ok ? result.detail : '', /nbf/);
    assertRejected(
      await verify(await signer.sign(claims({ nbf: NOW_SECONDS + 1 })), { clockToleranceSeconds: 0 }),
      'unauthorized',
      'jwt_claim_invalid',
    );
  });

  test('nbf within the clock tolerance passes', async () => {
    assertAccepted(await verify(await signer.sign(claims({ nbf: NOW_SECONDS + 30 }))));
    assertAccepted(await verify(await signer.sign(claims({ nbf: NOW_SECONDS })), { clockToleranceSeconds: 0 }));
  });

  test('exp and nbf are enforced only when present', async () => {
    assertAccepted(await verify(await signer.sign({})));
  });

  test('the clock is the argument, not the wall clock', async () => {
    const token = await signer.sign(claims());
    assertAccepted(await verify(token, {}, body, NOW));
    assertRejected(await verify(token, {}, body, new Date((NOW_SECONDS + 3600) * 1000)), 'unauthorized', 'jwt_expired');
  });

  test('a non-numeric exp or nbf is refused', async () => {
    assertRejected(
      await verify(await signer.sign(claims({ exp: 'tomorrow' as unknown as number }))),
      'unauthorized',
      'jwt_claim_invalid',
    );
    assertRejected(
      await verify(await signer.sign(claims({ nbf: 'yesterday' as unknown as number }))),
      'unauthorized',
      'jwt_claim_invalid',
    );
  });
});

describe('audience and issuer', () => {
  const audience = 'https://hooks.example.com/';
  const issuer = 'https://generativelanguage.googleapis.com';

  test('when configured, the right aud and iss pass', async () => {
    assertAccepted(await verify(await signer.sign(claims({ aud: audience, iss: issuer })), { audience, issuer }));
    assertAccepted(await verify(await signer.sign(claims({ aud: ['other', audience] })), { audience }));
  });

  test('when configured, a wrong or missing aud is refused', async () => {
    for (const extra of [{ aud: 'https://attacker.example/' }, {}, { aud: [] as string[] }]) {
      assertRejected(await verify(await signer.sign(claims(extra)), { audience }), 'unauthorized', 'jwt_claim_invalid');
    }
  });

  test('when configured, a wrong or missing iss is refused', async () => {
    for (const extra of [{ iss: 'https://accounts.google.com' }, {}]) {
      assertRejected(await verify(await signer.sign(claims(extra)), { issuer }), 'unauthorized', 'jwt_claim_invalid');
    }
  });

  test('when not configured, any aud and iss pass', async () => {
    assertAccepted(await verify(await signer.sign(claims({ aud: 'anything', iss: 'anyone' }))));
  });
});

describe('body binding', () => {
  const sha256 = createHash('sha256').update(body).digest();

  test('claims: an `event` claim equal to the body binds it', async () => {
    assertAccepted(await verify(await signer.sign(claims({ event: EVENT }))), 'claims');
  });

  test('claims: key order and whitespace in the body do not matter, the event does', async () => {
    const reordered = Buffer.from(
      JSON.stringify(
        { data: EVENT['data'], timestamp: EVENT['timestamp'], version: 'v1', type: EVENT['type'] },
        null,
        2,
      ),
    );
    assertAccepted(await verify(await signer.sign(claims({ event: EVENT })), {}, reordered), 'claims');
  });

  test('claims: an event claim that differs from the body is a mismatch', async () => {
    const token = await signer.sign(claims({ event: { ...EVENT, type: 'batch.failed' } }));
    assertRejected(await verify(token), 'unauthorized', 'body_binding_mismatch');
    const other = Buffer.from(BODY.replace('batch_123456', 'batch_999'));
    assertRejected(
      await verify(await signer.sign(claims({ event: EVENT })), {}, other),
      'unauthorized',
      'body_binding_mismatch',
    );
    assertRejected(
      await verify(await signer.sign(claims({ event: EVENT })), {}, Buffer.from('not json')),
      'unauthorized',
      'body_binding_mismatch',
    );
  });

  test('claims: top-level claims that cover every field of the body bind it', async () => {
    assertAccepted(await verify(await signer.sign(claims({ ...EVENT }))), 'claims');
    // Registered claims the body lacks (iss, aud, exp, ...) do not matter: they describe the token.
    assertAccepted(await verify(await signer.sign(claims({ ...EVENT, iss: 'https://example.com' }))), 'claims');
    // Any other claim the body lacks does (issue 20 item 5).
    assertRejected(
      await verify(await signer.sign(claims({ ...EVENT, extra: 1 }))),
      'unauthorized',
      'body_binding_mismatch',
    );
    assertRejected(
      await verify(await signer.sign(claims({ ...EVENT, data: { id: 'batch_other' } }))),
      'unauthorized',
      'body_binding_mismatch',
    );
    assertRejected(
      await verify(await signer.sign(claims({ ...EVENT, type: 'batch.failed' }))),
      'unauthorized',
      'body_binding_mismatch',
    );
  });

  test('claims: type and data alone do not bind a body with fields the claims lack', async () => {
    // The adversarial pass: a captured token with {type, data, user_metadata} vouched for a body
    // that changed user_metadata and added timestamp and note.
    const token = await signer.sign(
      claims({ type: EVENT['type'], data: EVENT['data'], user_metadata: { tenant: 'acme' } }),
    );
    const bodyOf = (event: Record<string, unknown>) => Buffer.from(JSON.stringify(event));
    const swapped = bodyOf({ user_metadata: { tenant: 'globex' }, type: EVENT['type'], data: EVENT['data'] });
    const added = bodyOf({
      user_metadata: { tenant: 'acme' },
      type: EVENT['type'],
      data: EVENT['data'],
      timestamp: '2001-01-01T00:00:00Z',
      note: 'added',
    });
    for (const payload of [swapped, added, body]) {
      const result = await verify(token, {}, payload);
      assertRejected(result, 'unauthorized', 'body_binding_mismatch');
    }
    // The same token with exactly the fields it covers binds.
    assertAccepted(
      await verify(token, {}, bodyOf({ type: EVENT['type'], data: EVENT['data'], user_metadata: { tenant: 'acme' } })),
      'claims',
    );
    // A body missing a claim the token carries is not that event either (issue 20 item 5).
    assertRejected(
      await verify(token, {}, bodyOf({ type: EVENT['type'], data: EVENT['data'] })),
      'unauthorized',
      'body_binding_mismatch',
    );
  });

  test('claims: a body that is not a JSON object is a mismatch, never signature-only', async () => {
    const token = await signer.sign(claims({ ...EVENT }));
    for (const payload of ['not json', '[1,2]', '"batch.succeeded"', 'null', '']) {
      assertRejected(await verify(token, {}, Buffer.from(payload)), 'unauthorized', 'body_binding_mismatch');
    }
  });

  test('claims: a body that repeats a key is refused, whichever copy the claims match', async () => {
    // JSON.parse keeps the last "type"; a parser that keeps the first would read "evil.type".
    const token = await signer.sign(claims({ ...EVENT }));
    const inner = BODY.slice(1);
    for (const repeated of [
      `{"type":"evil.type",${inner}`,
      `{${inner.slice(0, -1)},"type":"batch.succeeded"}`,
      `{"t\u0079pe":"evil.type",${inner}`,
    ]) {
      const result = await verify(token, {}, Buffer.from(repeated));
      assertRejected(result, 'unauthorized', 'body_binding_mismatch');
      assert.match(result.ok ? '' : result.detail, /repeats the key "type"/);
    }
    // Equal keys in different objects are not repeats.
    const nested = { ...EVENT, data: { id: 'b', type: 'inner' } };
    assertAccepted(
      await verify(await signer.sign(claims({ ...nested })), {}, Buffer.from(JSON.stringify(nested))),
      'claims',
    );
  });

  test(
    `claims: bodies nested deeper than ${MAX_COMPARED_DEPTH} levels are a mismatch, ` + 'not a stack overflow',
    async () => {
      const deep = `{"type":"batch.succeeded","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`;
      for (const token of [
        await signer.sign(claims({ type: 'batch.succeeded', data: [] })),
        await signer.sign(claims({ event: EVENT })),
      ]) {
        assertRejected(await verify(token, {}, Buffer.from(deep)), 'unauthorized', 'body_binding_mismatch');
      }
      // Deep but within the limit still compares.
      const nested = {
        ...EVENT,
        data: JSON.parse(`${'['.repeat(MAX_COMPARED_DEPTH - 2)}${']'.repeat(MAX_COMPARED_DEPTH - 2)}`) as unknown,
      };
      assertAccepted(
        await verify(await signer.sign(claims({ event: nested })), {}, Buffer.from(JSON.stringify(nested))),
        'claims',
      );
    },
  );

  test('claims: numbers are compared by their exact decimal value as written, never as doubles', async () => {
    // Issue 20 item 4: order_id 1234567890123456789 in the claims vouched for a body saying ...700
    // (the same double). jose's SignJWT serialises a JavaScript number, so the payload is signed as text.
    const token = (orderId: string) =>
      new CompactSign(
        new TextEncoder().encode(
          `{"type":"batch.succeeded","data":{"id":"b","order_id":${orderId}},` +
            `"iat":${NOW_SECONDS},"exp":${NOW_SECONDS + 300}}`,
        ),
      )
        .setProtectedHeader({ alg: 'RS256', kid: signer.kid })
        .sign(signer.privateKey);
    const bodyWith = (orderId: string) =>
      Buffer.from(`{"type":"batch.succeeded","data":{"id":"b","order_id":${orderId}}}`);
    const exact = await token('1234567890123456789');
    for (const altered of ['1234567890123456700', '1234567890123456800', '1234567890123456789.4']) {
      assertRejected(await verify(exact, {}, bodyWith(altered)), 'unauthorized', 'body_binding_mismatch');
    }
    assertAccepted(await verify(exact, {}, bodyWith('1234567890123456789')), 'claims');
    // One value, other spellings: still the same number.
    assertAccepted(await verify(await token('1.0'), {}, bodyWith('1')), 'claims');
    assertAccepted(await verify(await token('1.50e2'), {}, bodyWith('150')), 'claims');
    assertRejected(await verify(await token('1.0'), {}, bodyWith('1.01')), 'unauthorized', 'body_binding_mismatch');
  });

  test('claims: a body far larger than the claims is refused before it is parsed', async () => {
    // Issue 20 item 6: a captured token with 1 MiB of padding or nesting cost a full parse each time.
    const token = await signer.sign(claims({ ...EVENT }));
    const padded = Buffer.from(`${' '.repeat(64 * 1024)}${BODY}`);
    const result = await verify(token, {}, padded);
    assertRejected(result, 'unauthorized', 'body_binding_mismatch');
    assert.match(result.ok ? '' : result.detail, /far larger than the claims/);
    // Indentation is not "far larger".
    assertAccepted(await verify(token, {}, Buffer.from(JSON.stringify(EVENT, null, 4))), 'claims');
  });

  test('receiver secret: only a signed user_metadata carrying it passes', async () => {
    // Issue 20 item 8: another Gemini user can point a job at this receiver and Google delivers a
    // correctly signed, correctly addressed token with their body.
    const secret = `rs_${'s'.repeat(40)}`;
    const withSecret = { receiverSecret: secret };
    const mine = { user_metadata: { receiver_secret: secret, tenant: 'acme' } };
    assertAccepted(await verify(await signer.sign(claims(mine)), withSecret));
    for (const metadata of [
      {},
      { user_metadata: { tenant: 'acme' } },
      { user_metadata: { receiver_secret: 'guess' } },
    ]) {
      assertRejected(
        await verify(await signer.sign(claims(metadata)), withSecret),
        'unauthorized',
        'receiver_secret_mismatch',
      );
    }
    // In the body: counted only when the token binds the body (here by digest), never signature-only.
    const bodyWithSecret = Buffer.from(JSON.stringify({ ...EVENT, ...mine }));
    const digest = createHash('sha256').update(bodyWithSecret).digest('hex');
    assertAccepted(
      await verify(await signer.sign(claims({ body_sha256: digest })), withSecret, bodyWithSecret),
      'digest',
    );
    assertRejected(
      await verify(await signer.sign(claims()), withSecret, bodyWithSecret),
      'unauthorized',
      'receiver_secret_mismatch',
    );
    // Not configured: no check.
    assertAccepted(await verify(await signer.sign(claims())));
  });

  test('digest: a hex SHA-256 of the body binds it', async () => {
    assertAccepted(await verify(await signer.sign(claims({ body_sha256: sha256.toString('hex') }))), 'digest');
    assertAccepted(
      await verify(await signer.sign(claims({ body_sha256: sha256.toString('hex').toUpperCase() }))),
      'digest',
    );
  });

  test('digest: base64url, base64 and RFC 9530 forms bind it', async () => {
    assertAccepted(await verify(await signer.sign(claims({ sha256: sha256.toString('base64url') }))), 'digest');
    assertAccepted(await verify(await signer.sign(claims({ payload_hash: sha256.toString('base64') }))), 'digest');
    assertAccepted(
      await verify(await signer.sign(claims({ digest: `sha-256=:${sha256.toString('base64')}:` }))),
      'digest',
    );
  });

  test('digest: a digest of other bytes, or a claim that is no digest, is a mismatch', async () => {
    const other = createHash('sha256').update(`${BODY} `).digest();
    assertRejected(
      await verify(await signer.sign(claims({ body_sha256: other.toString('hex') }))),
      'unauthorized',
      'body_binding_mismatch',
    );
    assertRejected(
      await verify(await signer.sign(claims({ sha256: other.toString('base64url') }))),
      'unauthorized',
      'body_binding_mismatch',
    );
    assertRejected(
      await verify(await signer.sign(claims({ body_sha256: 'abc' }))),
      'unauthorized',
      'body_binding_mismatch',
    );
    // The right digest, but the body carries one extra byte.
    const token = await signer.sign(claims({ body_sha256: sha256.toString('hex') }));
    assertRejected(
      await verify(token, {}, Buffer.concat([body, Buffer.from('\n')])),
      'unauthorized',
      'body_binding_mismatch',
    );
  });

  test('signature-only: accepted and marked by default', async () => {
    assertAccepted(await verify(await signer.sign(claims({ sub: 'x' }))), 'signature-only');
  });

  test('signature-only: refused when body binding is required, while bound tokens still pass', async () => {
    assertRejected(
      await verify(await signer.sign(claims()), { requireBodyBinding: true }),
      'unauthorized',
      'body_unbound',
    );
    assertAccepted(await verify(await signer.sign(claims({ event: EVENT })), { requireBodyBinding: true }), 'claims');
    assertAccepted(
      await verify(await signer.sign(claims({ body_sha256: sha256.toString('hex') })), { requireBodyBinding: true }),
      'digest',
    );
  });
});
