// Standard Webhooks verification (static Gemini webhooks): `v1` signatures made by the
// `standardwebhooks` package, `v1a` (ed25519) signatures made with WebCrypto.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KeyObject } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { parseEd25519PublicKeys, parseSigningSecrets } from '../../functions/verify/keys.ts';
import type { VerificationResult } from '../../functions/verify/result.ts';
import {
  MAX_SIGNATURE_ENTRIES,
  MAX_V1A_SIGNATURES_CHECKED,
  parseSignatureHeader,
  planSignatureChecks,
  verifyStandardWebhook,
  type StaticHeaders,
  type StaticKeys,
} from '../../functions/verify/standard-webhooks.ts';
import { BODY, newEd25519Signer, newSecret, NOW_SECONDS, signV1, staticHeaders } from '../support/signing.ts';

const SECRET = newSecret();
const OLD_SECRET = newSecret();
const OTHER_SECRET = newSecret();
const ID = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

interface VerifyOptions {
  secrets?: readonly string[];
  publicKeys?: readonly KeyObject[];
  now?: number;
  tolerance?: number;
}

function verify(headers: StaticHeaders, body: string | Buffer, options: VerifyOptions = {}): VerificationResult {
  return verifyStandardWebhook(
    headers,
    Buffer.isBuffer(body) ? body : Buffer.from(body),
    { hmacKeys: parseSigningSecrets(options.secrets ?? [SECRET], 'test'), ed25519Keys: options.publicKeys ?? [] },
    { nowSeconds: options.now ?? NOW_SECONDS, toleranceSeconds: options.tolerance ?? 300 },
  );
}

function assertAccepted(result: VerificationResult, scheme: 'static-v1' | 'static-v1a' = 'static-v1'): void {
  assert.equal(result.ok, true, `expected acceptance, got ${JSON.stringify(result)}`);
  assert.equal(result.ok && result.scheme, scheme);
}

function assertRejected(result: VerificationResult, kind: 'malformed' | 'unauthorized', reason: string): void {
  assert.equal(result.ok, false, `expected rejection ${kind}/${reason}, got acceptance`);
  if (result.ok) return;
  assert.deepEqual({ kind: result.kind, reason: result.reason }, { kind, reason }, result.detail);
}

/** A well-formed v1 entry that matches nothing. */
function bogusV1(): string {
  return signV1(OTHER_SECRET, ID, NOW_SECONDS, 'something else');
}

