/**
 * Property-based tests (fast-check) against the real HTTP server: for random headers and bodies,
 * and for random single mutations of a correctly signed delivery, the answer is always one of the
 * documented statuses, never 2xx unless the delivery is validly signed, and the process never
 * crashes. Afterwards Pub/Sub holds only the control deliveries. Run counts are bounded so the
 * suite stays within CI time; a failure prints fast-check's seed and the shrunk counterexample.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { importJWK, SignJWT, type CryptoKey } from 'jose';
import { EVENT_TYPES } from '../../functions/catalog.ts';
import { generateJwtKeyPair, generateSigningSecret, serveJwks, type JwksServer } from '../../scripts/lib/dev-keys.ts';
import { recordFigures } from './figures.ts';
import { PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { sendRaw, type RawRequest, type RawResponse } from '../support/raw-http.ts';
import { envelope, newWebhookId, SenderSimulator } from './sender-simulator.ts';

/** Every status the receiver documents; anything else (500, 415, a hang) is a bug. */
const DOCUMENTED = new Set([200, 400, 401, 404, 405, 408, 413, 503]);
const RUNS = Number(process.env['RELIABILITY_PROPERTY_RUNS'] ?? 300);

const secret = generateSigningSecret();
const jwtKeys = await generateJwtKeyPair('property-key');

let world: PubSubWorld;
let jwks: JwksServer;
let receiver: ReceiverHandle;
let tried = 0;
let forgedAccepted = 0;
const statuses: Record<string, number> = {};
const controls = new SenderSimulator({ url: () => receiver.url, secret, concurrency: 1, maxAttempts: 5 });

before(async () => {
  world = await PubSubWorld.start();
  jwks = await serveJwks([jwtKeys.publicJwk]);
  receiver = await startReceiver({
    PUBSUB_EMULATOR_HOST: world.host,
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SCHEMES: 'static,jwt',
    WEBHOOK_JWKS_URL: jwks.url,
    WEBHOOK_JWT_AUDIENCE: 'property-receiver',
    WEBHOOK_MAX_BODY_BYTES: '65536',
    WEBHOOK_PUBLISH_TIMEOUT_MS: '3000',
  });
});

after(async () => {
  controls.destroy();
  await receiver?.stop();
  await jwks?.close();
  await world?.stop();
});

/** Sends a request that must not be accepted, and checks the answer. */
async function forged(request: RawRequest): Promise<RawResponse> {
  tried++;
  const answer = await sendRaw(receiver.port, request, 30_000);
  statuses[String(answer.status)] = (statuses[String(answer.status)] ?? 0) + 1;
  if (typeof answer.status === 'number' && answer.status >= 200 && answer.status < 300) forgedAccepted++;
  return answer;
}

function assertDocumentedRefusal(answer: RawResponse, request: RawRequest): void {
  const headers = JSON.stringify(request.headers).slice(0, 300);
  const described = `${request.method ?? 'POST'} ${request.path ?? '/'} ${headers}`;
  assert.ok(typeof answer.status === 'number', `no answer (${answer.status}) for ${described}`);
  assert.ok(DOCUMENTED.has(answer.status), `undocumented status ${answer.status} for ${described}`);
  assert.ok(answer.status < 200 || answer.status >= 300, `2xx for an unsigned request: ${described}`);
  if (answer.status === 503) assert.ok(answer.headers['retry-after'], '503 carries Retry-After');
}

const printable = (maxLength: number) =>
  fc.array(fc.integer({ min: 0x20, max: 0x7e }), { maxLength }).map((codes) => String.fromCharCode(...codes).trim());
