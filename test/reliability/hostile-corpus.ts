/**
 * The hostile corpus: requests a forger, a replayer, a fuzzer or a broken client would send, each
 * with the status the receiver must answer and whether it may be published at all. Only the
 * `publish` rows (validly signed deliveries with hostile *content*) may reach Pub/Sub, and then only
 * on the route they name; every other row must leave Pub/Sub untouched.
 *
 * Static signatures come from the `standardwebhooks` package, except where the bytes are not UTF-8
 * (the package decodes a Buffer to a string before signing, so it cannot sign them): there the
 * HMAC is computed per the Standard Webhooks spec with node:crypto. Tokens come from `jose`, except
 * the attacks jose refuses to produce (`alg: none`), which are built by hand on purpose.
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  randomUUID,
  sign,
  type JsonWebKey,
} from 'node:crypto';
import {
  CompactSign,
  exportJWK,
  generateKeyPair,
  importJWK,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { Webhook } from 'standardwebhooks';
import type { RouteKey } from '../../functions/catalog.ts';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import type { RawRequest } from '../support/raw-http.ts';

export interface CorpusKeys {
  secret: string;
  /** The RS256 key whose public half the JWKS serves. */
  jwtPrivateJwk: JWK;
  jwtPublicJwk: JWK;
  issuer: string;
  audience: string;
  /** A kid the JWKS lists with garbage key material. */
  garbageKid: string;
}

export type Expected = number | 'closed';

export interface HostileCase {
  group: string;
  name: string;
  /** Acceptable statuses (one, except where two answers are equally right); `closed`: no answer possible. */
  expect: Expected | readonly Expected[];
  /** Only for validly signed deliveries with hostile content: where the message must land. */
  publish?: { route: RouteKey };
  /** The webhook id the request carries, if any (to find it in Pub/Sub). */
  id: string;
  /** The body bytes as sent (a published copy must equal them). */
  body: Buffer;
  request: RawRequest;
}

export const CORPUS_PUBLISH_STATUSES = [200] as const;

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function newId(name: string): string {
  return `msg_hostile_${name.replace(/[^A-Za-z0-9]/g, '').slice(0, 40)}_${randomUUID().slice(0, 8)}`;
}

/** A valid thin envelope whose `data.id` names the case, so a stray message is traceable. */
function envelopeFor(name: string, type = 'batch.succeeded', extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type,
      version: 'v1',
      timestamp: '2026-01-22T12:00:00Z',
      data: { id: `batches/${name}`, ...extra },
    }),
  );
}

function signV1(secret: string, id: string, timestamp: number, body: Buffer): string {
  return new Webhook(secret).sign(id, new Date(timestamp * 1000), body.toString('utf8'));
}

/** The spec's HMAC over raw bytes, for bodies that are not UTF-8. */
function signV1Raw(secret: string, id: string, timestamp: number, body: Buffer): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
}

type Headers = [string, string][];

function staticHeaders(
  id: string,
  timestamp: number | string,
  signature: string,
  contentType = 'application/json',
): Headers {
  const headers: Headers = [
    ['webhook-id', id],
    ['webhook-timestamp', String(timestamp)],
    ['webhook-signature', signature],
  ];
  if (contentType !== '') headers.unshift(['Content-Type', contentType]);
  return headers;
}

function flipBit(body: Buffer, index: number): Buffer {
  const copy = Buffer.from(body);
  copy[index] = (copy[index] ?? 0) ^ 0x01;
  return copy;
}

async function rsaKey(privateJwk: JWK): Promise<CryptoKey> {
  return (await importJWK(privateJwk, 'RS256')) as CryptoKey;
}

function digestClaim(body: Buffer): JWTPayload {
  return { body_sha256: createHash('sha256').update(body).digest('hex') };
}

