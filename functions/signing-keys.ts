/**
 * Turns configured key material into what the pure verifier needs, once per change: HMAC secrets
 * come from a SigningSecretSource (environment or Secret Manager) and are decoded only when the
 * source hands out a new list.
 */
import type { KeyObject } from 'node:crypto';
import { KeyFormatError, parseSigningSecret } from './verify/keys.ts';
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

/**
 * Decodes each new list of secrets once. A secret that does not decode (say, a Secret Manager
 * version added by hand with a typo) is reported through `onUnusable` and skipped, so one bad
 * entry does not take every static delivery down; only a list with no usable key is an outage.
 */
export function createStaticKeyProvider(
  source: SigningSecretSource | undefined,
  ed25519Keys: readonly KeyObject[],
  onUnusable: (problem: string) => void = () => {},
): StaticKeyProvider {
  let lastSecrets: readonly string[] | undefined;
  let lastKeys: StaticKeys | Error = { hmacKeys: [], ed25519Keys };
  const decode = (secrets: readonly string[]): StaticKeys | Error => {
    const hmacKeys: Buffer[] = [];
    secrets.forEach((secret, index) => {
      try {
        hmacKeys.push(parseSigningSecret(secret));
      } catch (error) {
        onUnusable(
          `signing secret ${index + 1} of ${secrets.length} (newest first) ${(error as Error).message}; it is ignored`,
        );
      }
    });
    if (hmacKeys.length === 0 && secrets.length > 0 && ed25519Keys.length === 0) {
      return new KeyFormatError(`none of the ${secrets.length} configured signing secrets is usable`);
    }
    return { hmacKeys, ed25519Keys };
  };
  return {
    async keys() {
      if (source) {
        const secrets = await source.current();
        if (secrets !== lastSecrets) {
          lastKeys = decode(secrets);
          lastSecrets = secrets;
        }
      }
      if (lastKeys instanceof Error) throw lastKeys;
      return lastKeys;
    },
    signatureMismatch() {
      source?.refreshAfterFailure();
    },
  };
}
