/**
 * Dynamic (per-request) Gemini webhooks: an RS256 JWT in `webhook-signature`, checked with `jose`
 * against Google's JWKS. What the claims contain is not published (the Gemini guide,
 * https://ai.google.dev/gemini-api/docs/webhooks, shows only the signature check), so after the
 * signature we record how strongly the body is bound to the token:
 * - `claims`: the claims carry the event and are the whole body: every field of the body is a
 *   claim with an equal value and every claim but the registered ones a field of the body (or an
 *   `event` claim equals the body), numbers compared as written, and no key repeats;
 * - `digest`: a claim carries the body's SHA-256, and it matches;
 * - `signature-only`: neither; the token proves Google sent *a* delivery, not this body.
 * Which claims might carry the event or a digest is guessed in jwt-binding-heuristics.ts; the
 * rules for what counts as bound are here.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { findDuplicateKey, nestsDeeperThan } from '../json-limits.ts';
import { exactDecimal, isRawJson, parseKeepingNumbers } from '../json-numbers.ts';
import { JwksUnavailableError } from './jwks.ts';
import { decodeDigest, DIGEST_CLAIMS, EVENT_CLAIM } from './jwt-binding-heuristics.ts';
import { checkReceiverSecret } from './receiver-secret.ts';
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
  /** When set, the signed `user_metadata` must carry it (receiver-secret.ts). */
  receiverSecret?: string;
}

/** A three-segment compact JWS: what `webhook-signature` holds for dynamic webhooks. */
export const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Tokens above this size are refused before any decoding. */
export const MAX_JWT_LENGTH = 8192;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Envelopes are three levels deep; anything past this is not an event the claims could carry. */
export const MAX_COMPARED_DEPTH = 64;

/**
 * Claims that describe the token rather than the event (RFC 7519 section 4.1,
 * https://www.rfc-editor.org/rfc/rfc7519#section-4.1): the only claims a `claims`-bound body may lack.
 */
export const REGISTERED_CLAIMS: ReadonlySet<string> = new Set(['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti']);

/**
 * The largest body the claims of a token whose payload is `payloadBytes` of JSON can cover. A body
 * the claims cover holds the same fields with the same values: it can differ from the claims'
 * JSON only in whitespace, key order and escapes (`\u00e9` is six bytes, `é` two), so four times
 * the payload plus 4 KiB of indentation is generous. Anything larger is refused before it is
 * parsed: a captured token with 1 MiB of padding or nesting would otherwise cost a full parse.
 */
export function maxClaimsBoundBodyBytes(payloadBytes: number): number {
  return 4 * payloadBytes + 4096;
}

/** The token's claims as signed: the JSON text of its payload segment. */
function payloadText(token: string): string {
  return Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8');
}

/** A claims-bound body: what it binds, and the SHA-256 of the event it carries in one canonical spelling. */
interface ClaimsBound {
  binding: 'claims';
  coveredSha256: string;
}

/** JSON with sorted keys and exact numbers (exactDecimal): equal for equal events, however they were spelt. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object' || isRawJson(value)) return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.keys(value)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/**
 * Whether the claims carry the event, and if so whether they and the body are the same event.
 * Claims carry it as an EVENT_CLAIM object equal to the body, or as top-level claims (the
 * envelope's own field names, `type` and `data` at least): then every field of the body is a claim
 * with an equal value, and every claim but the registered ones is a field of the body, so a
 * captured token vouches neither for fields it never signed nor for a body missing some it did.
 * Numbers are compared by their exact decimal value as written, never as doubles, and no key may
 * repeat in the body.
 */
function claimsBinding(claims: JWTPayload, token: string, body: Buffer): ClaimsBound | Rejection | undefined {
  const event = claims[EVENT_CLAIM];
  const carriesEvent = event !== null && typeof event === 'object';
  if (!carriesEvent && !(typeof claims['type'] === 'string' && 'data' in claims)) return undefined;
  const mismatch = (detail: string) => unauthorized('body_binding_mismatch', detail);
  const payload = payloadText(token);
  if (body.length > maxClaimsBoundBodyBytes(Buffer.byteLength(payload)))
    return mismatch(`the body (${body.length} bytes) is far larger than the claims that must cover it`);
  const text = body.toString('utf8');
  const parsed = parseJson(text);
  if (parsed === null || typeof parsed !== 'object')
    return mismatch('the token carries the event but the body is not a JSON object');
  // isDeepStrictEqual and the exact parse recurse: compare nothing deeper than an event can be.
  if (nestsDeeperThan(parsed, MAX_COMPARED_DEPTH) || nestsDeeperThan(claims, MAX_COMPARED_DEPTH)) {
    return mismatch(`the body or the claims nest deeper than ${MAX_COMPARED_DEPTH} levels`);
  }
  const exactBody = parseKeepingNumbers(text, exactDecimal) as object;
  const exactClaims = parseKeepingNumbers(payload, exactDecimal) as Record<string, unknown>;
  if (carriesEvent) {
    if (!isDeepStrictEqual(exactBody, exactClaims[EVENT_CLAIM]))
      return mismatch('the event in the token claims differs from the body');
  } else {
    if (Array.isArray(exactBody)) return mismatch('the token carries the event but the body is not a JSON object');
    const fields = exactBody as Record<string, unknown>;
    const uncovered = Object.keys(fields).find(
      (key) => !Object.hasOwn(exactClaims, key) || !isDeepStrictEqual(fields[key], exactClaims[key]),
    );
    if (uncovered !== undefined)
      return mismatch(`body field ${JSON.stringify(uncovered.slice(0, 40))} is not a claim with the same value`);
    const missing = Object.keys(exactClaims).find((key) => !REGISTERED_CLAIMS.has(key) && !Object.hasOwn(fields, key));
    if (missing !== undefined)
      return mismatch(`claim ${JSON.stringify(missing.slice(0, 40))} is not a field of the body`);
  }
  // JSON.parse kept the last of any repeated key; a consumer whose parser keeps the first would
  // read a body the claims never covered.
  const repeated = findDuplicateKey(text);
  if (repeated !== undefined) return mismatch(`the body repeats the key ${JSON.stringify(repeated.slice(0, 40))}`);
  return {
    binding: 'claims',
    coveredSha256: createHash('sha256').update(canonicalJson(exactBody)).digest('hex'),
  };
}

function bindBody(claims: JWTPayload, token: string, body: Buffer): BodyBinding | ClaimsBound | Rejection {
  const bound = claimsBinding(claims, token, body);
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
  const bound = bindBody(claims, token, body);
  if (typeof bound === 'object' && 'ok' in bound) return bound;
  const binding = typeof bound === 'string' ? bound : bound.binding;
  if (binding === 'signature-only' && options.requireBodyBinding) {
    return unauthorized(
      'body_unbound',
      'the token neither carries the event nor a digest of the body, and body binding is required',
    );
  }
  if (options.receiverSecret !== undefined) {
    const refused = checkReceiverSecret(options.receiverSecret, claims, binding, body);
    if (refused) return refused;
  }
  return {
    ok: true,
    scheme: 'jwt',
    binding,
    claims,
    payload: payloadText(token),
    ...(typeof bound === 'object' && { coveredSha256: bound.coveredSha256 }),
  };
}
