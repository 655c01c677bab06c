/**
 * Turns configured key material into what the pure verifier needs, once per change: HMAC secrets
 * come from a SigningSecretSource (environment or Secret Manager) and are decoded only when the
 * source hands out a new list.
 */
import type { KeyObject } from 'node:crypto';
import { parseSigningSecrets } from './verify/keys.ts';
import type { StaticKeys } from './verify/standard-webhooks.ts';

/** Current HMAC signing secrets as configured (`whsec_...`), newest first. */
export interface SigningSecretSource {
  /** Throws when the secrets cannot be loaded right now (the edge answers 503). */
  current(): Promise<readonly string[]>;
  /** Called after a signature mismatch: a rotation may have happened. Rate-limited, never throws. */
  refreshAfterFailure(): void;
  close?(): Promise<void>;
}

/** Secrets fixed for the process lifetime, e.g. from WEBHOOK_SIGNING_SECRETS. */
export function fixedSecretSource(secrets: readonly string[]): SigningSecretSource {
  const frozen = Object.freeze([...secrets]);
  return { current: async () => frozen, refreshAfterFailure: () => {} };
}

export interface StaticKeyProvider {
  keys(): Promise<StaticKeys>;
  signatureMismatch(): void;
}

export function createStaticKeyProvider(source: SigningSecretSource | undefined, ed25519Keys: readonly KeyObject[]): StaticKeyProvider {
  let lastSecrets: readonly string[] | undefined;
  let lastKeys: StaticKeys = { hmacKeys: [], ed25519Keys };
  return {
    async keys() {
      if (!source) return lastKeys;
      const secrets = await source.current();
      if (secrets !== lastSecrets) {
        lastKeys = { hmacKeys: parseSigningSecrets(secrets, 'signing secret'), ed25519Keys };
        lastSecrets = secrets;
      }
      return lastKeys;
    },
    signatureMismatch() {
      source?.refreshAfterFailure();
    },
  };
}
