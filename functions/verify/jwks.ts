/**
 * Google's JWKS for dynamic (JWT) webhooks: fetched when needed, cached, and never fetched more
 * than once per cooldown, whatever the outcome of the last attempt.
 *
 * jose's `createRemoteJWKSet` rate-limits refetches only after a *successful* fetch, and refuses
 * every token once its cache is older than the maximum age and the refetch fails. With the JWKS
 * answering 500, 200 tokens naming unknown keys then made 200 fetches in under a second. So the
 * fetching and the cache policy live here, and jose does what it is good at: choosing and importing
 * the key for a token (`createLocalJWKSet`).
 *
 * The policy:
 * - one fetch attempt at a time, and at most one per `cooldownMs`, successes and failures alike;
 * - a key set older than `maxAgeMs`, or one that lacks the token's `kid`, is refetched when the
 *   cooldown allows; otherwise the cached set is used;
 * - a refetch that fails keeps the cached set: tokens whose key is cached still verify;
 * - no key set at all, or an unknown `kid` while the last attempt failed, is "unavailable" (503:
 *   the sender retries), never "unknown key" (401);
 * - so is an unknown `kid` on a token issued after the cached set was fetched (its `iat`, give or
 *   take ISSUED_AT_SKEW_MS): Google may have published the key since, and the cooldown, which
 *   anyone can spend with a made-up `kid`, forbids looking. Without this a key published just
 *   after an attacker's probe was refused with 401 for a whole cooldown (issue 20). The `iat` is
 *   read before the signature is checked, so a forger can only choose the answer to their own
 *   token: 503 instead of 401, and never a fetch beyond the cooldown.
 */
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';

/** Raised when no usable key set can be had (network, timeout, garbage, broken key material). */
export class JwksUnavailableError extends Error {
  override name = 'JwksUnavailableError';
}

/**
 * The cached key set lacks the token's kid but was fetched before the token was issued: the key
 * may have been published since, and the cooldown forbids looking yet (503, reason
 * `jwks_refresh_pending`). Unsigned tokens can ask for this answer too, so it has a reason of its
 * own: probes are told apart from a JWKS that is down.
 */
export class JwksRefreshPendingError extends JwksUnavailableError {
  override name = 'JwksRefreshPendingError';
}

/** At most one JWKS fetch attempt per this long. */
export const JWKS_COOLDOWN_MS = 30_000;
/** A key set older than this is refetched (within the cooldown) even when every `kid` is known. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/**
 * How much earlier than a fetch a token's `iat` may be and still count as "issued after it": `iat`
 * is in whole seconds, and Google's clock and ours differ a little.
 */
export const ISSUED_AT_SKEW_MS = 5000;

export interface JwksCacheOptions {
  url: URL;
  fetchTimeoutMs: number;
  cooldownMs?: number;
  maxAgeMs?: number;
  /** For tests; the global fetch otherwise. */
  fetch?: typeof fetch;
}

export interface JwksCache {
  /**
   * The key set to verify a token naming `kid` with, fetched or refreshed first when that is
   * needed and the cooldown allows. Throws JwksUnavailableError when there is no key set the token
   * could verify against, or when the set lacks `kid` and was fetched before `issuedAt` (Unix
   * seconds, the token's unverified `iat`).
   */
  keySetFor(kid: string | undefined, issuedAt?: number): Promise<JWTVerifyGetKey>;
}

interface Loaded {
  keys: JWTVerifyGetKey;
  kids: ReadonlySet<string>;
  fetchedAt: number;
}

/** The `kid` a compact token's header names, if it can be read at all. */
export function kidOf(token: string): string | undefined {
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : undefined;
  } catch {
    return undefined; // jose refuses the token itself later, with its own reason
  }
}

/** The `iat` a compact token's payload claims (unverified), if it is a number. */
export function issuedAtOf(token: string): number | undefined {
  try {
    const { iat } = decodeJwt(token);
    return typeof iat === 'number' && Number.isFinite(iat) ? iat : undefined;
  } catch {
    return undefined;
  }
}

/**
 * jose's local set answers "no such key" itself (401); anything else it throws while choosing or
 * importing a key (an entry with broken key material, say) is the JWKS's fault, not the sender's.
 */
function distinguishJwksFaults(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new JwksUnavailableError(`JWKS unusable: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
  };
}

export function createJwksCache(options: JwksCacheOptions): JwksCache {
  const cooldownMs = options.cooldownMs ?? JWKS_COOLDOWN_MS;
  const maxAgeMs = options.maxAgeMs ?? JWKS_MAX_AGE_MS;
  const fetchJson = options.fetch ?? fetch;
  let loaded: Loaded | undefined;
  let lastAttemptAt: number | undefined;
  let lastFailure: string | undefined;
  let attempt: Promise<void> | undefined;

  const load = async (): Promise<void> => {
    // Date.now, not performance.now: tests drive the cooldown with mocked timers.
    lastAttemptAt = Date.now();
    try {
      const response = await fetchJson(options.url, {
        redirect: 'manual',
        headers: { accept: 'application/json, application/jwk-set+json' },
        signal: AbortSignal.timeout(options.fetchTimeoutMs),
      });
      if (response.status !== 200) throw new Error(`the JWKS answered HTTP ${response.status}`);
      const document = (await response.json()) as JSONWebKeySet;
      const keys = createLocalJWKSet(document); // throws unless it is a JWK set
      const kids = new Set(document.keys.map((key) => key.kid).filter((kid): kid is string => typeof kid === 'string'));
      loaded = { keys: distinguishJwksFaults(keys), kids, fetchedAt: Date.now() };
      lastFailure = undefined;
    } catch (error) {
      lastFailure = (error as Error)?.message ?? String(error);
    }
  };

  const refresh = (): Promise<void> => {
    attempt ??= load().finally(() => (attempt = undefined));
    return attempt;
  };

  return {
    async keySetFor(kid, issuedAt) {
      const now = Date.now();
      const stale = loaded === undefined || now - loaded.fetchedAt >= maxAgeMs;
      const unknownKid = kid !== undefined && loaded !== undefined && !loaded.kids.has(kid);
      if (stale || unknownKid) {
        if (attempt) await attempt;
        else if (lastAttemptAt === undefined || now - lastAttemptAt >= cooldownMs) await refresh();
      }
      if (loaded === undefined) {
        throw new JwksUnavailableError(
          `JWKS unavailable: ${lastFailure ?? 'not fetched yet'}; next attempt at most every ${cooldownMs / 1000} s`,
        );
      }
      if (kid !== undefined && !loaded.kids.has(kid)) {
        if (lastFailure !== undefined) {
          throw new JwksUnavailableError(
            `the token names a key the cached JWKS lacks, and refreshing it failed: ${lastFailure}`,
          );
        }
        if (issuedAt !== undefined && loaded.fetchedAt < issuedAt * 1000 + ISSUED_AT_SKEW_MS) {
          const wait = Math.max(0, Math.ceil(((lastAttemptAt ?? 0) + cooldownMs - Date.now()) / 1000));
          throw new JwksRefreshPendingError(
            'the token names a key the cached JWKS lacks, and was issued after that JWKS was fetched; ' +
              `the next fetch is allowed in ${wait} s`,
          );
        }
      }
      return loaded.keys;
    },
  };
}
