/**
 * A Standard Webhooks signing secret as the deployment stores it: checked for the exact form Gemini
 * issues, named by a fingerprint that identifies it without revealing it, and never printed. Pure
 * (no Pulumi): the `gemini-webhooks` CLI names secrets by the same fingerprint.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { parseSigningSecret } from '../functions/verify/keys.ts';

/** More secrets than a rotation ever needs (new, previous, and one spare) is a list nobody prunes. */
export const MAX_SIGNING_SECRETS = 5;

/**
 * The fingerprint that names a secret's Secret Manager version resource. It is derived from the
 * secret (so the same secret always maps to the same resource, wherever it sits in the list) but is
 * a 48-bit truncation of a domain-separated SHA-256 of a >=128-bit random key: it identifies, it
 * does not reveal.
 */
export function fingerprintOf(secret: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHash('sha256')
    .update('gemini-webhooks-pubsub/signing-secret-fingerprint/v1\0')
    .update(key)
    .digest('hex')
    .slice(0, 12);
}

/** Why a signing secret is unusable, without ever quoting it; undefined when fine. */
export function signingSecretProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  // Stricter than the receiver on purpose: what the stack stores must be exactly what Gemini issued.
  if (!value.startsWith('whsec_')) return 'does not start with `whsec_`';
  let key: Buffer;
  try {
    key = parseSigningSecret(value);
  } catch (error) {
    return (error as Error).message;
  }
  if (key.length < 16) return `decodes to ${key.length} bytes, fewer than the 16 a signing key needs`;
  return undefined;
}

/**
 * One signing secret. The value is reachable only through `reveal()`; printing, logging or
 * JSON-serialising the object shows the fingerprint and never the secret.
 */
export class SigningSecret {
  /** Stable, non-secret identity: see {@link fingerprintOf}. */
  readonly fingerprint: string;
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    this.fingerprint = fingerprintOf(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return `[signing secret ${this.fingerprint}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}
