/**
 * The hostile corpus against the real receiver process and the real emulator: every case gets
 * its expected status, nothing forged reaches Pub/Sub (checked by pulling every subscription), the
 * validly signed cases with hostile content land whole on the route they must, and afterwards the
 * receiver is alive and a valid delivery still gets 2xx.
 */
import assert from 'node:assert/strict';
import { createHash, webcrypto } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { importJWK, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { createPubSubEventBus, PublishError } from '../../functions/event-bus.ts';
import { Status } from '../../functions/grpc-status.ts';
import { parseEd25519PublicKeys } from '../../functions/verify/keys.ts';
import { parseSignatureHeader, planSignatureChecks } from '../../functions/verify/standard-webhooks.ts';
import { generateJwtKeyPair, generateSigningSecret, serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import { buildCorpus, type Expected, type HostileCase } from './hostile-corpus.ts';
import { logLines, PREFIX, PROJECT, PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { sendRaw, type RawResponse } from '../support/raw-http.ts';
import { envelope, newWebhookId, SenderSimulator } from './sender-simulator.ts';

const ISSUER = 'https://generativelanguage.googleapis.com';
const AUDIENCE = 'hostile-receiver';
const GARBAGE_KID = 'garbage-key';
const MAX_BODY_BYTES = 64 * 1024;

const secret = generateSigningSecret();
const jwtKeys = await generateJwtKeyPair('hostile-key');
// An ed25519 public key is configured too, so that v1a entries cost real verifications.
const ed25519PublicKey = `whpk_${Buffer.from(
  await webcrypto.subtle.exportKey(
    'raw',
    ((await webcrypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair)
      .publicKey,
  ),
).toString('base64')}`;
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

const expected = (c: HostileCase): readonly Expected[] => (typeof c.expect === 'object' ? c.expect : [c.expect]);

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
    WEBHOOK_SIGNING_PUBLIC_KEYS: ed25519PublicKey,
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
      if (!hostile.publish && typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300)
        forgedAccepted++;
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

  test(
    'nothing forged reached Pub/Sub; ' + 'hostile content that was validly signed landed whole on its route',
    async () => {
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
          problems.push(
            `"${hostile.name}" landed on ${message.route} (event_route ${message.attributes['event_route']}), ` +
              `expected ${hostile.publish.route}`,
          );
        }
        const attributes = Object.entries(message.attributes);
        if (attributes.length > 100) problems.push(`"${hostile.name}" has ${attributes.length} attributes`);
        for (const [key, value] of attributes) {
          if (Buffer.byteLength(key) > 256 || Buffer.byteLength(value) > 1024)
            problems.push(`"${hostile.name}" has an attribute over Pub/Sub's limits: ${key.slice(0, 40)}`);
        }
        if (hostile.group === 'user_metadata' && message.attributes['user_metadata_truncated'] !== 'true') {
          problems.push(`"${hostile.name}" is not flagged user_metadata_truncated`);
        }
      }
      for (const hostile of corpus.filter((c) => c.publish)) {
        if (!messages.some((m) => m.attributes['webhook_id'] === hostile.id))
          problems.push(`"${hostile.name}" was answered 2xx but is not in Pub/Sub`);
      }
      assert.deepEqual(problems, []);
    },
  );

  test('every refusal was logged without the body or a secret', () => {
    const lines = logLines(receiver.output());
    assert.ok(
      lines.some((line) => line['outcome'] === 'rejected'),
      'rejections are logged',
    );
    const text = receiver.output();
    assert.ok(
      !text.includes(secret) && !text.includes(secret.replace(/^whsec_/, '')),
      'the signing secret never appears in the output',
    );
    assert.ok(!text.includes('batches/meta-top'), 'bodies never appear in the output');
  });

  /** A token from the JWKS key, for this receiver, with `claims`. */
  async function token(claims: JWTPayload): Promise<string> {
    const key = (await importJWK(jwtKeys.privateJwk, 'RS256')) as CryptoKey;
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwtKeys.kid })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .sign(key);
  }
  const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

  test('a replayed JWT carrying a borrowed webhook id cannot suppress the genuine delivery with that id', async () => {
    // For JWT deliveries the webhook-id header is not covered by any signature. A captured (still
    // valid) token replayed with the id of a genuine static delivery must not make the receiver
    // answer that genuine delivery "duplicate" without publishing it.
    const borrowedId = newWebhookId();
    const capturedBody = envelope('batch.failed', 'captured');
    const replay = await sendRaw(receiver.port, {
      headers: [
        ['Content-Type', 'application/json'],
        ['webhook-id', borrowedId],
        ['webhook-signature', await token({ body_sha256: sha256(capturedBody) })],
      ],
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

  test(
    'the unsigned webhook-id of a JWT delivery never becomes its id: ' +
      'one token, four headers, one message under its jti',
    async () => {
      // The adversarial pass: one digest-bound token sent with webhook-id evt_A, evt_B, evt_C and
      // none was published four times under four ids.
      const jti = `hostile-${newWebhookId()}`;
      const body = envelope('batch.expired', 'four-headers');
      const signature = await token({ body_sha256: sha256(body), jti });
      for (const headerId of ['evt_A', 'evt_B', 'evt_C', undefined]) {
        const headers: [string, string][] = [
          ['Content-Type', 'application/json'],
          ['webhook-signature', signature],
        ];
        if (headerId) headers.push(['webhook-id', headerId]);
        const answer = await sendRaw(receiver.port, { headers, body });
        assert.equal(answer.status, 200, answer.body);
        assert.equal((JSON.parse(answer.body) as Record<string, string>).id, `jwt:${jti}`);
      }
      controlDeliveries++;
      const published = (await world.drain()).filter((m) => m.data.equals(body));
      assert.deepEqual(
        published.map((m) => m.attributes['webhook_id']),
        [`jwt:${jti}`],
        'published once, under the signed jti',
      );
    },
  );

  test('a signature-only JWT carrying the id of an upcoming static delivery cannot take that id', async () => {
    const upcoming = newWebhookId();
    const forgedBody = envelope('batch.succeeded', 'attacker-copy');
    const answer = await sendRaw(receiver.port, {
      headers: [
        ['Content-Type', 'application/json'],
        ['webhook-id', upcoming],
        ['webhook-signature', await token({})],
      ],
      body: forgedBody,
    });
    assert.equal(answer.status, 200, 'a signature-only token is accepted while body binding is not required');
    const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 1, maxAttempts: 5 });
    const genuine = await sender.deliver({ id: upcoming, body: envelope('batch.succeeded', 'genuine-upcoming') });
    sender.destroy();
    controlDeliveries += 2;
    assert.ok(genuine.acknowledged);
    const messages = await world.drain();
    assert.deepEqual(
      messages.filter((m) => m.attributes['webhook_id'] === upcoming).map((m) => m.data.toString()),
      [genuine.body.toString()],
      'only the genuine delivery carries its id',
    );
    const attackerCopy = messages.find((m) => m.data.equals(forgedBody));
    assert.equal(attackerCopy?.attributes['webhook_id'], `jwt:body-sha256:${sha256(forgedBody)}`);
  });

  test('user_metadata comes from the signed claims whenever the token carries it', async () => {
    const body = Buffer.from(
      JSON.stringify({ type: 'batch.succeeded', user_metadata: { tenant: 'globex' }, data: { id: 'batches/tenant' } }),
    );
    for (const claims of [{}, { body_sha256: sha256(body) }]) {
      const jti = `tenant-${newWebhookId()}`;
      const answer = await sendRaw(receiver.port, {
        headers: [
          ['Content-Type', 'application/json'],
          ['webhook-signature', await token({ ...claims, jti, user_metadata: { tenant: 'acme' } })],
        ],
        body,
      });
      assert.equal(answer.status, 200, answer.body);
      controlDeliveries++;
      const message = (await world.drain()).find((m) => m.attributes['webhook_id'] === `jwt:${jti}`);
      assert.equal(message?.attributes['user_metadata_tenant'], 'acme', JSON.stringify(claims));
      assert.ok(message?.data.equals(body), 'the body is still published whole');
    }
  });

  test('one claims-bound token replayed with ten reformatted bodies: one message, under one id', async () => {
    // Issue 20 item 6: one token without a jti, replayed with ten whitespace-padded bodies, was
    // published ten times under ten webhook ids (the digest of the raw bytes).
    const event = { type: 'batch.succeeded', data: { id: `batches/reformatted-${newWebhookId()}` } };
    const signature = await token({ ...event });
    const ids = new Set<string>();
    for (let padding = 0; padding < 10; padding++) {
      const body = Buffer.from(`${' '.repeat(padding)}${JSON.stringify(event, null, padding % 3)}\n`);
      const answer = await sendRaw(receiver.port, {
        headers: [
          ['Content-Type', 'application/json'],
          ['webhook-signature', signature],
        ],
        body,
      });
      assert.equal(answer.status, 200, answer.body);
      ids.add((JSON.parse(answer.body) as Record<string, string>).id ?? '');
    }
    controlDeliveries++;
    assert.equal(ids.size, 1, `one id for one token: ${[...ids].join(', ')}`);
    const published = (await world.drain()).filter((m) => m.data.toString().includes(event.data.id));
    assert.deepEqual(
      published.map((m) => [m.attributes['webhook_id'], m.attributes['body_binding']]),
      [[[...ids][0], 'claims']],
      'published once',
    );
  });

  test('numeric user_metadata reaches Pub/Sub as written, so a filter on the value as sent matches', async () => {
    // Issue 20 item 9: ...789 was published as ...800, and 1.0 as 1.
    const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 1, maxAttempts: 5 });
    const body = Buffer.from(
      '{"type":"batch.succeeded","user_metadata":{"order_id":1234567890123456789,"ratio":1.0},' +
        `"data":{"id":"batches/numbers-${newWebhookId()}"}}`,
    );
    const record = await sender.deliver({ body });
    sender.destroy();
    controlDeliveries++;
    assert.ok(record.acknowledged);
    const message = (await world.drain()).find((m) => m.attributes['webhook_id'] === record.id);
    assert.equal(message?.attributes['user_metadata_order_id'], '1234567890123456789');
    assert.equal(message?.attributes['user_metadata_ratio'], '1.0');
  });

  test(
    'one delivery with lone surrogates among 30 concurrent genuine ones: ' + 'all 31 acknowledged and published',
    async () => {
      // The adversarial pass: 28 of the 30 genuine deliveries failed with the bad one, sharing its
      // publish batch ("Protocol message had invalid UTF-8").
      const sender = new SenderSimulator({ url: receiver.url, secret, concurrency: 31, maxAttempts: 1 });
      const bad = Buffer.from('{"type":"batch.\\ud800","user_metadata":{"\\ud800":"\\udc00"},"data":{"id":"\\ud800"}}');
      const records = await Promise.all([
        sender.deliver({ body: bad }),
        ...Array.from({ length: 30 }, (_, i) =>
          sender.deliver({ body: envelope('batch.succeeded', `neighbour-${i}`) }),
        ),
      ]);
      sender.destroy();
      controlDeliveries += records.length;
      assert.deepEqual(
        records.filter((r) => !r.acknowledged).map((r) => r.attempts.map((a) => a.status)),
        [],
        'every delivery answered 2xx at once',
      );
      const messages = await world.drain();
      for (const record of records)
        assert.ok(
          messages.some((m) => m.attributes['webhook_id'] === record.id && m.data.equals(record.body)),
          record.id,
        );
    },
  );

  test(
    'the event bus: a message Pub/Sub would refuse never joins a batch, ' + 'and the 30 published beside it succeed',
    async () => {
      // Attributes the receiver no longer produces (a lone surrogate is invalid UTF-8 on the wire),
      // published straight through the bus alongside 30 good messages in one tick. Sent, it would
      // fail the whole batch: the emulator answers UNKNOWN, retried until the deadline.
      const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: world.host });
      const bus = createPubSubEventBus(pubsub, { topicPrefix: PREFIX, publishTimeoutMs: 3000 });
      try {
        const ids = Array.from({ length: 30 }, () => newWebhookId());
        const results = await Promise.allSettled([
          bus.publish('batch.failed', Buffer.from('{}'), { webhook_id: 'poison', bad: '\ud800' }),
          ...ids.map((id) => bus.publish('batch.failed', Buffer.from(`{"id":"${id}"}`), { webhook_id: id })),
        ]);
        const [poison, ...good] = results;
        assert.equal(poison?.status, 'rejected');
        const reason: unknown = poison?.status === 'rejected' ? poison.reason : undefined;
        assert.ok(
          reason instanceof PublishError && reason.code === Status.INVALID_ARGUMENT && !reason.timedOut,
          `refused as invalid, at once: ${String(reason)}`,
        );
        assert.deepEqual(
          good.filter((r) => r.status !== 'fulfilled').map((r) => String(r.status === 'rejected' ? r.reason : '')),
          [],
        );
        const messages = await world.drain();
        for (const id of ids)
          assert.ok(
            messages.some((m) => m.attributes['webhook_id'] === id),
            id,
          );
      } finally {
        await bus.close();
        await pubsub.close();
      }
    },
  );

  test('32 identical v1a entries cost one ed25519 verification per configured key', () => {
    const keys = { hmacKeys: [], ed25519Keys: parseEd25519PublicKeys([ed25519PublicKey], 'hostile') };
    const repeated = corpus.find((c) => c.name === '32 identical v1a entries');
    const header = repeated?.request.headers.find(([name]) => name === 'webhook-signature')?.[1];
    assert.ok(header, 'the corpus row exists');
    const entries = parseSignatureHeader(header);
    assert.ok(!('ok' in entries));
    assert.equal(planSignatureChecks(entries, keys).ed25519.length, 1, 'one verification, not 32');
    assert.equal(answers.get(repeated)?.status, 401);
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
