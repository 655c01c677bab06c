// Parsing Standard Webhooks key material: `whsec_` HMAC secrets and `whpk_` ed25519 public keys.
import assert from 'node:assert/strict';
import { randomBytes, verify as cryptoVerify } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  KeyFormatError,
  parseEd25519PublicKey,
  parseEd25519PublicKeys,
  parseSigningSecret,
  parseSigningSecrets,
} from '../../functions/verify/keys.ts';
import { newEd25519Signer, newSecret } from '../support/signing.ts';

/** Asserts a KeyFormatError that names the entry and does not echo the bad value. */
function assertKeyError(fn: () => unknown, position: number, source: string, secretValue: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof KeyFormatError, `expected KeyFormatError, got ${String(error)}`);
    assert.match(error.message, new RegExp(`^${source} entry ${position} `));
    // The prefix alone is no secret (and the message names it as the expected format).
    const body = secretValue.trim().replace(/^wh(sec|pk)_/, '');
    if (body.length >= 4) assert.ok(!error.message.includes(body), `message echoes the value: ${error.message}`);
    return true;
  });
}

describe('signing secrets', () => {
  test('whsec_<base64> decodes to the key bytes; the prefix is optional; whitespace is trimmed', () => {
    const bytes = randomBytes(24);
    const b64 = bytes.toString('base64');
    for (const secret of [`whsec_${b64}`, b64, `  whsec_${b64}\n`]) {
      assert.deepEqual(parseSigningSecret(secret), bytes);
    }
  });

  test('unpadded base64 is accepted', () => {
    const bytes = randomBytes(32); // 43 base64 characters plus one '='
    assert.deepEqual(parseSigningSecret(`whsec_${bytes.toString('base64').replace(/=+$/, '')}`), bytes);
  });

  test('a list keeps its order (newest first)', () => {
    const [a, b] = [newSecret(), newSecret()];
    assert.deepEqual(parseSigningSecrets([a, b], 'S'), [parseSigningSecret(a), parseSigningSecret(b)]);
    assert.deepEqual(parseSigningSecrets([], 'S'), []);
  });

  test('malformed secrets are refused, naming the 1-based position and never the value', () => {
    const good = newSecret();
    const bad = [
      '',
      'whsec_',
      'whsec_not base64 at all!',
      `whsec_${Buffer.from('a-url-safe-secret??>>').toString('base64url')}-_`,
      `whsec_${randomBytes(24).toString('base64')}%`,
      'whsec_A', // 1 mod 4: not base64
      'whsec_ab=c',
      `wh_${randomBytes(24).toString('base64')}x!`,
      `sk_live_${'x'.repeat(30)}!`,
    ];
    for (const value of bad) {
      assertKeyError(
        () => parseSigningSecrets([good, good, value], 'WEBHOOK_SIGNING_SECRETS'),
        3,
        'WEBHOOK_SIGNING_SECRETS',
        value,
      );
      assertKeyError(() => parseSigningSecrets([value], 'signing secret'), 1, 'signing secret', value);
    }
  });

  test('a single bad secret says what was expected', () => {
    assert.throws(() => parseSigningSecret('nope!'), /expected "whsec_" followed by base64/);
  });
});

describe('ed25519 public keys', () => {
  test('whpk_<base64 of 32 bytes> becomes a key that verifies what its private half signed', async () => {
    const signer = await newEd25519Signer();
    const key = parseEd25519PublicKey(signer.publicKey);
    assert.equal(key.asymmetricKeyType, 'ed25519');
    const signature = await signer.sign('msg_1', 1, 'body');
    assert.ok(cryptoVerify(null, Buffer.from('msg_1.1.body'), key, Buffer.from(signature.slice(4), 'base64')));
    // Without the prefix, the same key.
    const bare = parseEd25519PublicKey(signer.publicKey.slice('whpk_'.length));
    assert.deepEqual(bare.export({ format: 'jwk' }), key.export({ format: 'jwk' }));
  });

  test('keys of the wrong length or encoding are refused, naming the position and not the value', () => {
    const good = `whpk_${randomBytes(32).toString('base64')}`;
    for (const value of [
      `whpk_${randomBytes(31).toString('base64')}`,
      `whpk_${randomBytes(33).toString('base64')}`,
      `whpk_${randomBytes(64).toString('base64')}`,
      `whpk_${randomBytes(32).toString('base64url')}!`,
      newSecret(), // an HMAC secret in the wrong variable
      '',
    ]) {
      assertKeyError(
        () => parseEd25519PublicKeys([good, value], 'WEBHOOK_SIGNING_PUBLIC_KEYS'),
        2,
        'WEBHOOK_SIGNING_PUBLIC_KEYS',
        value,
      );
    }
  });
});
