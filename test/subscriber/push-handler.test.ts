// createPushHandler over real HTTP: a node:http server and the Functions Framework's own Express
// server, with OIDC tokens signed by jose the way Google signs Pub/Sub push tokens.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import { test, type TestContext } from 'node:test';
import { http as registerHttp } from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  SignJWT,
  type JWK,
  type JWTPayload,
} from 'jose';
import { buildAttributes } from '../../functions/attributes.ts';
import { readEnvelope } from '../../functions/envelope.ts';
import { serveJwks } from '../../scripts/lib/dev-keys.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { createPushHandler, type GeminiEvent, type PushHandlerOptions } from '../../packages/subscriber/src/index.ts';
import { serveOnLoopback } from '../support/loopback-server.ts';

const AUDIENCE = 'https://billing-consumer-abc-uc.a.run.app/gemini';
const SA = 'gemini-push-billing@my-project.iam.gserviceaccount.com';

const keys = await generateKeyPair('RS256', { extractable: true });
const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'google-key-1', alg: 'RS256', use: 'sig' };
const otherKeys = await generateKeyPair('RS256');
const jwks = createLocalJWKSet({ keys: [publicJwk] });

async function token(
  claims: JWTPayload = {},
  options: { key?: Parameters<SignJWT['sign']>[0]; kid?: string; expired?: boolean } = {},
): Promise<string> {
  const jwt = new SignJWT({ email: SA, email_verified: true, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? 'google-key-1', typ: 'JWT' })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : 'https://accounts.google.com')
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject('1234567890')
    .setIssuedAt(options.expired ? Math.floor(Date.now() / 1000) - 7200 : undefined)
    .setExpirationTime(options.expired ? Math.floor(Date.now() / 1000) - 3600 : '1h');
  return jwt.sign(options.key ?? keys.privateKey);
}

function pushBody(type = 'batch.succeeded', webhookId = 'msg_push_1'): string {
  const body = Buffer.from(JSON.stringify(sampleEvent(type)));
  const envelope = readEnvelope(body);
  const attributes = buildAttributes({
    webhookId,
    webhookTimestamp: '1767225600',
    route: 'batch.succeeded',
    envelope,
    verified: { ok: true, scheme: 'static-v1', webhookId, timestamp: 1767225600 },
    receivedAt: new Date(),
  });
  return JSON.stringify({
    message: { data: body.toString('base64'), attributes, messageId: '9001', publishTime: new Date().toISOString() },
    subscription: 'projects/my-project/subscriptions/gemini-batch-succeeded-billing',
    deliveryAttempt: 1,
  });
}

interface Harness {
  url: string;
  events: GeminiEvent[];
  logs: Array<Record<string, unknown>>;
  post(body: string, authorization?: string): Promise<Response>;
}

async function serve(t: TestContext, listener: RequestListener): Promise<string> {
  const server: Server = createServer(listener);
  return `${await serveOnLoopback(t, server)}/`;
}

async function nodeServer(t: TestContext, options: Partial<PushHandlerOptions> = {}): Promise<Harness> {
  const events: GeminiEvent[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const handler = createPushHandler({
    audience: AUDIENCE,
    serviceAccountEmail: SA,
    jwks,
    log: (entry) => logs.push(entry),
    handler: (event) => void events.push(event),
    ...options,
  });
  const url = await serve(t, (req, res) => void handler(req, res));
  return {
    url,
    events,
    logs,
    post: (body, authorization) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        body,
      }),
  };
}

test('a genuine push is verified, decoded, handed to the handler and acked with 204', async (t) => {
  const h = await nodeServer(t);
  const response = await h.post(pushBody(), `Bearer ${await token()}`);
  assert.equal(response.status, 204);
  assert.equal(h.events.length, 1);
  const [event] = h.events;
  assert.equal(event!.type, 'batch.succeeded');
  assert.equal(event!.type === 'batch.succeeded' && event!.outputFileUri, 'gs://my-bucket/batches/results.jsonl');
  assert.equal(event!.delivery.webhookId, 'msg_push_1');
  assert.equal(event!.delivery.subscription, 'projects/my-project/subscriptions/gemini-batch-succeeded-billing');
  // Google also issues tokens with the bare issuer spelling.
  assert.equal((await h.post(pushBody(), `Bearer ${await token({ iss: 'accounts.google.com' })}`)).status, 204);
});

