/**
 * Dynamic (per-request) Gemini webhooks: an RS256 JWT in `webhook-signature`, checked with `jose`
 * against Google's JWKS. What the claims contain is not published (see the fact sheet), so after
 * the signature we record how strongly the body is bound to the token:
 * - `claims`: the claims carry the event, and it equals the body;
 * - `digest`: a claim carries the body's SHA-256, and it matches;
 * - `signature-only`: neither; the token proves Google sent *a* delivery, not this body.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { unauthorized, unavailable, type BodyBinding, type JwtVerified, type Rejection } from './result.ts';

export interface JwtOptions {
  /** Resolves the verification key from the token header (a remote JWKS in production). */
  keys: JWTVerifyGetKey;
  audience?: string;
  issuer?: string;
  /** Seconds of clock skew allowed on `exp` and `nbf`. */
  clockToleranceSeconds: number;
  /** Refuse `signature-only` deliveries. */
  requireBodyBinding: boolean;
}

/** A three-segment compact JWS: what `webhook-signature` holds for dynamic webhooks. */
export const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Tokens above this size are refused before any decoding. */
export const MAX_JWT_LENGTH = 8192;

/** Raised by a key resolver when the JWKS itself cannot be had (network, timeout, garbage). */
export class JwksUnavailableError extends Error {}

/**
 * Wraps jose's remote JWKS so that "the JWKS cannot be fetched" (503, the sender retries) is told
 * apart from "this token names a key Google does not have" (401).
 */
export function distinguishJwksOutages(keys: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
      throw new JwksUnavailableError(`JWKS unavailable: ${(error as Error).message ?? String(error)}`, { cause: error });
    }
  };
}

/** jose refetches the JWKS for an unknown `kid` at most this often. */
export const JWKS_COOLDOWN_MS = 30_000;
/** A cached JWKS is refetched after this long even when every `kid` is known. */
export const JWKS_MAX_AGE_MS = 10 * 60_000;

/** Google's JWKS at `url`, cached and rate-limited, with outages told apart from unknown keys. */
export function createJwksKeys(url: URL, fetchTimeoutMs: number): JWTVerifyGetKey {
  return distinguishJwksOutages(
    createRemoteJWKSet(url, { timeoutDuration: fetchTimeoutMs, cooldownDuration: JWKS_COOLDOWN_MS, cacheMaxAge: JWKS_MAX_AGE_MS }),
  );
}

const DIGEST_CLAIMS = ['body_sha256', 'payload_sha256', 'sha256', 'body_hash', 'payload_hash', 'digest'] as const;
const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const B64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;

function decodeDigest(value: string): Buffer | undefined {
  // Accept RFC 9530 style `sha-256=<base64>` as well as bare hex or base64(url).
  const text = value.replace(/^sha-?256[=:]/i, '').replace(/^:(.*):$/, '$1');
  if (HEX_SHA256.test(text)) return Buffer.from(text, 'hex');
  if (B64_SHA256.test(text)) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return undefined;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** The event the claims carry, if they carry one: an `event` object, or top-level `type` and `data`. */
function claimedEvent(claims: JWTPayload): { compare: (body: unknown) => boolean } | undefined {
  const event = claims['event'];
  if (event !== null && typeof event === 'object') {
    return { compare: (body) => isDeepStrictEqual(body, event) };
  }
  if (typeof claims['type'] === 'string' && 'data' in claims) {
    return {
      compare: (body) =>
        body !== null &&
        typeof body === 'object' &&
        (body as Record<string, unknown>)['type'] === claims['type'] &&
        isDeepStrictEqual((body as Record<string, unknown>)['data'], claims['data']),
    };
  }
  return undefined;
}

function bindBody(claims: JWTPayload, body: Buffer): BodyBinding | Rejection {
  const event = claimedEvent(claims);
  if (event) {
    return event.compare(parseJson(body))
      ? 'claims'
      : unauthorized('body_binding_mismatch', 'the event in the token claims differs from the body');
  }
  for (const name of DIGEST_CLAIMS) {
    const value = claims[name];
    if (typeof value !== 'string') continue;
    const claimed = decodeDigest(value);
    if (!claimed) return unauthorized('body_binding_mismatch', `claim ${name} is not a SHA-256 digest`);
    const actual = createHash('sha256').update(body).digest();
    return timingSafeEqual(claimed, actual)
      ? 'digest'
      : unauthorized('body_binding_mismatch', `claim ${name} does not match the body's SHA-256`);
  }
  return 'signature-only';
}

function rejectionFor(error: unknown): Rejection {
  if (error instanceof JwksUnavailableError) return unavailable('jwks_unavailable', error.message);
  if (error instanceof errors.JOSEAlgNotAllowed) return unauthorized('jwt_alg_not_allowed', 'only RS256 tokens are accepted');
  if (error instanceof errors.JWKSNoMatchingKey) return unauthorized('jwt_unknown_key', 'the token names a key that is not in the JWKS');
  if (error instanceof errors.JWKSMultipleMatchingKeys) return unauthorized('jwt_unknown_key', 'the token does not name one key of the JWKS');
  if (error instanceof errors.JWTExpired) return unauthorized('jwt_expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return unauthorized('jwt_claim_invalid', `claim ${error.claim} failed: ${error.reason}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthorized('jwt_invalid', 'the token signature does not verify');
  if (error instanceof errors.JOSEError) return unauthorized('jwt_invalid', `the token is not valid (${error.code})`);
  // Anything else escaped jose (e.g. a key resolver bug): treat it as our fault, not the sender's.
  return unavailable('jwks_unavailable', `JWT verification failed unexpectedly: ${(error as Error)?.message ?? String(error)}`);
}

export async function verifyJwtDelivery(
  token: string,
  body: Buffer,
  options: JwtOptions,
  now: Date,
): Promise<JwtVerified | Rejection> {
  if (token.length > MAX_JWT_LENGTH || !COMPACT_JWT.test(token)) {
    return unauthorized('jwt_invalid', `webhook-signature is not a compact JWT of at most ${MAX_JWT_LENGTH} characters`);
  }
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, options.keys, {
      algorithms: ['RS256'],
      currentDate: now,
      clockTolerance: options.clockToleranceSeconds,
      ...(options.audience !== undefined && { audience: options.audience }),
      ...(options.issuer !== undefined && { issuer: options.issuer }),
    }));
  } catch (error) {
    return rejectionFor(error);
  }
  const binding = bindBody(claims, body);
  if (typeof binding !== 'string') return binding;
  if (binding === 'signature-only' && options.requireBodyBinding) {
    return unauthorized('body_unbound', 'the token neither carries the event nor a digest of the body, and body binding is required');
  }
  return { ok: true, scheme: 'jwt', binding, claims };
}
