/**
 * HEURISTICS, NOT PROTOCOL. Google documents that dynamic (per-request) webhooks are signed with an
 * RS256 JWT whose key is in Google's JWKS (https://ai.google.dev/gemini-api/docs/webhooks), and
 * nothing about what the token's claims contain. Everything in this file is a guess at how a
 * token *might* tie itself to the body it came with, so that the receiver can record (and, with
 * WEBHOOK_JWT_REQUIRE_BODY_BINDING, demand) the strongest binding it finds. Nothing here can make
 * an unverified delivery pass: a guess that matches must also match the body exactly (jwt.ts), a
 * guess that does not match is a mismatch, and a token matching no guess is `signature-only`.
 *
 * When Google documents the claims, replace these guesses with what is documented.
 */

/** A claim holding the whole event, compared with the body as JSON. */
export const EVENT_CLAIM = 'event';

/**
 * Claims that might hold the SHA-256 of the body, looked for in this order; the first present is
 * the one that must match.
 */
export const DIGEST_CLAIMS = [
  'body_sha256',
  'payload_sha256',
  'sha256',
  'body_hash',
  'payload_hash',
  'digest',
] as const;

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;
const B64_SHA256 = /^[A-Za-z0-9+/_-]{43}=?$/;

/**
 * The 32 digest bytes a claim value spells, in any of the forms a sender might choose: bare hex,
 * base64 or base64url, or RFC 9530 style (`sha-256=:<base64>:`). Undefined when it is none of them.
 */
export function decodeDigest(value: string): Buffer | undefined {
  const text = value.replace(/^sha-?256[=:]/i, '').replace(/^:(.*):$/, '$1');
  if (HEX_SHA256.test(text)) return Buffer.from(text, 'hex');
  if (B64_SHA256.test(text)) return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return undefined;
}
