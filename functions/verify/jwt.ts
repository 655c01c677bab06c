/**
 * Dynamic (per-request) Gemini webhooks: an RS256 JWT in `webhook-signature`, checked with `jose`
 * against Google's JWKS. What the claims contain is not published (the Gemini guide,
 * https://ai.google.dev/gemini-api/docs/webhooks, shows only the signature check), so after the
 * signature we record how strongly the body is bound to the token:
 * - `claims`: the claims carry the event and cover the whole body: every field of the body is a
 *   claim with an equal value (or an `event` claim equals the body), and no key repeats;
 * - `digest`: a claim carries the body's SHA-256, and it matches;
 * - `signature-only`: neither; the token proves Google sent *a* delivery, not this body.
 * Which claims might carry the event or a digest is guessed in jwt-binding-heuristics.ts; the
 * rules for what counts as bound are here.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { findDuplicateKey, nestsDeeperThan } from '../json-limits.ts';
import { JwksUnavailableError } from './jwks.ts';
import { decodeDigest, DIGEST_CLAIMS, EVENT_CLAIM } from './jwt-binding-heuristics.ts';
import { unauthorized, unavailable, type BodyBinding, type JwtVerified, type Rejection } from './result.ts';

export interface JwtOptions {
  /** Picks the verification key for the token header: the key set verify/jwks.ts loaded for its `kid`. */
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

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Envelopes are three levels deep; anything past this is not an event the claims could carry. */
export const MAX_COMPARED_DEPTH = 64;

/**
 * Whether the claims carry the event, and if so whether they cover the whole body. Claims carry
 * the event as an EVENT_CLAIM object, or as top-level `type` and `data` claims (the envelope's own
 * field names); in the second form the body's other fields (`timestamp`, `user_metadata`, ...)
 * must be claims too, with equal values, or a captured token would vouch for fields it never signed.
 */
function claimsBinding(claims: JWTPayload, body: Buffer): 'claims' | Rejection | undefined {
  const event = claims[EVENT_CLAIM];
  const carriesEvent = event !== null && typeof event === 'object';
  if (!carriesEvent && !(typeof claims['type'] === 'string' && 'data' in claims)) return undefined;
  const mismatch = (detail: string) => unauthorized('body_binding_mismatch', detail);
  const parsed = parseJson(body);
  if (parsed === null || typeof parsed !== 'object')
    return mismatch('the token carries the event but the body is not a JSON object');
  // isDeepStrictEqual recurses: compare nothing deeper than an event can be.
  if (
    nestsDeeperThan(parsed, MAX_COMPARED_DEPTH) ||
    nestsDeeperThan(carriesEvent ? event : claims, MAX_COMPARED_DEPTH)
  ) {
    return mismatch(`the body or the claims nest deeper than ${MAX_COMPARED_DEPTH} levels`);
  }
  if (carriesEvent) {
    if (!isDeepStrictEqual(parsed, event)) return mismatch('the event in the token claims differs from the body');
  } else {
    if (Array.isArray(parsed)) return mismatch('the token carries the event but the body is not a JSON object');
    const uncovered = Object.keys(parsed).find(
      (key) => !Object.hasOwn(claims, key) || !isDeepStrictEqual((parsed as Record<string, unknown>)[key], claims[key]),
    );
    if (uncovered !== undefined)
      return mismatch(`body field ${JSON.stringify(uncovered.slice(0, 40))} is not a claim with the same value`);
  }
  // JSON.parse kept the last of any repeated key; a consumer whose parser keeps the first would
  // read a body the claims never covered.
  const repeated = findDuplicateKey(body.toString('utf8'));
  if (repeated !== undefined) return mismatch(`the body repeats the key ${JSON.stringify(repeated.slice(0, 40))}`);
  return 'claims';
}

function bindBody(claims: JWTPayload, body: Buffer): BodyBinding | Rejection {
  const bound = claimsBinding(claims, body);
  if (bound !== undefined) return bound;
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
  if (error instanceof errors.JOSEAlgNotAllowed)
    return unauthorized('jwt_alg_not_allowed', 'only RS256 tokens are accepted');
  if (error instanceof errors.JWKSNoMatchingKey)
    return unauthorized('jwt_unknown_key', 'the token names a key that is not in the JWKS');
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return unauthorized('jwt_unknown_key', 'the token does not name one key of the JWKS');
  if (error instanceof errors.JWTExpired) return unauthorized('jwt_expired', 'the token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    return unauthorized('jwt_claim_invalid', `claim ${error.claim} failed: ${error.reason}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return unauthorized('jwt_invalid', 'the token signature does not verify');
  if (error instanceof errors.JOSEError) return unauthorized('jwt_invalid', `the token is not valid (${error.code})`);
  // Anything else escaped jose (e.g. a key resolver bug): treat it as our fault, not the sender's.
  return unavailable(
    'jwks_unavailable',
    `JWT verification failed unexpectedly: ${(error as Error)?.message ?? String(error)}`,
  );
}

export async function verifyJwtDelivery(
  token: string,
  body: Buffer,
  options: JwtOptions,
  now: Date,
): Promise<JwtVerified | Rejection> {
  if (token.length > MAX_JWT_LENGTH || !COMPACT_JWT.test(token)) {
    return unauthorized(
      'jwt_invalid',
      `webhook-signature is not a compact JWT of at most ${MAX_JWT_LENGTH} characters`,
    );
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
    return unauthorized(
      'body_unbound',
      'the token neither carries the event nor a digest of the body, and body binding is required',
    );
  }
  return { ok: true, scheme: 'jwt', binding, claims };
}