export async function buildCorpus(keys: CorpusKeys): Promise<HostileCase[]> {
  const cases: HostileCase[] = [];
  const unknownSecret = generateSigningSecret();
  const rsa = await rsaKey(keys.jwtPrivateJwk);
  const kid = keys.jwtPrivateJwk.kid ?? 'k';

  // --- static (Standard Webhooks) ------------------------------------------------------------
  /** A static case: `tweak` gets a correctly signed delivery and returns the request to send. */
  const staticCase = (
    group: string,
    name: string,
    expect: Expected | readonly Expected[],
    tweak: (valid: { id: string; timestamp: number; body: Buffer; signature: string }) => {
      headers: Headers;
      body?: Buffer;
      framing?: RawRequest['framing'];
      dripIntervalMs?: number;
      hangUpAfterBytes?: number;
      keepAlive?: boolean;
      method?: string;
      path?: string;
    },
    options: { publish?: { route: RouteKey }; body?: Buffer } = {},
  ): void => {
    const id = newId(name);
    const timestamp = nowSeconds();
    const body = options.body ?? envelopeFor(name);
    const signature = signV1(keys.secret, id, timestamp, body);
    const built = tweak({ id, timestamp, body, signature });
    const sent = built.body ?? body;
    cases.push({
      group,
      name,
      expect,
      id,
      body: sent,
      ...(options.publish && { publish: options.publish }),
      request: {
        headers: built.headers,
        body: sent,
        ...(built.framing !== undefined && { framing: built.framing }),
        ...(built.dripIntervalMs !== undefined && { dripIntervalMs: built.dripIntervalMs }),
        ...(built.hangUpAfterBytes !== undefined && { hangUpAfterBytes: built.hangUpAfterBytes }),
        ...(built.keepAlive !== undefined && { keepAlive: built.keepAlive }),
        ...(built.method !== undefined && { method: built.method }),
        ...(built.path !== undefined && { path: built.path }),
      },
    });
  };
  const without = (headers: Headers, name: string): Headers => headers.filter(([key]) => key.toLowerCase() !== name);
  const replace = (headers: Headers, name: string, value: string): Headers =>
    headers.map(([key, old]) => [key, key.toLowerCase() === name ? value : old] as [string, string]);

  // Headers: missing, empty, duplicated, oversized.
  staticCase('headers', 'no webhook headers at all', 400, () => ({ headers: [['Content-Type', 'application/json']] }));
  for (const header of ['webhook-id', 'webhook-timestamp', 'webhook-signature']) {
    staticCase('headers', `${header} missing`, 400, (v) => ({
      headers: without(staticHeaders(v.id, v.timestamp, v.signature), header),
    }));
    staticCase('headers', `${header} empty`, 400, (v) => ({
      headers: replace(staticHeaders(v.id, v.timestamp, v.signature), header, ''),
    }));
    staticCase('headers', `${header} duplicated`, 400, (v) => {
      const headers = staticHeaders(v.id, v.timestamp, v.signature);
      const original = headers.find(([key]) => key === header)!;
      return { headers: [...headers, [header, original[1]]] };
    });
  }
  staticCase('headers', 'webhook-id oversized (300 characters)', 400, (v) => {
    const id = `msg_${'a'.repeat(296)}`;
    return { headers: staticHeaders(id, v.timestamp, signV1(keys.secret, id, v.timestamp, v.body)) };
  });
  staticCase('headers', 'webhook-id with a space and non-ASCII', 400, (v) => {
    const id = 'msg_a b';
    return { headers: staticHeaders(id, v.timestamp, signV1(keys.secret, id, v.timestamp, v.body)) };
  });
  staticCase('headers', 'webhook-signature oversized junk (12 KB, no entry)', 400, (v) => ({
    headers: replace(staticHeaders(v.id, v.timestamp, v.signature), 'webhook-signature', 'x'.repeat(12_000)),
  }));
  // Beyond Node's header limit (16 KiB) the HTTP parser answers 431 before the receiver runs.
  staticCase('headers', 'headers beyond the HTTP server limit (40 KB signature)', 431, (v) => ({
    headers: replace(
      staticHeaders(v.id, v.timestamp, v.signature),
      'webhook-signature',
      `${v.signature} ${'v1,AAAA'.repeat(5000)}`,
    ),
  }));

  // Timestamps.
  const timestampCase = (name: string, timestamp: string | number, expect: number, signWith?: number): void =>
    staticCase('timestamps', name, expect, (v) => {
      const signed = signWith ?? v.timestamp;
      // Sign over the hostile timestamp string itself where the library can, so only the timestamp is wrong.
      const signature =
        typeof timestamp === 'number'
          ? signV1(keys.secret, v.id, timestamp, v.body)
          : signV1(keys.secret, v.id, signed, v.body);
      return { headers: staticHeaders(v.id, timestamp, signature) };
    });
  timestampCase('non-numeric', 'yesterday', 400);
  timestampCase('negative', '-1769083200', 400);
  timestampCase('float', `${nowSeconds()}.5`, 400);
  timestampCase('exponent notation', '1.7e9', 400);
  timestampCase('hexadecimal', `0x${nowSeconds().toString(16)}`, 400);
  timestampCase('huge (30 digits)', '9'.repeat(30), 400);
  timestampCase('milliseconds instead of seconds (13 digits)', Date.now(), 400);
  timestampCase('largest accepted shape, far future', 999_999_999_999, 401);
  timestampCase('outside the window, past (10 minutes)', nowSeconds() - 600, 401);
  timestampCase('outside the window, future (10 minutes)', nowSeconds() + 600, 401);
  timestampCase('zero (1970)', 0, 401);
  staticCase('timestamps', 'signed for another timestamp', 401, (v) => ({
    headers: staticHeaders(v.id, v.timestamp + 1, v.signature),
  }));

  // Signature entries.
  const sigCase = (
    name: string,
    expect: number | readonly number[],
    signature: (v: { id: string; timestamp: number; body: Buffer; signature: string }) => string,
  ): void =>
    staticCase('signatures', name, expect, (v) => ({
      headers: replace(staticHeaders(v.id, v.timestamp, v.signature), 'webhook-signature', signature(v)),
    }));
  sigCase('unknown version only (v2)', 401, (v) => v.signature.replace(/^v1,/, 'v2,'));
  sigCase('version in upper case (V1)', 400, (v) => v.signature.replace(/^v1,/, 'V1,'));
  sigCase('no comma', 400, (v) => v.signature.replace(',', ''));
  sigCase('bad base64', 400, () => 'v1,!!not*base64!!');
  sigCase('empty payload', 400, () => 'v1,');
  sigCase('truncated signature', 401, (v) => v.signature.slice(0, -6));
  sigCase(
    'signature with extra bytes',
    401,
    (v) => `v1,${Buffer.concat([Buffer.from(v.signature.slice(3), 'base64'), Buffer.from([0])]).toString('base64')}`,
  );
  sigCase('1,500 entries (too many)', 400, () => Array.from({ length: 1500 }, () => 'v1,AA==').join(' '));
  sigCase('valid entry hidden after 40 junk entries', 400, (v) =>
    [...Array.from({ length: 40 }, () => 'v1,AA=='), v.signature].join(' '),
  );
  sigCase('v1a entry by a key that is not configured', 401, () => `v1a,${randomBytes(64).toString('base64')}`);
  // The adversarial pass: 32 copies of one v1a entry cost 32 ed25519 checks of the whole body.
  // Entries are deduplicated now (the count of checks is asserted in hostile.test.ts).
  const repeatedV1a = `v1a,${randomBytes(64).toString('base64')}`;
  sigCase('32 identical v1a entries', 401, () => Array(32).fill(repeatedV1a).join(' '));
  sigCase('unknown secret', 401, (v) => signV1(unknownSecret, v.id, v.timestamp, v.body));
  sigCase('secret used without base64-decoding', 401, (v) => {
    const wrongKey = Buffer.from(keys.secret.replace(/^whsec_/, ''), 'utf8');
    return `v1,${createHmac('sha256', wrongKey).update(`${v.id}.${v.timestamp}.`).update(v.body).digest('base64')}`;
  });
  sigCase(
    'empty HMAC key',
    401,
    (v) =>
      `v1,${createHmac('sha256', Buffer.alloc(0)).update(`${v.id}.${v.timestamp}.`).update(v.body).digest('base64')}`,
  );
  sigCase('signed for another webhook id', 401, (v) => signV1(keys.secret, `${v.id}x`, v.timestamp, v.body));
  sigCase('signature of the body alone', 401, (v) => {
    const key = Buffer.from(keys.secret.replace(/^whsec_/, ''), 'base64');
    return `v1,${createHmac('sha256', key).update(v.body).digest('base64')}`;
  });
  sigCase('a JWT-looking value that is not a JWT', 401, () => 'eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl');

  // Bodies: the signature covers the exact bytes.
  const bodyCase = (name: string, mutate: (body: Buffer) => Buffer, contentType?: string): void =>
    staticCase('bodies', name, 401, (v) => ({
      headers: staticHeaders(v.id, v.timestamp, v.signature, contentType),
      body: mutate(v.body),
    }));
  bodyCase('one bit flipped', (body) => flipBit(body, 20));
  bodyCase('last bit flipped', (body) => flipBit(body, body.length - 1));
  bodyCase('trailing newline added', (body) => Buffer.concat([body, Buffer.from('\n')]));
  bodyCase('leading space added', (body) => Buffer.concat([Buffer.from(' '), body]));
  bodyCase('UTF-8 BOM added', (body) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), body]));
  bodyCase('re-serialised JSON (pretty-printed)', (body) =>
    Buffer.from(JSON.stringify(JSON.parse(body.toString()), null, 2)),
  );
  bodyCase('re-serialised JSON (keys reordered)', (body) => {
    const parsed = JSON.parse(body.toString()) as Record<string, unknown>;
    return Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(parsed).reverse())));
  });
  bodyCase('type swapped to another event', (body) =>
    Buffer.from(body.toString().replace('batch.succeeded', 'batch.failed')),
  );
  bodyCase('invalid UTF-8 byte spliced in', (body) =>
    Buffer.concat([body.subarray(0, 10), Buffer.from([0xff]), body.subarray(11)]),
  );
  bodyCase('truncated body', (body) => body.subarray(0, body.length - 5));
  bodyCase('empty body', () => Buffer.alloc(0));
  bodyCase('sent without Content-Type and tampered', (body) => flipBit(body, 5), '');
  bodyCase('unsupported charset and tampered', (body) => flipBit(body, 5), 'application/json; charset=x-klingon');
  bodyCase('Content-Encoding claimed but not compressed, tampered', (body) => flipBit(body, 5), 'application/json');
  cases[cases.length - 1]!.request = {
    ...cases[cases.length - 1]!.request,
    headers: [...cases[cases.length - 1]!.request.headers, ['Content-Encoding', 'gzip']],
  };

  // Replays: a genuine delivery captured and sent again later.
  staticCase('replay', 'captured delivery replayed after the window (signed 10 minutes ago)', 401, (v) => {
    const old = v.timestamp - 600;
    return { headers: staticHeaders(v.id, old, signV1(keys.secret, v.id, old, v.body)) };
  });

  // Size and speed.
  staticCase('size', 'declared Content-Length over the limit, nothing sent (with Content-Type)', 413, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    body: Buffer.alloc(0),
    framing: 10 * 1024 * 1024,
  }));
  staticCase('size', 'declared Content-Length over the limit, nothing sent (no Content-Type)', 413, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature, ''),
    body: Buffer.alloc(0),
    framing: 10 * 1024 * 1024,
  }));
  staticCase('size', 'chunked body over the limit (with Content-Type)', 413, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    body: Buffer.alloc(200 * 1024, 0x20),
    framing: 'chunked',
  }));
  staticCase('size', 'chunked body over the limit (no Content-Type)', 413, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature, ''),
    body: Buffer.alloc(200 * 1024, 0x20),
    framing: 'chunked',
  }));
  staticCase('size', 'body dripped one byte every 500 ms (with Content-Type)', 408, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    dripIntervalMs: 500,
  }));
  staticCase('size', 'body dripped one byte every 500 ms (no Content-Type)', 408, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature, ''),
    dripIntervalMs: 500,
  }));
  staticCase('size', 'declared length never completed (with Content-Type)', 408, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    framing: v.body.length + 10,
  }));
  // Refused on its headers while the body still trickles in, on a keep-alive connection: the
  // receiver must close the connection rather than keep reading the drip.
  staticCase('size', 'refused on headers while the body drips (keep-alive): answered and closed', 400, (v) => ({
    headers: without(staticHeaders(v.id, v.timestamp, v.signature), 'webhook-id'),
    dripIntervalMs: 500,
    keepAlive: true,
  }));
  staticCase('size', 'client hangs up halfway through the body (no answer possible)', 'closed', (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    hangUpAfterBytes: 20,
  }));

  // Methods and paths.
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']) {
    staticCase('methods', `${method} with a valid signature`, 405, (v) => ({
      headers: staticHeaders(v.id, v.timestamp, v.signature),
      method,
      ...(method === 'GET' || method === 'HEAD' ? { body: Buffer.alloc(0) } : {}),
    }));
  }
  staticCase('paths', 'POST to another path with a valid signature', 404, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    path: '/admin',
  }));
  staticCase('paths', 'POST to a path-traversal path', 404, (v) => ({
    headers: staticHeaders(v.id, v.timestamp, v.signature),
    path: '/../../etc/passwd',
  }));

  // Routing: validly signed, hostile type strings: they must land on unrouted, whole.
  const routingCase = (name: string, type: unknown, route: RouteKey = 'unrouted'): void => {
    const body = Buffer.from(
      JSON.stringify({ type, version: 'v1', timestamp: '2026-01-22T12:00:00Z', data: { id: `batches/${name}` } }),
    );
    staticCase('routing', name, 200, (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }), {
      publish: { route },
      body,
    });
  };
  routingCase('type "../x"', '../x');
  routingCase('type "../../topics/gemini-batch-succeeded"', '../../topics/gemini-batch-succeeded');
  routingCase('type is a topic name', 'gemini-batch-succeeded');
  routingCase('type is a full topic resource', 'projects/reliability-project/topics/gemini-batch-succeeded');
  routingCase('type of 2,000 characters', `batch.${'x'.repeat(1994)}`);
  routingCase('type with control characters', 'batch.succeeded\u0000\r\nx-injected: 1');
  routingCase('type with a trailing space', 'batch.succeeded ');
  routingCase('type in other case', 'Batch.Succeeded');
  routingCase('type "__proto__"', '__proto__');
  routingCase('type "constructor"', 'constructor');
  routingCase('type is an object', { toString: 'batch.succeeded' });
  routingCase('type is a number', 42);
  routingCase('type missing', undefined);
  routingCase('retired name batch.completed', 'batch.completed');
  {
    // Duplicate keys: JSON.parse keeps the last; the sender signed these bytes, so that is the type.
    const name = 'duplicate "type" keys';
    const body = Buffer.from(
      `{"type":"unknown.kind","type":"batch.failed","version":"v1","data":{"id":"batches/dup"}}`,
    );
    staticCase('routing', name, 200, (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }), {
      publish: { route: 'batch.failed' },
      body,
    });
  }
  // Validly signed bytes that are not UTF-8: published byte for byte. A readable type still routes
  // (decoding can only add U+FFFD, which no catalog type contains); a broken type goes to unrouted.
  const notUtf8 = (name: string, body: Buffer, route: RouteKey): void => {
    const id = newId(name);
    const timestamp = nowSeconds();
    cases.push({
      group: 'routing',
      name,
      expect: 200,
      publish: { route },
      id,
      body,
      request: { headers: staticHeaders(id, timestamp, signV1Raw(keys.secret, id, timestamp, body)), body },
    });
  };
  notUtf8(
    'validly signed, invalid UTF-8 in data',
    Buffer.concat([
      Buffer.from('{"type":"batch.succeeded","data":"'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from('"}'),
    ]),
    'batch.succeeded',
  );
  notUtf8(
    'validly signed, invalid UTF-8 in the type',
    Buffer.concat([Buffer.from('{"type":"batch.succeeded'), Buffer.from([0xff]), Buffer.from('","data":{}}')]),
    'unrouted',
  );
  staticCase(
    'routing',
    'validly signed body that is not JSON, sent as JSON',
    200,
    (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }),
    {
      publish: { route: 'unrouted' },
      body: Buffer.from('this is not json'),
    },
  );
  staticCase(
    'routing',
    'validly signed, unusual charset',
    200,
    (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature, 'application/json; charset=iso-8859-1') }),
    {
      publish: { route: 'batch.succeeded' },
    },
  );
  staticCase(
    'routing',
    'validly signed, form Content-Type',
    200,
    (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature, 'application/x-www-form-urlencoded') }),
    {
      publish: { route: 'batch.succeeded' },
    },
  );

  // user_metadata beyond Pub/Sub's attribute limits: still published whole.
  {
    const metadata: Record<string, unknown> = {};
    for (let i = 0; i < 150; i++)
      metadata[`key_${String(i).padStart(3, '0')}`] = i % 10 === 0 ? 'v'.repeat(2000) : { nested: i };
    metadata['k'.repeat(300)] = 'long key';
    metadata['ctl\u0001key'] = 'control character in the key';
    metadata[''] = 'empty key';
    staticCase(
      'user_metadata',
      'user_metadata beyond attribute limits (top level)',
      200,
      (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }),
      {
        publish: { route: 'batch.succeeded' },
        body: Buffer.from(
          JSON.stringify({
            type: 'batch.succeeded',
            version: 'v1',
            user_metadata: metadata,
            data: { id: 'batches/meta-top' },
          }),
        ),
      },
    );
    staticCase(
      'user_metadata',
      'user_metadata beyond attribute limits (inside data)',
      200,
      (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }),
      {
        publish: { route: 'interaction.completed' },
        body: Buffer.from(
          JSON.stringify({
            type: 'interaction.completed',
            version: 'v1',
            data: { id: 'interactions/meta-data', user_metadata: metadata },
          }),
        ),
      },
    );
  }

  // Lone UTF-16 surrogates: valid JSON escapes that JSON.parse turns into unpaired code units. Signed,
  // they must be published whole; their attributes must still be UTF-8 (they used to poison the
  // whole publish batch).
  const surrogateCase = (name: string, json: string, route: RouteKey, group = 'surrogates'): void =>
    staticCase(group, name, 200, (v) => ({ headers: staticHeaders(v.id, v.timestamp, v.signature) }), {
      publish: { route },
      body: Buffer.from(json),
    });
  surrogateCase(
    'type "batch.\\ud800"',
    '{"type":"batch.\\ud800","version":"v1","data":{"id":"batches/surrogate-type"}}',
    'unrouted',
  );
  surrogateCase(
    'data.id "\\ud800"',
    '{"type":"batch.succeeded","version":"v1","data":{"id":"\\ud800"}}',
    'batch.succeeded',
  );
  surrogateCase(
    'user_metadata value "\\udc00"',
    '{"type":"batch.succeeded","version":"v1","user_metadata":{"v":"\\udc00"},"data":{"id":"batches/surrogate-value"}}',
    'batch.succeeded',
  );
  // A key that is not UTF-8 cannot be an attribute: dropped and flagged, so this one is in the user_metadata group.
  surrogateCase(
    'user_metadata key "\\ud800"',
    '{"type":"batch.failed","version":"v1","user_metadata":{"\\ud800":"v"},"data":{"id":"batches/surrogate-key"}}',
    'batch.failed',
    'user_metadata',
  );
  // 4,500 levels (9 KiB) of user_metadata: JSON.stringify overflowed the stack, a permanent 500.
  const deep = `${'{"a":'.repeat(4500)}1${'}'.repeat(4500)}`;
  surrogateCase(
    'user_metadata nested 4,500 levels deep',
    `{"type":"interaction.failed","version":"v1","user_metadata":{"deep":${deep}},"data":{"id":"interactions/deep"}}`,
    'interaction.failed',
    'user_metadata',
  );

  // --- dynamic (JWT) ---------------------------------------------------------------------------
  const jwtCase = async (
    name: string,
    expect: number | readonly number[],
    token: (body: Buffer) => Promise<string> | string,
    options: { body?: Buffer; sentBody?: (body: Buffer) => Buffer } = {},
  ): Promise<void> => {
    const id = newId(name);
    const body = options.body ?? envelopeFor(name, 'batch.failed');
    const sent = options.sentBody ? options.sentBody(body) : body;
    cases.push({
      group: 'jwt',
      name,
      expect,
      id,
      body: sent,
      request: {
        headers: [
          ['Content-Type', 'application/json'],
          ['webhook-id', id],
          ['webhook-timestamp', String(nowSeconds())],
          ['webhook-signature', await token(body)],
        ],
        body: sent,
      },
    });
  };
  const good = (claims: JWTPayload = {}, header: Record<string, unknown> = {}) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT', ...header })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setIssuer(keys.issuer)
      .setAudience(keys.audience);
  const segments = (token: string) => token.split('.') as [string, string, string];
  /** A payload segment with the claims a genuine token carries, expiring `seconds` from now. */
  const claimsSegment = (body: Buffer, seconds: number) =>
    b64url(JSON.stringify({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience, exp: nowSeconds() + seconds }));

  await jwtCase(
    'alg none, empty signature',
    [400, 401],
    (body) => `${b64url(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }))}.${claimsSegment(body, 300)}.`,
  );
  await jwtCase(
    'alg none, junk signature',
    401,
    (body) => `${b64url(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }))}.${claimsSegment(body, 300)}.AAAA`,
  );
  await jwtCase('HS256 keyed with the RSA public key (PEM)', 401, async (body) => {
    const pem = createPublicKey({ key: keys.jwtPublicJwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    return new SignJWT({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setExpirationTime('5m')
      .sign(Buffer.from(pem));
  });
  await jwtCase('HS256 keyed with the JWK modulus', 401, async (body) =>
    new SignJWT({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience })
      .setProtectedHeader({ alg: 'HS256', kid })
      .setExpirationTime('5m')
      .sign(Buffer.from(keys.jwtPublicJwk.n ?? '')),
  );
  const foreign = await generateKeyPair('RS256', { extractable: true });
  await jwtCase('foreign key claiming the known kid', 401, (body) => good(digestClaim(body)).sign(foreign.privateKey));
  // Issued well before the receiver fetches its JWKS: a kid missing from a set fetched after the
  // token was issued is 401. (One issued after the fetch may name a key published since: 503,
  // hostile-jwks.test.ts.)
  const issuedEarlier = nowSeconds() - 600;
  await jwtCase('unknown kid', 401, (body) =>
    good(digestClaim(body), { kid: 'not-in-the-jwks' }).setIssuedAt(issuedEarlier).sign(foreign.privateKey),
  );
  await jwtCase('path-like kid', 401, (body) =>
    good(digestClaim(body), { kid: '../../../etc/passwd' }).setIssuedAt(issuedEarlier).sign(foreign.privateKey),
  );
  await jwtCase('kid that is a URL, with jku', 401, (body) =>
    good(digestClaim(body), { kid: 'http://127.0.0.1:1/jwks.json', jku: 'http://127.0.0.1:1/jwks.json' })
      .setIssuedAt(issuedEarlier)
      .sign(foreign.privateKey),
  );
  await jwtCase('embedded jwk header with the attacker key', 401, async (body) =>
    good(digestClaim(body), { jwk: await exportJWK(foreign.publicKey) }).sign(foreign.privateKey),
  );
  // The kid is Google's, the key material broken: the JWKS is at fault, so 503 and the sender retries.
  await jwtCase('JWKS entry with garbage key material', 503, (body) =>
    good(digestClaim(body), { kid: keys.garbageKid }).sign(foreign.privateKey),
  );
  const ec = await generateKeyPair('ES256', { extractable: true });
  await jwtCase('ES256 with the known kid', 401, (body) =>
    new SignJWT({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience })
      .setProtectedHeader({ alg: 'ES256', kid })
      .setExpirationTime('5m')
      .sign(ec.privateKey),
  );
  await jwtCase('PS256 with the right RSA key', 401, async (body) =>
    new SignJWT({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience })
      .setProtectedHeader({ alg: 'PS256', kid })
      .setExpirationTime('5m')
      .sign(await importJWK({ ...keys.jwtPrivateJwk, alg: 'PS256' }, 'PS256')),
  );
  await jwtCase('expired an hour ago', 401, (body) =>
    good(digestClaim(body))
      .setExpirationTime(nowSeconds() - 3600)
      .sign(rsa),
  );
  await jwtCase('not valid for another hour (nbf)', 401, (body) =>
    good(digestClaim(body))
      .setNotBefore(nowSeconds() + 3600)
      .sign(rsa),
  );
  await jwtCase('wrong audience', 401, (body) => good(digestClaim(body)).setAudience('someone-else').sign(rsa));
  await jwtCase('wrong issuer', 401, (body) => good(digestClaim(body)).setIssuer('https://evil.example').sign(rsa));
  await jwtCase('no audience although one is required', 401, (body) =>
    new SignJWT({ ...digestClaim(body), iss: keys.issuer })
      .setProtectedHeader({ alg: 'RS256', kid })
      .setExpirationTime('5m')
      .sign(rsa),
  );
  // jose will not sign with an unknown critical header: signed here with node:crypto
  // (RS256 = RSASSA-PKCS1-v1_5 SHA-256).
  await jwtCase('unknown critical header', 401, (body) => {
    const input = `${b64url(JSON.stringify({ alg: 'RS256', kid, crit: ['x-unknown'], 'x-unknown': true }))}.${b64url(
      JSON.stringify({ ...digestClaim(body), iss: keys.issuer, aud: keys.audience, exp: nowSeconds() + 300 }),
    )}`;
    const privateKey = createPrivateKey({ key: keys.jwtPrivateJwk as JsonWebKey, format: 'jwk' });
    return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  });
  await jwtCase('payload segment tampered', 401, async (body) => {
    const [header, , signature] = segments(await good(digestClaim(body)).sign(rsa));
    return `${header}.${claimsSegment(body, 86_400)}.${signature}`;
  });
  await jwtCase('header segment tampered', 401, async (body) => {
    const [, payload, signature] = segments(await good(digestClaim(body)).sign(rsa));
    return `${b64url(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT', extra: 1 }))}.${payload}.${signature}`;
  });
  await jwtCase('signature segment tampered', 401, async (body) => {
    const [header, payload, signature] = segments(await good(digestClaim(body)).sign(rsa));
    return `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
  });
  await jwtCase('signature segment from another token', 401, async (body) => {
    const [header, payload] = segments(await good(digestClaim(body)).sign(rsa));
    const [, , other] = segments(await good({ other: true }).sign(rsa));
    return `${header}.${payload}.${other}`;
  });
  await jwtCase('oversized token (9 KB, over the 8 KiB cap)', 401, (body) =>
    good({ ...digestClaim(body), padding: 'p'.repeat(6500) }).sign(rsa),
  );
  await jwtCase('body swapped under a digest-bound token', 401, (body) => good(digestClaim(body)).sign(rsa), {
    sentBody: (body) => Buffer.from(body.toString().replace('batch.failed', 'batch.succeeded')),
  });
  await jwtCase('digest claim that is not a digest', 401, () => good({ body_sha256: 'not-a-digest' }).sign(rsa));
  await jwtCase('claims carry a different event than the body', 401, () =>
    good({ event: { type: 'batch.succeeded', data: { id: 'batches/other' } } }).sign(rsa),
  );
  await jwtCase('four segments', [400, 401], async (body) => `${await good(digestClaim(body)).sign(rsa)}.AAAA`);

  // Claims binding must cover the whole body. The adversarial pass: a captured token whose claims are
  // {type, data, user_metadata: acme} was accepted as `claims` with another tenant and added fields.
  {
    const captured = { type: 'batch.failed', data: { id: 'batches/claims-captured' } };
    const token = () => good({ ...captured, user_metadata: { tenant: 'acme' } }).sign(rsa);
    const altered = Buffer.from(
      JSON.stringify({
        user_metadata: { tenant: 'globex' },
        ...captured,
        timestamp: '2001-01-01T00:00:00Z',
        note: 'added',
      }),
    );
    await jwtCase('claims-bound token, body with another user_metadata and added fields', 401, token, {
      body: altered,
    });
    await jwtCase('claims-bound token, body with added fields only', 401, token, {
      body: Buffer.from(JSON.stringify({ ...captured, user_metadata: { tenant: 'acme' }, note: 'added' })),
    });
    // A body that repeats "type": JSON.parse keeps the last (covered), a first-key parser reads the first.
    await jwtCase('claims-bound token, body repeating the "type" key', 401, () => good({ ...captured }).sign(rsa), {
      body: Buffer.from(
        `{"type":"interaction.requires_action","type":"batch.failed","data":{"id":"batches/claims-captured"}}`,
      ),
    });
    await jwtCase('claims-bound token, body nested 20,000 levels deep', 401, () => good({ ...captured }).sign(rsa), {
      body: Buffer.from(`{"type":"batch.failed","data":${'['.repeat(20_000)}${']'.repeat(20_000)}}`),
    });
  }

  // Issue 20, the second pass. A body that is a subset of the claims passed as `claims` (item 5).
  {
    const captured = { type: 'batch.failed', data: { id: 'batches/claims-subset' } };
    const token = () => good({ ...captured }).sign(rsa);
    for (const [what, sent] of [
      ['an empty object', {}],
      ['the event without "type"', { data: captured.data }],
      ['"type" without "data"', { type: captured.type }],
    ] as const) {
      await jwtCase(`claims-bound token, body that is ${what}`, 401, token, {
        body: Buffer.from(JSON.stringify(sent)),
      });
    }
    // A body far larger than the claims that must cover it is refused before it is parsed (item 6):
    // here 60 KiB of whitespace around the captured event.
    await jwtCase('claims-bound token, body padded with 60 KiB of whitespace', 401, token, {
      body: Buffer.from(`${' '.repeat(60 * 1024)}${JSON.stringify(captured)}`),
    });
  }
  // Numbers compared as doubles (item 4): a token signed with order_id 1234567890123456789 vouched
  // for a body saying ...700, which JSON.parse reads as the same double and other parsers do not.
  // jose's SignJWT serialises a JavaScript object, so the exact payload is signed with CompactSign.
  {
    const payload = (orderId: string) =>
      `{"type":"batch.failed","data":{"id":"batches/claims-number","order_id":${orderId}},` +
      `"iss":${JSON.stringify(keys.issuer)},"aud":${JSON.stringify(keys.audience)},"exp":${nowSeconds() + 300}}`;
    const token = () =>
      new CompactSign(new TextEncoder().encode(payload('1234567890123456789')))
        .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
        .sign(rsa);
    for (const orderId of ['1234567890123456700', '1234567890123456789.5', '1234567890123456788']) {
      await jwtCase(`claims-bound token signed with order_id ...789, body saying ${orderId.slice(16)}`, 401, token, {
        body: Buffer.from(`{"type":"batch.failed","data":{"id":"batches/claims-number","order_id":${orderId}}}`),
      });
    }
  }

  return cases;
}
