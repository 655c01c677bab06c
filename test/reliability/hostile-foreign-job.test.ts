/**
 * Another Gemini user's job pointed at this receiver (issue 20 item 8). Per-request webhooks take
 * their URIs from the request (`webhook_config.uris`), and Google's JWKS signs every user's tokens:
 * if a token's audience is the delivery URL, anyone can have Google deliver a correctly signed,
 * correctly addressed token with their own body and `user_metadata`, and it was published. With
 * WEBHOOK_JWT_RECEIVER_SECRET set, only deliveries whose signed `user_metadata` carries the secret
 * (which only this deployment's own requests put there) are accepted, and the secret never becomes
 * an attribute. Against the receiver process and the real emulator.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { importJWK, SignJWT, type JWTPayload } from 'jose';
import { generateJwtKeyPair, serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { sendRaw } from '../support/raw-http.ts';
import { recordFigures } from './figures.ts';
import { logLines, PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { newWebhookId } from './sender-simulator.ts';

const google = await generateJwtKeyPair('google-key');
const RECEIVER_SECRET = randomBytes(32).toString('base64url');
let world: PubSubWorld;
let jwks: JwksServer;
let receiver: ReceiverHandle;
let audience: string;

before(async () => {
  world = await PubSubWorld.start();
  jwks = await serveJwks([google.publicJwk]);
  const port = await freePort();
  // The audience is the delivery URL: what makes another user's job correctly addressed.
  audience = `http://127.0.0.1:${port}/`;
  receiver = await startReceiver(
    {
      PUBSUB_EMULATOR_HOST: world.host,
      WEBHOOK_SCHEMES: 'jwt',
      WEBHOOK_JWKS_URL: jwks.url,
      WEBHOOK_JWT_AUDIENCE: audience,
      WEBHOOK_JWT_RECEIVER_SECRET: RECEIVER_SECRET,
    },
    { port },
  );
});

after(async () => {
  await receiver?.stop();
  await jwks?.close();
  await world?.stop();
});

/** What Google delivers for a job whose webhook_config carries `userMetadata`: a digest-bound token. */
async function delivery(marker: string, userMetadata: Record<string, unknown>) {
  const body = Buffer.from(
    JSON.stringify({ type: 'batch.succeeded', data: { id: `batches/${marker}` }, user_metadata: userMetadata }),
  );
  const claims: JWTPayload = {
    body_sha256: createHash('sha256').update(body).digest('hex'),
    user_metadata: userMetadata,
    jti: `${marker}-${newWebhookId()}`,
  };
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: google.kid })
    .setIssuedAt()
    .setExpirationTime('5m')
    .setAudience(audience)
    .sign(await importJWK(google.privateJwk, 'RS256'));
  const answer = await sendRaw(receiver.port, {
    headers: [
      ['Content-Type', 'application/json'],
      ['webhook-signature', token],
    ],
    body,
  });
  return { jti: claims.jti as string, status: answer.status };
}

test("another user's job, correctly signed and addressed, is refused; this deployment's own is published", async () => {
  const foreign = await delivery('foreign', { tenant: 'mallory' });
  const guessed = await delivery('guessed', { tenant: 'mallory', receiver_secret: 'not-the-secret' });
  const own = await delivery('own', { tenant: 'acme', receiver_secret: RECEIVER_SECRET });
  assert.deepEqual(
    [foreign.status, guessed.status, own.status],
    [401, 401, 200],
    'only the delivery carrying the receiver secret is accepted',
  );
  const reasons = logLines(receiver.output())
    .filter((line) => line['status'] === 401)
    .map((line) => line['reason']);
  assert.deepEqual(reasons, ['receiver_secret_mismatch', 'receiver_secret_mismatch']);

  const messages = await world.drain();
  assert.deepEqual(
    messages.map((m) => m.attributes['webhook_id']),
    [`jwt:${own.jti}`],
    'nothing but the own delivery reached Pub/Sub',
  );
  const attributes = messages[0]!.attributes;
  assert.equal(attributes['user_metadata_tenant'], 'acme');
  assert.ok(!('user_metadata_receiver_secret' in attributes), 'the secret is never an attribute');
  assert.ok(!receiver.output().includes(RECEIVER_SECRET), 'nor in the log');
  recordFigures('hostile-foreign-job', {
    hostileCasesTried: 2,
    deliveriesSent: 1,
    attempts: 1,
    acknowledged: 1,
    forgedAccepted: [foreign, guessed].filter((d) => d.status === 200).length,
  });
});