describe('v1 signatures', () => {
  test('a delivery signed by the standardwebhooks package verifies, with the signed id and timestamp', () => {
    const result = verify(staticHeaders(SECRET, BODY, { id: ID }), BODY);
    assertAccepted(result);
    assert.deepEqual(result, { ok: true, scheme: 'static-v1', webhookId: ID, timestamp: NOW_SECONDS });
  });

  test('the reference library agrees that the fixture signature is valid (the fixture is sound)', () => {
    const headers = staticHeaders(SECRET, BODY, { timestampSeconds: Math.floor(Date.now() / 1000) });
    assert.doesNotThrow(() =>
      new Webhook(SECRET).verify(BODY, {
        'webhook-id': headers.id,
        'webhook-timestamp': headers.timestamp,
        'webhook-signature': headers.signature,
      }),
    );
  });

  test('one flipped bit anywhere in the body fails', () => {
    const headers = staticHeaders(SECRET, BODY);
    const bytes = Buffer.from(BODY);
    for (const index of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[index] = flipped[index]! ^ 0x01;
      assertRejected(verify(headers, flipped), 'unauthorized', 'signature_mismatch');
    }
  });

  test('added whitespace fails: the signature covers the exact bytes', () => {
    const headers = staticHeaders(SECRET, BODY);
    assertRejected(verify(headers, `${BODY}\n`), 'unauthorized', 'signature_mismatch');
    assertRejected(verify(headers, ` ${BODY}`), 'unauthorized', 'signature_mismatch');
    assertRejected(verify(headers, BODY.replace('{"type"', '{ "type"')), 'unauthorized', 'signature_mismatch');
  });

  test('re-serialised JSON fails (what the cookbook sample does)', () => {
    const pretty = `{ "data": {"id": "batch_1"}, "type": "batch.succeeded" }`;
    const headers = staticHeaders(SECRET, pretty);
    assertAccepted(verify(headers, pretty));
    const reserialised = JSON.stringify(JSON.parse(pretty));
    assert.notEqual(reserialised, pretty);
    assertRejected(verify(headers, reserialised), 'unauthorized', 'signature_mismatch');
  });

  test('the id and timestamp are part of the signed content', () => {
    const headers = staticHeaders(SECRET, BODY);
    assertRejected(verify({ ...headers, id: 'msg_other' }, BODY), 'unauthorized', 'signature_mismatch');
    assertRejected(
      verify({ ...headers, timestamp: String(NOW_SECONDS + 1) }, BODY),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('a signature made with another secret fails', () => {
    assertRejected(verify(staticHeaders(OTHER_SECRET, BODY), BODY), 'unauthorized', 'signature_mismatch');
  });

  test('rotation: with secrets newest first, a delivery signed with the previous secret verifies', () => {
    assertAccepted(verify(staticHeaders(OLD_SECRET, BODY), BODY, { secrets: [SECRET, OLD_SECRET] }));
  });

  test('rotation: with secrets newest first, a delivery signed with the new secret verifies', () => {
    assertAccepted(verify(staticHeaders(SECRET, BODY), BODY, { secrets: [SECRET, OLD_SECRET] }));
  });

  test('rotation: once the old secret is dropped, its deliveries fail', () => {
    assertRejected(
      verify(staticHeaders(OLD_SECRET, BODY), BODY, { secrets: [SECRET] }),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('several space-separated signatures: any one matching is enough, wherever it is', () => {
    const good = staticHeaders(SECRET, BODY);
    for (const signature of [
      `${good.signature} ${bogusV1()}`,
      `${bogusV1()} ${good.signature}`,
      `${bogusV1()} ${good.signature} ${bogusV1()}`,
      `  ${bogusV1()}   ${good.signature}  `,
      `v2,Zm9vYmFy ${good.signature}`,
    ]) {
      assertAccepted(verify({ ...good, signature }, BODY));
    }
    assertRejected(
      verify({ ...good, signature: `${bogusV1()} ${bogusV1()}` }, BODY),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('both entries Gemini might send during a rotation grace period verify against either secret list', () => {
    const headers = staticHeaders(SECRET, BODY);
    const both = `${headers.signature} ${signV1(OLD_SECRET, headers.id, NOW_SECONDS, BODY)}`;
    assertAccepted(verify({ ...headers, signature: both }, BODY, { secrets: [SECRET] }));
    assertAccepted(verify({ ...headers, signature: both }, BODY, { secrets: [OLD_SECRET] }));
  });

  test('the whsec_ prefix is optional: the bare base64 secret verifies the same deliveries', () => {
    const bare = SECRET.slice('whsec_'.length);
    assertAccepted(verify(staticHeaders(SECRET, BODY), BODY, { secrets: [bare] }));
    // ...and the reference library agrees that the prefix is not part of the key.
    assert.equal(new Webhook(bare).sign(ID, new Date(0), BODY), new Webhook(SECRET).sign(ID, new Date(0), BODY));
  });

  test('multi-byte UTF-8 bodies verify, and a re-encoding of the same text does not', () => {
    const composed = '{"type":"video.generated","data":{"id":"caf\u00e9 \u{1f3ac}"}}';
    const decomposed = composed.normalize('NFD');
    assert.notEqual(decomposed, composed);
    const headers = staticHeaders(SECRET, composed);
    assertAccepted(verify(headers, Buffer.from(composed, 'utf8')));
    assertRejected(verify(headers, Buffer.from(decomposed, 'utf8')), 'unauthorized', 'signature_mismatch');
    assertRejected(verify(headers, Buffer.from(composed, 'utf16le')), 'unauthorized', 'signature_mismatch');
  });
});

describe('timestamp window', () => {
  const at = (offset: number, tolerance?: number): VerificationResult =>
    verify(staticHeaders(SECRET, BODY, { timestampSeconds: NOW_SECONDS + offset }), BODY, {
      ...(tolerance !== undefined && { tolerance }),
    });

  test('exactly at the default ±300 s edge passes, in both directions', () => {
    assertAccepted(at(-300));
    assertAccepted(at(300));
  });

  test('one second beyond the edge fails, in both directions', () => {
    assertRejected(at(-301), 'unauthorized', 'timestamp_out_of_window');
    assertRejected(at(301), 'unauthorized', 'timestamp_out_of_window');
  });

  test('a custom tolerance moves both edges', () => {
    assertAccepted(at(-10, 10));
    assertAccepted(at(10, 10));
    assertRejected(at(-11, 10), 'unauthorized', 'timestamp_out_of_window');
    assertRejected(at(11, 10), 'unauthorized', 'timestamp_out_of_window');
    assertAccepted(at(-3600, 3600));
    assertRejected(at(-3601, 3600), 'unauthorized', 'timestamp_out_of_window');
  });

  test('a stale timestamp is refused even when the signature is valid (replay)', () => {
    const result = at(-86_400);
    assertRejected(result, 'unauthorized', 'timestamp_out_of_window');
  });

  test('a 12-digit timestamp is well formed but far outside the window', () => {
    const headers = staticHeaders(SECRET, BODY);
    assertRejected(verify({ ...headers, timestamp: '999999999999' }, BODY), 'unauthorized', 'timestamp_out_of_window');
  });
});

describe('malformed headers are told apart from bad signatures', () => {
  const good = staticHeaders(SECRET, BODY);

  test('webhook-id: empty, too long, with spaces or non-ASCII is malformed', () => {
    for (const id of ['', 'a'.repeat(257), 'msg 1', 'msg_é', 'msg\n1', 'msg\u00001']) {
      assertRejected(verify({ ...good, id }, BODY), 'malformed', 'malformed_webhook_id');
    }
    assertRejected(verify({ ...good, id: 'a'.repeat(256) }, BODY), 'unauthorized', 'signature_mismatch');
  });

  test('webhook-timestamp: empty, non-numeric, negative, float, exponent, padded or huge is malformed', () => {
    for (const timestamp of [
      '',
      'now',
      '-1769083200',
      '1769083200.5',
      '1.7e9',
      ' 1769083200',
      '0x6970d540',
      '1769083200000',
      '9'.repeat(40),
    ]) {
      assertRejected(verify({ ...good, timestamp }, BODY), 'malformed', 'malformed_timestamp');
    }
  });

  test('webhook-timestamp in milliseconds (13 digits) is malformed, not merely out of window', () => {
    assertRejected(
      verify({ ...good, timestamp: String(NOW_SECONDS * 1000) }, BODY),
      'malformed',
      'malformed_timestamp',
    );
  });

  test('webhook-signature: empty or blank is malformed', () => {
    for (const signature of ['', ' ', '\t']) {
      assertRejected(verify({ ...good, signature }, BODY), 'malformed', 'malformed_signature_header');
    }
  });

  test('webhook-signature without any "<version>,<base64>" entry is malformed', () => {
    const digest = good.signature.slice('v1,'.length);
    for (const signature of [
      digest, // no version
      `v1:${digest}`,
      `v1;${digest}`,
      `V1,${digest}`,
      `v1,`, // empty signature
      `v1, ${digest}`,
      'v1,@@@@', // not base64
      'v1,abc=def', // padding in the middle
      'v1,abc-_def', // base64url alphabet
      'garbage',
    ]) {
      assertRejected(verify({ ...good, signature }, BODY), 'malformed', 'malformed_signature_header');
    }
  });

  test('malformed entries next to a valid one are ignored', () => {
    assertAccepted(verify({ ...good, signature: `v1, junk v1,@@ ${good.signature}` }, BODY));
  });

  test(`more than ${MAX_SIGNATURE_ENTRIES} entries is malformed; exactly ${MAX_SIGNATURE_ENTRIES} is fine`, () => {
    const filler = (count: number) => Array.from({ length: count }, () => bogusV1());
    assertAccepted(
      verify({ ...good, signature: [...filler(MAX_SIGNATURE_ENTRIES - 1), good.signature].join(' ') }, BODY),
    );
    assertRejected(
      verify({ ...good, signature: [...filler(MAX_SIGNATURE_ENTRIES), good.signature].join(' ') }, BODY),
      'malformed',
      'malformed_signature_header',
    );
  });

  test('a truncated or padded v1 signature is a bad signature, not a malformed header', () => {
    const bytes = Buffer.from(good.signature.slice('v1,'.length), 'base64');
    for (const wrongLength of [
      bytes.subarray(0, 31),
      bytes.subarray(0, 16),
      Buffer.concat([bytes, Buffer.from([0])]),
    ]) {
      assertRejected(
        verify({ ...good, signature: `v1,${wrongLength.toString('base64')}` }, BODY),
        'unauthorized',
        'signature_mismatch',
      );
    }
  });

  test('entries with unknown versions only: well formed, but nothing this receiver can check', () => {
    const digest = good.signature.slice('v1,'.length);
    for (const signature of [`v2,${digest}`, `v0,${digest}`, `v1b,${digest}`, `v2,${digest} v3,${digest}`]) {
      assertRejected(verify({ ...good, signature }, BODY), 'unauthorized', 'no_supported_signature');
    }
  });

  test('header shape is checked before the timestamp window, and the window before the signature', () => {
    const stale = staticHeaders(SECRET, BODY, { timestampSeconds: NOW_SECONDS - 10_000 });
    assertRejected(verify({ ...stale, signature: 'garbage' }, BODY), 'malformed', 'malformed_signature_header');
    assertRejected(verify({ ...stale, signature: bogusV1() }, BODY), 'unauthorized', 'timestamp_out_of_window');
  });

  test('no keys at all is its own reason', () => {
    assertRejected(verify(good, BODY, { secrets: [] }), 'unauthorized', 'no_keys_configured');
  });
});

describe('v1a (ed25519) signatures', () => {
  test('a signature made with WebCrypto verifies under its whpk_ public key', async () => {
    const signer = await newEd25519Signer();
    const signature = await signer.sign(ID, NOW_SECONDS, BODY);
    const result = verify({ id: ID, timestamp: String(NOW_SECONDS), signature }, BODY, {
      secrets: [],
      publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test'),
    });
    assert.deepEqual(result, { ok: true, scheme: 'static-v1a', webhookId: ID, timestamp: NOW_SECONDS });
  });

  test('any of several public keys may match', async () => {
    const [a, b] = [await newEd25519Signer(), await newEd25519Signer()];
    const signature = await b.sign(ID, NOW_SECONDS, BODY);
    assertAccepted(
      verify({ id: ID, timestamp: String(NOW_SECONDS), signature }, BODY, {
        publicKeys: parseEd25519PublicKeys([a.publicKey, b.publicKey], 'test'),
      }),
      'static-v1a',
    );
  });

  test('a signature by another key fails', async () => {
    const [signer, other] = [await newEd25519Signer(), await newEd25519Signer()];
    const signature = await other.sign(ID, NOW_SECONDS, BODY);
    assertRejected(
      verify({ id: ID, timestamp: String(NOW_SECONDS), signature }, BODY, {
        secrets: [],
        publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test'),
      }),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('a tampered body, id or timestamp fails', async () => {
    const signer = await newEd25519Signer();
    const signature = await signer.sign(ID, NOW_SECONDS, BODY);
    const options = { secrets: [], publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test') };
    const headers = { id: ID, timestamp: String(NOW_SECONDS), signature };
    assertRejected(
      verify(headers, BODY.replace('batch_123456', 'batch_123457'), options),
      'unauthorized',
      'signature_mismatch',
    );
    assertRejected(verify(headers, `${BODY} `, options), 'unauthorized', 'signature_mismatch');
    assertRejected(verify({ ...headers, id: 'msg_x' }, BODY, options), 'unauthorized', 'signature_mismatch');
    assertRejected(
      verify({ ...headers, timestamp: String(NOW_SECONDS - 1) }, BODY, options),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('a truncated v1a signature fails', async () => {
    const signer = await newEd25519Signer();
    const signature = await signer.sign(ID, NOW_SECONDS, BODY);
    const truncated = `v1a,${Buffer.from(signature.slice(4), 'base64').subarray(0, 63).toString('base64')}`;
    assertRejected(
      verify({ id: ID, timestamp: String(NOW_SECONDS), signature: truncated }, BODY, {
        secrets: [],
        publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test'),
      }),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('a v1a entry is ignored when no public key is configured', async () => {
    const signer = await newEd25519Signer();
    const signature = await signer.sign(ID, NOW_SECONDS, BODY);
    assertRejected(
      verify({ id: ID, timestamp: String(NOW_SECONDS), signature }, BODY, { secrets: [SECRET] }),
      'unauthorized',
      'no_supported_signature',
    );
  });

  test('v1 and v1a entries side by side: either key kind verifies the delivery', async () => {
    const signer = await newEd25519Signer();
    const v1 = staticHeaders(SECRET, BODY, { id: ID });
    const v1a = await signer.sign(ID, NOW_SECONDS, BODY);
    const headers = { ...v1, signature: `${v1a} ${v1.signature}` };
    const publicKeys = parseEd25519PublicKeys([signer.publicKey], 'test');
    assertAccepted(verify(headers, BODY, { secrets: [SECRET] }), 'static-v1');
    assertAccepted(verify(headers, BODY, { secrets: [], publicKeys }), 'static-v1a');
    assertAccepted(verify(headers, BODY, { secrets: [OTHER_SECRET], publicKeys }), 'static-v1a');
    assertAccepted(verify(headers, BODY, { secrets: [SECRET], publicKeys }));
    assertRejected(
      verify(headers, BODY, {
        secrets: [OTHER_SECRET],
        publicKeys: parseEd25519PublicKeys([(await newEd25519Signer()).publicKey], 'test'),
      }),
      'unauthorized',
      'signature_mismatch',
    );
  });

  test('a v1 entry is not checked as v1a, nor the other way round', async () => {
    const signer = await newEd25519Signer();
    const v1a = await signer.sign(ID, NOW_SECONDS, BODY);
    const relabelled = `v1,${v1a.slice('v1a,'.length)}`;
    assertRejected(
      verify({ id: ID, timestamp: String(NOW_SECONDS), signature: relabelled }, BODY, {
        secrets: [],
        publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test'),
      }),
      'unauthorized',
      'no_supported_signature',
    );
  });
});

describe('verification work per request', () => {
  /** The checks a header costs under `keys`, as the verifier plans and then runs them. */
  function work(signature: string, keys: StaticKeys): { hmacs: number; ed25519: number } {
    const entries = parseSignatureHeader(signature);
    assert.ok(!('ok' in entries), 'well-formed header');
    const checks = planSignatureChecks(entries, keys);
    return { hmacs: checks.hmacKeys.length, ed25519: checks.ed25519.length };
  }

  test('repeated entries are checked once', async () => {
    const publicKeys = parseEd25519PublicKeys(
      [(await newEd25519Signer()).publicKey, (await newEd25519Signer()).publicKey],
      'test',
    );
    const hmacKeys = parseSigningSecrets([SECRET, OLD_SECRET], 'test');
    const v1a = `v1a,${Buffer.alloc(64, 1).toString('base64')}`;
    assert.deepEqual(work(Array(32).fill(v1a).join(' '), { hmacKeys, ed25519Keys: publicKeys }), {
      hmacs: 0,
      ed25519: 2,
    });
    const v1 = bogusV1();
    const entries = parseSignatureHeader(Array(32).fill(v1).join(' '));
    assert.ok(!('ok' in entries));
    assert.equal(entries.v1.length, 1);
    assert.deepEqual(work(Array(32).fill(v1).join(' '), { hmacKeys, ed25519Keys: publicKeys }), {
      hmacs: 2,
      ed25519: 0,
    });
  });

  test(
    `at most ${MAX_V1A_SIGNATURES_CHECKED} distinct v1a signatures are checked, ` + 'against each public key',
    async () => {
      const publicKeys = parseEd25519PublicKeys([(await newEd25519Signer()).publicKey], 'test');
      const distinct = Array.from({ length: 32 }, (_, i) => `v1a,${Buffer.alloc(64, i).toString('base64')}`).join(' ');
      assert.deepEqual(work(distinct, { hmacKeys: [], ed25519Keys: publicKeys }), {
        hmacs: 0,
        ed25519: MAX_V1A_SIGNATURES_CHECKED,
      });
    },
  );

  test('signatures of the wrong length cost nothing', () => {
    const hmacKeys = parseSigningSecrets([SECRET], 'test');
    assert.deepEqual(work('v1,AAAA v1,AAAAAAAA', { hmacKeys, ed25519Keys: [] }), { hmacs: 0, ed25519: 0 });
  });

  test('a genuine v1a signature among the checked ones verifies; one sent after the cap does not', async () => {
    const signer = await newEd25519Signer();
    const genuine = await signer.sign(ID, NOW_SECONDS, BODY);
    const junk = (n: number) =>
      Array.from({ length: n }, (_, i) => `v1a,${Buffer.alloc(64, i + 1).toString('base64')}`);
    const options = { secrets: [], publicKeys: parseEd25519PublicKeys([signer.publicKey], 'test') };
    const headers = (signature: string) => ({ id: ID, timestamp: String(NOW_SECONDS), signature });
    assertAccepted(
      verify(headers([...junk(MAX_V1A_SIGNATURES_CHECKED - 1), genuine].join(' ')), BODY, options),
      'static-v1a',
    );
    assertAccepted(verify(headers([genuine, genuine, ...junk(20)].join(' ')), BODY, options), 'static-v1a');
    assertRejected(
      verify(headers([...junk(MAX_V1A_SIGNATURES_CHECKED), genuine].join(' ')), BODY, options),
      'unauthorized',
      'signature_mismatch',
    );
  });
});