test('tokens that are missing, forged, expired, for another audience or another account are refused', async (t) => {
  const h = await nodeServer(t);
  const body = pushBody();
  const cases: Array<[string | undefined, number, string]> = [
    [undefined, 401, 'no token'],
    ['Basic abc', 401, 'not bearer'],
    [`Bearer ${await token({}, { key: otherKeys.privateKey })}`, 401, 'signed by another key'],
    [`Bearer ${await token({}, { kid: 'unknown-kid' })}`, 401, 'unknown kid'],
    [`Bearer ${await token({}, { expired: true })}`, 401, 'expired'],
    [`Bearer ${await token({ aud: 'https://elsewhere.example.com/' })}`, 401, 'wrong audience'],
    [`Bearer ${await token({ iss: 'https://evil.example.com' })}`, 401, 'wrong issuer'],
    [`Bearer ${await token({ email: 'someone@my-project.iam.gserviceaccount.com' })}`, 403, 'other service account'],
    [`Bearer ${await token({ email_verified: false })}`, 403, 'unverified email'],
  ];
  for (const [authorization, status, why] of cases) {
    const response = await h.post(body, authorization);
    assert.equal(response.status, status, why);
  }
  assert.equal(h.events.length, 0, 'the handler never ran');
  assert.ok(h.logs.every((entry) => entry['severity'] === 'WARNING'));
});

test('handler outcomes map to ack and nack', async (t) => {
  let mode: 'ok' | 'throw' | 'nack' | 'ack' = 'ok';
  const h = await nodeServer(t, {
    handler: async () => {
      if (mode === 'throw') throw new Error('database down');
      if (mode === 'nack') return 'nack';
      if (mode === 'ack') return 'ack';
    },
  });
  const auth = `Bearer ${await token()}`;
  for (const [next, status] of [
    ['ok', 204],
    ['ack', 204],
    ['nack', 503],
    ['throw', 500],
  ] as const) {
    mode = next;
    assert.equal((await h.post(pushBody(), auth)).status, status, next);
  }
  assert.match(String(h.logs.at(-1)?.['message']), /handler failed: database down/);
  assert.equal(h.logs.at(-1)?.['webhookId'], 'msg_push_1');
});

test('an undecodable message is nacked toward the dead-letter topic by default, or acked when asked', async (t) => {
  const auth = `Bearer ${await token()}`;
  const bad = JSON.stringify({
    message: { data: Buffer.from('not json').toString('base64'), attributes: { webhook_id: 'x' }, messageId: '7' },
  });
  const nack = await nodeServer(t);
  assert.equal((await nack.post(bad, auth)).status, 400);
  assert.equal(nack.logs[0]?.['reason'], 'not_json');
  assert.equal(nack.logs[0]?.['messageId'], '7');
  assert.equal((await nack.post('{{{', auth)).status, 400);
  const ack = await nodeServer(t, { onMalformed: 'ack' });
  assert.equal((await ack.post(bad, auth)).status, 204);
  assert.equal(ack.events.length, 0);
  assert.equal(ack.logs[0]?.['severity'], 'ERROR');
});

test('keys fetched over HTTP; an unreachable JWKS is a 503 so Pub/Sub retries', async (t) => {
  const server = await serveJwks([publicJwk]);
  t.after(() => server.close());
  const h = await nodeServer(t, { jwks: createRemoteJWKSet(new URL(server.url)) });
  assert.equal((await h.post(pushBody(), `Bearer ${await token()}`)).status, 204);
  const down = await nodeServer(t, { jwks: createRemoteJWKSet(new URL('http://127.0.0.1:9/jwks.json')) });
  assert.equal((await down.post(pushBody(), `Bearer ${await token()}`)).status, 503);
});

test("the default key lookup has the receiver's cooldown: a failing JWKS is fetched once for 20 tokens", async (t) => {
  // Issue 20 item 9: jose's remote key set refetched on every unknown kid while the JWKS failed
  // (20 tokens, 20 fetches).
  const server = await serveJwks([publicJwk]);
  t.after(() => server.close());
  server.setDocument({ error: 'internal' }, 500);
  const h = await nodeServer(t, { jwks: undefined, jwksUrl: server.url });
  const statuses = await Promise.all(
    Array.from(
      { length: 20 },
      async (_, i) => (await h.post(pushBody(), `Bearer ${await token({}, { kid: `rotated-${i}` })}`)).status,
    ),
  );
  assert.deepEqual(new Set(statuses), new Set([503]), 'keys that cannot be had: Pub/Sub retries');
  assert.equal(server.requests(), 1, 'one fetch attempt, not twenty');
});

test('the default key lookup fetches Google-style keys over HTTP and verifies with them', async (t) => {
  const server = await serveJwks([publicJwk]);
  t.after(() => server.close());
  const h = await nodeServer(t, { jwks: undefined, jwksUrl: server.url });
  for (let i = 0; i < 3; i++) assert.equal((await h.post(pushBody(), `Bearer ${await token()}`)).status, 204);
  assert.equal(server.requests(), 1, 'cached');
});

