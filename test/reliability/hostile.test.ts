/**
 * The hostile corpus against the real receiver process and the real emulator: every case gets
 * its expected status, nothing forged reaches Pub/Sub (checked by pulling every subscription), the
 * validly signed cases with hostile content land whole on the route they must, and afterwards the
 * receiver is alive and a valid delivery still gets 2xx.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { importJWK, SignJWT, type CryptoKey } from 'jose';
import { generateJwtKeyPair, generateSigningSecret, serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import { buildCorpus, type Expected, type HostileCase } from './hostile-corpus.ts';
import { logLines, PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { sendRaw, type RawResponse } from './raw-http.ts';
import { envelope, newWebhookId, SenderSimulator } from './sender-simulator.ts';

const ISSUER = 'https://generativelanguage.googleapis.com';
const AUDIENCE = 'hostile-receiver';
const GARBAGE_KID = 'garbage-key';
const MAX_BODY_BYTES = 64 * 1024;

const secret = generateSigningSecret();
const jwtKeys = await generateJwtKeyPair('hostile-key');
const corpus = await buildCorpus({
  secret,
  jwtPrivateJwk: jwtKeys.privateJwk,
  jwtPublicJwk: jwtKeys.publicJwk,
  issuer: ISSUER,
  audience: AUDIENCE,
  garbageKid: GARBAGE_KID,
});

let world: PubSubWorld;
let jwks: JwksServer;
let receiver: ReceiverHandle;
const answers = new Map<HostileCase, RawResponse>();
let forgedAccepted = 0;
let controlDeliveries = 0;

const expected = (c: HostileCase): readonly Expected[] => (Array.isArray(c.expect) ? c.expect : [c.expect as Expected]);

before(async () => {
  world = await PubSubWorld.start();
  jwks = await serveJwks([
    jwtKeys.publicJwk,
    // A JWKS entry whose key material is garbage: it must never verify anything.
    { kty: 'RSA', kid: GARBAGE_KID, alg: 'RS256', use: 'sig', n: '%%%not-base64url%%%', e: 'AQAB' },
  ]);
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static,jwt',
    WEBHOOK_JWKS_URL: jwks.url,
    WEBHOOK_JWT_ISSUER: ISSUER,
    WEBHOOK_JWT_AUDIENCE: AUDIENCE,
    WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    WEBHOOK_PUBLISH_TIMEOUT_MS: '3000',
  });
});

after(async () => {
  await receiver?.stop();
  await jwks?.close();
  await world?.stop();
});

test('the corpus has at least 60 cases', () => {
  assert.ok(corpus.length >= 60, `${corpus.length} cases`);
});

describe('hostile corpus', { concurrency: 8, timeout: 120_000 }, () => {
  for (const hostile of corpus) {
    test(`${hostile.group}: ${hostile.name} -> ${expected(hostile).join(' or ')}`, async () => {
      // A client-side cap far above every receiver deadline: hitting it means the request was held.
      const answer = await sendRaw(receiver.port, hostile.request, 60_000);
      answers.set(hostile, answer);
      if (!hostile.publish && typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) forgedAccepted++;
      assert.ok(
        answer.status !== 'timeout' && expected(hostile).includes(answer.status),
        `expected ${expected(hostile).join(' or ')}, got ${answer.status} ${answer.body.slice(0, 200)}`,
      );
      if (answer.status === 503) assert.ok(answer.headers['retry-after'], '503 carries Retry-After');
    });
  }
});

describe('after the corpus', { timeout: 120_000 }, () => {
  test('the receiver process is still running', () => {
    assert.ok(receiver.alive(), 'receiver alive');
  });

  test('nothing forged reached Pub/Sub; hostile content that was validly signed landed whole on its route', async () => {
    const messages = await world.drain();
    const byId = new Map(corpus.map((c) => [c.id, c]));
    const problems: string[] = [];
    for (const message of messages) {
      const id = message.attributes['webhook_id'] ?? '';
      const hostile = byId.get(id);
      if (!hostile) {
        // Not a corpus row (the control deliveries of later tests are not sent yet): unexplained.
        forgedAccepted++;
        problems.push(`unexpected message ${id} on ${message.route}`);
        continue;
      }
      if (!hostile.publish) {
        forgedAccepted++;
        problems.push(`"${hostile.name}" must not be published but was (${message.route})`);
        continue;
      }
      if (!message.data.equals(hostile.body)) problems.push(`"${hostile.name}" was published with different bytes`);
      if (message.route !== hostile.publish.route || message.attributes['event_route'] !== hostile.publish.route) {
        problems.push(`"${hostile.name}" landed on ${message.route} (event_route ${message.attributes['event_route']}), expected ${hostile.publish.route}`);
      }
      const attributes = Object.entries(message.attributes);
      if (attributes.length > 100) problems.push(`"${hostile.name}" has ${attributes.length} attributes`);
      for (const [key, value] of attributes) {
        if (Buffer.byteLength(key) > 256 || Buffer.byteLength(value) > 1024) problems.push(`"${hostile.name}" has an attribute over Pub/Sub's limits: ${key.slice(0, 40)}`);
      }
      if (hostile.group === 'user_metadata' && message.attributes['user_metadata_truncated'] !== 'true') {
        problems.push(`"${hostile.name}" is not flagged user_metadata_truncated`);
      }
    }
    for (const hostile of corpus.filter((c) => c.publish)) {
      if (!messages.some((m) => m.attributes['webhook_id'] === hostile.id)) problems.push(`"${hostile.name}" was answered 2xx but is not in Pub/Sub`);
    }
    assert.deepEqual(problems, []);
  });

  test('every refusal was logged without the body or a secret', () => {
    const lines = logLines(receiver.output());
    assert.ok(lines.some((line) => line['outcome'] === 'rejected'), 'rejections are logged');
    const text = receiver.output();
    assert.ok(!text.includes(secret) && !text.includes(secret.replace(/^whsec_/, '')), 'the signing secret never appears in the output');
    assert.ok(!text.includes('batches/meta-top'), 'bodies never appear in the output');
  });

  test('a replayed JWT carrying a borrowed webhook id cannot suppress the genuine delivery with that id', async () => {
    // For JWT deliveries the webhook-id header is not covered by any signature. A captured (still
    // valid) token replayed with the id of a genuine static delivery must not make the receiver
    // answer that genuine delivery "duplicate" without publishing it.
    const borrowedId = newWebhookId();
    const capturedBody = envelope('batch.failed', 'captured');
    const key = (await importJWK(jwtKeys.privateJwk, 'RS256')) as CryptoKey;
    const token = await new SignJWT({ body_sha256: createHash('sha256').update(capturedBody).digest('hex') })
      .setProtectedHeader({ alg: 'RS256', kid: jwtKeys.kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(key);
    const replay = await sendRaw(receiver.port, {
      headers: [['Content-Type', 'application/json'], ['webhook-id', borrowedId], ['webhook-signature', token]],
      body: capturedBody,
    });
    assert.equal(replay.status, 200, 'the token is genuine, so the replay itself is accepted (at least once)');

    const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 1, maxAttempts: 10 });
    const genuine = await sender.deliver({ id: borrowedId, body: envelope('batch.succeeded', 'genuine') });
    sender.destroy();
    controlDeliveries += 2;
    assert.ok(genuine.acknowledged);
    const messages = await world.drain();
    assert.ok(
      messages.some((m) => m.attributes['webhook_id'] === borrowedId && m.data.equals(genuine.body)),
      'the genuine delivery that was acknowledged is in Pub/Sub',
    );
  });

  test('after the whole corpus a valid delivery still gets 2xx and is published', async () => {
    const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 1, maxAttempts: 5 });
    const record = await sender.deliver({ body: envelope('video.generated', 'after-corpus') });
    sender.destroy();
    controlDeliveries++;
    assert.ok(record.acknowledged, `answered ${record.attempts.map((a) => a.status).join(', ')}`);
    assert.equal(record.attempts.length, 1, 'acknowledged on the first attempt');
    const messages = await world.drain();
    assert.ok(messages.some((m) => m.attributes['webhook_id'] === record.id && m.data.equals(record.body)));
  });

  test('record the figures', () => {
    const published = corpus.filter((c) => c.publish).length;
    recordFigures('hostile', {
      hostileCasesTried: corpus.length - published,
      deliveriesSent: published + controlDeliveries,
      attempts: published + controlDeliveries,
      acknowledged: published + controlDeliveries,
      forgedAccepted,
    });
    assert.equal(forgedAccepted, 0);
  });
});