const timestampLike = fc.oneof(
  fc.integer({ min: -2_000_000_000, max: 4_000_000_000 }).map(String),
  fc.constant(String(Math.floor(Date.now() / 1000))),
  printable(20),
);
const signatureLike = fc.oneof(
  fc
    .array(fc.tuple(fc.constantFrom('v1', 'v1a', 'v2', 'v0', 'x'), fc.base64String({ maxLength: 96 })), {
      minLength: 1,
      maxLength: 5,
    })
    .map((entries) => entries.map(([version, payload]) => `${version},${payload}`).join(' ')),
  fc
    .tuple(fc.base64String({ maxLength: 60 }), fc.base64String({ maxLength: 200 }), fc.base64String({ maxLength: 120 }))
    .map((parts) => parts.map((p) => p.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_') || 'A').join('.')),
  printable(120),
);
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 });

describe('property-based', { timeout: 180_000 }, () => {
  test('random headers and bodies: a documented status, never 2xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH'),
          path: fc.constantFrom('/', '/', '/', '/x', '/?a=1'),
          id: maybe(fc.oneof(fc.constant(newWebhookId()), printable(40))),
          timestamp: maybe(timestampLike),
          signature: maybe(signatureLike),
          contentType: maybe(
            fc.oneof(
              fc.constantFrom(
                'application/json',
                'text/plain',
                'application/octet-stream',
                'application/json; charset=latin1',
                'multipart/form-data',
              ),
              printable(30),
            ),
          ),
          contentEncoding: maybe(fc.constantFrom('gzip', 'br', 'identity', 'x-unknown')),
          body: fc.oneof(
            fc.uint8Array({ maxLength: 512 }),
            fc.constant(new Uint8Array(envelope('batch.succeeded', 'random'))),
          ),
          chunked: fc.boolean(),
        }),
        async (input) => {
          const headers: [string, string][] = [];
          if (input.contentType !== undefined && input.contentType !== '')
            headers.push(['Content-Type', input.contentType]);
          if (input.contentEncoding !== undefined) headers.push(['Content-Encoding', input.contentEncoding]);
          if (input.id !== undefined) headers.push(['webhook-id', input.id]);
          if (input.timestamp !== undefined) headers.push(['webhook-timestamp', input.timestamp]);
          if (input.signature !== undefined) headers.push(['webhook-signature', input.signature]);
          const request: RawRequest = {
            method: input.method,
            path: input.path,
            headers,
            body: Buffer.from(input.body),
            framing: input.chunked ? 'chunked' : 'auto',
          };
          assertDocumentedRefusal(await forged(request), request);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('one random mutation of a validly signed delivery: never 2xx', async () => {
    const mutations = [
      'flip-body-bit',
      'append-body',
      'truncate-body',
      'change-id',
      'shift-timestamp',
      'change-signature',
      'drop-header',
      'duplicate-header',
      'other-secret',
    ] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...mutations),
        fc.constantFrom(...EVENT_TYPES),
        fc.nat(),
        fc.integer({ min: 1, max: 5000 }),
        async (mutation, type, position, shift) => {
          const sender = new SenderSimulator({ url: receiver.url, secret });
          const id = newWebhookId();
          let body = envelope(type, `mutation-${mutation}`);
          const headers = await sender.sign(id, 'static', body);
          sender.destroy();
          const entries = Object.entries<string>(headers);
          const set = (name: string, value: string): void => {
            const entry = entries.find(([key]) => key === name)!;
            entry[1] = value;
          };
          switch (mutation) {
            case 'flip-body-bit': {
              body = Buffer.from(body);
              const index = position % body.length;
              body[index] = body[index]! ^ (1 << (shift % 8));
              break;
            }
            case 'append-body':
              body = Buffer.concat([body, Buffer.from(' ')]);
              break;
            case 'truncate-body':
              body = body.subarray(0, position % body.length);
              break;
            case 'change-id':
              set('webhook-id', `${id.slice(0, -1)}${id.endsWith('a') ? 'b' : 'a'}`);
              break;
            case 'shift-timestamp':
              set(
                'webhook-timestamp',
                String(Number(headers['webhook-timestamp']) + (position % 2 === 0 ? shift : -shift)),
              );
              break;
            case 'change-signature': {
              const signature = Buffer.from(headers['webhook-signature']!.slice(3), 'base64');
              signature[position % signature.length] = signature[position % signature.length]! ^ 0xff;
              set('webhook-signature', `v1,${signature.toString('base64')}`);
              break;
            }
            case 'drop-header': {
              const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
              const name = names[position % names.length]!;
              entries.splice(
                entries.findIndex(([key]) => key === name),
                1,
              );
              break;
            }
            case 'duplicate-header': {
              const names = ['webhook-id', 'webhook-timestamp', 'webhook-signature'];
              const name = names[position % names.length]!;
              entries.push([name, headers[name]!]);
              break;
            }
            case 'other-secret': {
              const other = new SenderSimulator({ url: receiver.url, secret: generateSigningSecret() });
              set('webhook-signature', (await other.sign(id, 'static', body))['webhook-signature']!);
              other.destroy();
              break;
            }
          }
          const request: RawRequest = { headers: entries, body };
          assertDocumentedRefusal(await forged(request), request);
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('random JWTs (random claims, kids and algorithms, signed by keys outside the JWKS): never 2xx', async () => {
    const key = (await importJWK(jwtKeys.privateJwk, 'RS256')) as CryptoKey;
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          kid: fc.oneof(fc.constant(jwtKeys.kid), printable(30)),
          claims: fc.dictionary(printable(12), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
          tamper: fc.constantFrom('payload', 'signature', 'kid-header'),
          body: fc.oneof(
            fc.uint8Array({ maxLength: 256 }),
            fc.constant(new Uint8Array(envelope('batch.failed', 'jwt-random'))),
          ),
        }),
        async (input) => {
          // Signed with the right key, then one segment altered: the signature no longer matches.
          const token = await new SignJWT(input.claims)
            .setProtectedHeader({ alg: 'RS256', kid: input.kid })
            .setExpirationTime('5m')
            .sign(key);
          const [header, payload, signature] = token.split('.') as [string, string, string];
          const segment = (json: unknown) => Buffer.from(JSON.stringify(json)).toString('base64url');
          const tampered =
            input.tamper === 'payload'
              ? `${header}.${segment({ ...input.claims, injected: true })}.${signature}`
              : input.tamper === 'signature'
                ? `${header}.${payload}.${signature.slice(0, -4)}${signature.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`
                : `${segment({ alg: 'RS256', kid: `${input.kid}x` })}.${payload}.${signature}`;
          const request: RawRequest = {
            headers: [
              ['Content-Type', 'application/json'],
              ['webhook-id', newWebhookId()],
              ['webhook-signature', tampered],
            ],
            body: Buffer.from(input.body),
          };
          assertDocumentedRefusal(await forged(request), request);
        },
      ),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  test('the process never crashed, and a valid delivery still gets 2xx', async () => {
    assert.ok(receiver.alive(), 'receiver alive');
    const record = await controls.deliver({ body: envelope('batch.expired', 'after-properties') });
    assert.ok(record.acknowledged, `answered ${record.attempts.map((a) => a.status).join(', ')}`);
  });

  test('Pub/Sub holds only the control delivery', async () => {
    const messages = await world.drain();
    const controlIds = new Set(controls.records.keys());
    const stray = messages.filter((m) => !controlIds.has(m.attributes['webhook_id'] ?? ''));
    forgedAccepted += stray.length;
    recordFigures('properties', {
      hostileCasesTried: tried,
      deliveriesSent: controls.records.size,
      attempts: [...controls.records.values()].reduce((n, r) => n + r.attempts.length, 0),
      acknowledged: [...controls.records.values()].filter((r) => r.acknowledged).length,
      forgedAccepted,
    });
    console.log(`properties: ${tried} forged or malformed requests, answers ${JSON.stringify(statuses)}`);
    assert.deepEqual(
      stray.map((m) => `${m.attributes['webhook_id']} on ${m.route}`),
      [],
    );
    assert.ok(
      messages.some((m) => controlIds.has(m.attributes['webhook_id'] ?? '')),
      'the control delivery is there',
    );
    assert.equal(forgedAccepted, 0);
  });
});