test('works as a Functions Framework (Express) handler with the body already parsed', async (t) => {
  const events: GeminiEvent[] = [];
  registerHttp(
    'pushConsumer',
    createPushHandler({
      audience: AUDIENCE,
      serviceAccountEmail: SA,
      jwks,
      log: () => {},
      handler: (event) => void events.push(event),
    }),
  );
  const url = await serve(t, getTestServer('pushConsumer').listeners('request')[0] as RequestListener);
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
    body: pushBody('video.generated', 'msg_ff'),
  });
  assert.equal(response.status, 204);
  assert.equal(events[0]?.type, 'video.generated');
  assert.equal(events[0]?.delivery.webhookId, 'msg_ff');
  const refused = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: pushBody(),
  });
  assert.equal(refused.status, 401);
});

test('createPushHandler refuses a configuration without audience or service account', () => {
  assert.throws(
    () => createPushHandler({ audience: '', serviceAccountEmail: SA, handler: () => {} }),
    /audience is required/,
  );
  assert.throws(
    () => createPushHandler({ audience: AUDIENCE, serviceAccountEmail: '', handler: () => {} }),
    /serviceAccountEmail is required/,
  );
});

// `gemini-webhooks listen` signs with a shared secret (HS256). These tokens are made here with jose
// from the claims its documentation states, not by the code under test.
const LISTEN_SECRET = `listen_${randomBytes(32).toString('base64url')}`;

async function listenToken(
  options: { secret?: string; iss?: string; aud?: string; expired?: boolean; alg?: 'HS256' | 'HS512' } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(options.iss ?? 'gemini-webhooks listen')
    .setAudience(options.aud ?? 'gemini-webhooks-pubsub development push')
    .setIssuedAt(options.expired ? now - 600 : now)
    .setExpirationTime(options.expired ? now - 300 : now + 120)
    .sign(new TextEncoder().encode(options.secret ?? LISTEN_SECRET));
}

test('without the development option a listen token is refused like any foreign token', async (t) => {
  const h = await nodeServer(t);
  const response = await h.post(pushBody(), `Bearer ${await listenToken()}`);
  assert.equal(response.status, 401);
  assert.equal(h.events.length, 0);
  assert.deepEqual(h.logs, [
    {
      severity: 'WARNING',
      message: 'push request refused',
      reason: 'invalid_token:ERR_JOSE_ALG_NOT_ALLOWED',
      status: 401,
    },
  ]);
});

test('development: { listenSecret } accepts listen tokens beside Google tokens, and says so once', async (t) => {
  const h = await nodeServer(t, { development: { listenSecret: LISTEN_SECRET } });
  assert.equal(h.logs.length, 1, 'announced when the handler is created');
  assert.equal(h.logs[0]?.['severity'], 'WARNING');
  assert.match(
    String(h.logs[0]?.['message']),
    /DEVELOPMENT MODE.*gemini-webhooks listen.*Never set `development` \(or GEMINI_WEBHOOKS_LISTEN_SECRET\) in production/,
  );

  assert.equal((await h.post(pushBody('batch.succeeded', 'msg_dev'), `Bearer ${await listenToken()}`)).status, 204);
  assert.equal((await h.post(pushBody('batch.succeeded', 'msg_google'), `Bearer ${await token()}`)).status, 204);
  assert.deepEqual(
    h.events.map((event) => event.delivery.webhookId),
    ['msg_dev', 'msg_google'],
  );
  assert.equal(h.logs.length, 1, 'nothing logged per accepted request');

  const refused: Array<[string, string]> = [
    [await listenToken({ secret: `listen_${randomBytes(32).toString('base64url')}` }), 'another secret'],
    [await listenToken({ iss: 'https://accounts.google.com' }), 'another issuer'],
    [await listenToken({ aud: AUDIENCE }), 'another audience'],
    [await listenToken({ expired: true }), 'expired'],
    [await listenToken({ alg: 'HS512' }), 'another algorithm'],
    [await token({}, { key: otherKeys.privateKey }), 'a forged Google token'],
  ];
  for (const [jwt, why] of refused) assert.equal((await h.post(pushBody(), `Bearer ${jwt}`)).status, 401, why);
  assert.equal(h.events.length, 2, 'the handler never ran for them');
  assert.ok(
    h.logs.slice(1).every((entry) => entry['status'] === 401 && String(entry['reason']).startsWith('invalid_')),
  );
});

test('a weak or missing listen secret stops the handler from being created', () => {
  const base = { audience: AUDIENCE, serviceAccountEmail: SA, jwks, log: () => {}, handler: () => {} };
  assert.throws(
    () => createPushHandler({ ...base, development: { listenSecret: 'short' } }),
    /development\.listenSecret must be at least 32 characters/,
  );
  assert.throws(
    () => createPushHandler({ ...base, development: { listenSecret: process.env['NO_SUCH_VARIABLE_SET'] as string } }),
    /development\.listenSecret must be a string/,
  );
});
