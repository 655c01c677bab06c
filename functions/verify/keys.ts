/**
 * Parsing of Standard Webhooks key material: HMAC secrets (`whsec_<base64>`) and ed25519 public
 * keys for `v1a` (`whpk_<base64>`). Errors name the entry by position, never by value.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const SECRET_PREFIX = 'whsec_';
const PUBLIC_KEY_PREFIX = 'whpk_';

export class KeyFormatError extends Error {}

function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 === 1) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

/** `whsec_<base64>` (or the bare base64) -> the HMAC key bytes. */
export function parseSigningSecret(secret: string): Buffer {
  const text = secret.trim();
  const body = text.startsWith(SECRET_PREFIX) ? text.slice(SECRET_PREFIX.length) : text;
  const key = decodeBase64Strict(body);
  if (!key) throw new KeyFormatError('is not a Standard Webhooks secret: expected "whsec_" followed by base64');
  return key;
}

/** `whpk_<base64 of the 32-byte raw ed25519 key>` -> a KeyObject for `crypto.verify`. */
export function parseEd25519PublicKey(publicKey: string): KeyObject {
  const text = publicKey.trim();
  const body = text.startsWith(PUBLIC_KEY_PREFIX) ? text.slice(PUBLIC_KEY_PREFIX.length) : text;
  const raw = decodeBase64Strict(body);
  if (!raw || raw.length !== 32) {
    throw new KeyFormatError(
      'is not a Standard Webhooks ed25519 public key: expected "whpk_" followed by the base64 of 32 bytes',
    );
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

/** Parses each entry; the error names the position (1-based) and the fix, never the value. */
function parseEach<T>(items: readonly string[], source: string, parse: (item: string) => T): T[] {
  return items.map((item, index) => {
    try {
      return parse(item);
    } catch (error) {
      throw new KeyFormatError(`${source} entry ${index + 1} ${(error as Error).message}`);
    }
  });
}

/**
 * Parses a list of secrets, newest first, so a misconfigured deployment says which entry is wrong
 * without echoing it.
 */
export function parseSigningSecrets(secrets: readonly string[], source: string): Buffer[] {
  return parseEach(secrets, source, parseSigningSecret);
}

export function parseEd25519PublicKeys(keys: readonly string[], source: string): KeyObject[] {
  return parseEach(keys, source, parseEd25519PublicKey);
}
