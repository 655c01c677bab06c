/**
 * The token `gemini-webhooks listen` puts on each request it forwards to a consumer on a laptop,
 * and that createPushHandler accepts only with its `development` option.
 *
 * Pub/Sub authenticates a push with an RS256 ID token signed by Google, which nothing on a laptop
 * can produce. So `listen` signs each request with a secret shared with the consumer instead (as
 * `stripe listen` prints a signing secret for the developer's app): `Authorization: Bearer <JWT>`,
 * HS256 with the UTF-8 bytes of the secret as key, an issuer and audience of its own and a short
 * lifetime. The secret travels in an environment variable, never in the token.
 */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';

/** The environment variable both `listen` and a consumer read the shared secret from. */
export const LISTEN_SECRET_ENV = 'GEMINI_WEBHOOKS_LISTEN_SECRET';
export const LISTEN_TOKEN_ISSUER = 'gemini-webhooks listen';
export const LISTEN_TOKEN_AUDIENCE = 'gemini-webhooks-pubsub development push';
/** Long enough to be a key, not a password: `listen` generates 50 characters. */
export const MIN_LISTEN_SECRET_LENGTH = 32;
/** Longer than a forwarded request may take (listen's --timeout is at most 60 s). */
export const LISTEN_TOKEN_LIFETIME_SECONDS = 120;

const ALGORITHM = 'HS256';

/** A fresh secret: `listen_` and 32 random bytes, base64url. */
export function generateListenSecret(): string {
  return `listen_${randomBytes(32).toString('base64url')}`;
}

/** Why a secret cannot be used, or undefined. */
export function listenSecretProblem(secret: string): string | undefined {
  if (secret.trim() !== secret) return 'must not begin or end with white space';
  if (secret.length < MIN_LISTEN_SECRET_LENGTH)
    return `must be at least ${MIN_LISTEN_SECRET_LENGTH} characters long (\`gemini-webhooks listen\` prints one)`;
  return undefined;
}

function keyOf(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

export async function signListenToken(secret: string, now: Date = new Date()): Promise<string> {
  const issuedAt = Math.floor(now.getTime() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setIssuer(LISTEN_TOKEN_ISSUER)
    .setAudience(LISTEN_TOKEN_AUDIENCE)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + LISTEN_TOKEN_LIFETIME_SECONDS)
    .sign(keyOf(secret));
}

/** Whether a bearer token claims to be a listen token (HS256); says nothing about its validity. */
export function looksLikeListenToken(token: string): boolean {
  try {
    return decodeProtectedHeader(token).alg === ALGORITHM;
  } catch {
    return false;
  }
}

/** Resolves when the token is a valid listen token for this secret; throws jose's error otherwise. */
export async function verifyListenToken(token: string, secret: string): Promise<void> {
  await jwtVerify(token, keyOf(secret), {
    algorithms: [ALGORITHM],
    issuer: LISTEN_TOKEN_ISSUER,
    audience: LISTEN_TOKEN_AUDIENCE,
    requiredClaims: ['exp', 'iat'],
    maxTokenAge: LISTEN_TOKEN_LIFETIME_SECONDS,
    clockTolerance: 30,
  });
}
