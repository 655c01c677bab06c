/**
 * A failing JWKS and a sender naming unknown keys, against the receiver process. The adversarial
 * pass: with the JWKS answering 500, 200 tokens with unknown `kid`s caused 200 fetches in 0.8 s. At
 * most one fetch attempt per 30 s cooldown now, failures included; the fetches are counted at the
 * JWKS. (That keys already cached keep verifying while refreshing fails is in test/unit/jwks.test.ts,
 * where the clock can be moved past the cache's maximum age.)
 *
 * No token here can verify, so nothing is ever published: the receiver points at an emulator
 * address where nothing listens.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { generateJwtKeyPair, serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { FlakyJwks } from './fault-servers.ts';
import { recordFigures } from './figures.ts';
import { logLines, startReceiver, type ReceiverHandle } from './harness.ts';
import { sendRaw } from '../support/raw-http.ts';

const AUDIENCE = 'hostile-jwks-receiver';
const TOKENS = 200;

let jwks: FlakyJwks;
let receiver: ReceiverHandle;
// A healthy JWKS that Google adds a key to, and a receiver that uses it.
const current = await generateJwtKeyPair('google-current');
const published = await generateJwtKeyPair('google-published-later');
let healthyJwks: JwksServer;
let healthyReceiver: ReceiverHandle;

before(async () => {
  healthyJwks = await serveJwks([current.publicJwk]);
  healthyReceiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`,
    WEBHOOK_SCHEMES: 'jwt',
    WEBHOOK_JWKS_URL: healthyJwks.url,
    WEBHOOK_JWT_AUDIENCE: AUDIENCE,
    // Nothing listens there: a verified token is answered 503 pubsub_* within 2 s. (The JWKS fetch
    // gets half of it: time enough on a busy machine.)
    WEBHOOK_PUBLISH_TIMEOUT_MS: '2000',
  });
  const google = await generateJwtKeyPair('google-key');
  jwks = new FlakyJwks(await freePort(), [google.publicJwk]);
  await jwks.set('error');
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: `127.0.0.1:${await freePort()}`,
    WEBHOOK_SCHEMES: 'jwt',
    WEBHOOK_JWKS_URL: jwks.url,
    WEBHOOK_JWT_AUDIENCE: AUDIENCE,
  });
});

after(async () => {
  await receiver?.stop();
  await jwks?.close();
  await healthyReceiver?.stop();
  await healthyJwks?.close();
});

test(
  `${TOKENS} tokens naming unknown keys against a JWKS answering 500: one fetch, 503 + Retry-After for each`,
  { timeout: 120_000 },
  async () => {
    const attacker = await generateKeyPair('RS256');
    const statuses: Record<string, number> = {};
    let withoutRetryAfter = 0;
    for (let i = 0; i < TOKENS; i += 20) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, j) => {
          const token = await new SignJWT({ n: i + j })
            .setProtectedHeader({ alg: 'RS256', kid: `unknown-${i + j}` })
            .setAudience(AUDIENCE)
            .setExpirationTime('5m')
            .sign(attacker.privateKey);
          return sendRaw(receiver.port, {
            headers: [
              ['Content-Type', 'application/json'],
              ['webhook-signature', token],
            ],
            body: Buffer.from('{"type":"batch.succeeded"}'),
          });
        }),
      );
      for (const answer of answers) {
        statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
        if (answer.status === 503 && !answer.headers['retry-after']) withoutRetryAfter++;
      }
    }
    console.log(`hostile-jwks: ${TOKENS} tokens, answers ${JSON.stringify(statuses)}, ${jwks.requests} JWKS fetch(es)`);
    recordFigures('hostile-jwks', {
      hostileCasesTried: TOKENS,
      forgedAccepted: Object.entries(statuses)
        .filter(([s]) => s.startsWith('2'))
        .reduce((n, [, c]) => n + c, 0),
    });
    assert.deepEqual(statuses, { 503: TOKENS }, 'the JWKS cannot be had: unavailable, so a genuine sender would retry');
    assert.equal(withoutRetryAfter, 0);
    assert.equal(jwks.requests, 1, 'one fetch attempt within the cooldown, however many tokens');
    const reasons = new Set(
      logLines(receiver.output())
        .filter((line) => line['status'] === 503)
        .map((line) => line['reason']),
    );
    assert.deepEqual([...reasons], ['jwks_unavailable']);
  },
);

test(
  'an unsigned probe spends the JWKS cooldown; a key Google publishes just after is 503 (retry), not 401',
  { timeout: 60_000 },
  async () => {
    // Issue 20 item 7: a made-up kid used the one fetch per 30 s, and a token signed with a key
    // Google published just after was refused with 401 jwt_unknown_key for the whole cooldown.
    const send = async (token: string) => {
      const answer = await sendRaw(healthyReceiver.port, {
        headers: [
          ['Content-Type', 'application/json'],
          ['webhook-signature', token],
        ],
        body: Buffer.from('{"type":"batch.succeeded"}'),
      });
      const logged = logLines(healthyReceiver.output()).filter((line) => line['status'] === answer.status);
      return { status: answer.status, retryAfter: answer.headers['retry-after'], reason: logged.at(-1)?.['reason'] };
    };
    const sign = async (kid: string, privateJwk: JWK) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid })
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(await importJWK(privateJwk, 'RS256'));
    const attacker = await generateJwtKeyPair('made-up');
    const probe = await send(await sign('made-up', attacker.privateJwk));
    assert.ok(probe.status === 401 || probe.status === 503, `the probe is refused (${probe.status})`);
    assert.equal(healthyJwks.requests(), 1, 'the probe spent the fetch');

    healthyJwks.setDocument({ keys: [current.publicJwk, published.publicJwk] });
    const genuine = await send(await sign(published.kid, published.privateJwk));
    assert.deepEqual(genuine, { status: 503, retryAfter: '10', reason: 'jwks_refresh_pending' }, 'Gemini will retry');
    assert.equal(healthyJwks.requests(), 1, 'still one fetch per cooldown');

    // A token whose key the cached set holds is untouched: verified, then (no Pub/Sub here) 503 pubsub_*.
    const known = await send(await sign(current.kid, current.privateJwk));
    assert.equal(known.status, 503);
    assert.match(String(known.reason), /^pubsub_/, 'verified, and only the publish failed');
    recordFigures('hostile-jwks-cooldown', { hostileCasesTried: 1 });
  },
);
