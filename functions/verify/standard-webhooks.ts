/**
 * Standard Webhooks verification (static, project-level Gemini webhooks).
 *
 * Signed content is `<webhook-id>.<webhook-timestamp>.<raw body>`, exactly as received.
 * `v1` entries are HMAC-SHA256 under any current secret; `v1a` entries are ed25519 signatures
 * under any configured public key. Pure: no I/O, the clock is an argument.
 */
import { createHmac, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';
import { malformed, unauthorized, type Rejection, type StaticVerified } from './result.ts';

export interface StaticKeys {
  /** Decoded HMAC keys, newest first. */
  hmacKeys: readonly Buffer[];
  /** ed25519 public keys for `v1a`. */
  ed25519Keys: readonly KeyObject[];
}

export interface StaticHeaders {
  id: string;
  timestamp: string;
  signature: string;
}

export interface StaticOptions {
  /** Unix seconds. */
  nowSeconds: number;
  toleranceSeconds: number;
}

// An id is opaque to us, but it becomes an attribute and a log field: keep it printable and short.
export const MAX_WEBHOOK_ID_LENGTH = 256;
const WEBHOOK_ID = new RegExp(`^[\\x21-\\x7e]{1,${MAX_WEBHOOK_ID_LENGTH}}$`);
// Unix seconds as a plain decimal integer; 12 digits reaches far past any sane clock.
const TIMESTAMP = /^[0-9]{1,12}$/;
// `<version>,<canonical base64>`: an entry whose payload is empty or not base64 is not an entry.
const ENTRY = /^(v[0-9]+[a-z]?),([A-Za-z0-9+/]+={0,2})$/;
/** A header with more entries than this is noise, not key rotation. */
export const MAX_SIGNATURE_ENTRIES = 32;
/**
 * Distinct `v1a` signatures checked per request, each against every public key. A sender signs once
 * per key it holds: one signature, two while it rotates keys. Every ed25519 check hashes the whole
 * body, so this caps what an unsigned request can make the receiver compute.
 */
export const MAX_V1A_SIGNATURES_CHECKED = 2;
const HMAC_LENGTH = 32;
const ED25519_SIGNATURE_LENGTH = 64;

/** The header's entries, each distinct payload once, in the order sent. */
export interface SignatureEntries {
  v1: Buffer[];
  v1a: Buffer[];
}

export function parseSignatureHeader(header: string): SignatureEntries | Rejection {
  const parts = header.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '') {
    return malformed('malformed_signature_header', 'webhook-signature is empty');
  }
  if (parts.length > MAX_SIGNATURE_ENTRIES) {
    return malformed(
      'malformed_signature_header',
      `webhook-signature has ${parts.length} entries; at most ${MAX_SIGNATURE_ENTRIES} are accepted`,
    );
  }
  const entries: SignatureEntries = { v1: [], v1a: [] };
  const seen = new Set<string>();
  let wellFormed = 0;
  for (const part of parts) {
    // Junk next to a valid entry is skipped (as the reference libraries do); the strict pattern
    // keeps Buffer.from's lenient decoding from turning junk into bytes.
    const match = ENTRY.exec(part);
    if (!match) continue;
    wellFormed++;
    // The same entry twice is one signature: checking it again only costs CPU.
    if (seen.has(part)) continue;
    seen.add(part);
    const [, version, payload = ''] = match;
    if (version === 'v1') entries.v1.push(Buffer.from(payload, 'base64'));
    else if (version === 'v1a') entries.v1a.push(Buffer.from(payload, 'base64'));
  }
  if (wellFormed === 0) {
    return malformed('malformed_signature_header', 'webhook-signature has no "<version>,<base64>" entry');
  }
  return entries;
}

/**
 * The cryptography one request costs, decided before any of it runs: one HMAC-SHA256 of the
 * signed content per signing secret (compared with every `v1` signature, which costs next to
 * nothing), and one ed25519 verification per public key for each of at most
 * MAX_V1A_SIGNATURES_CHECKED distinct `v1a` signatures. Signatures of the wrong length are left
 * out: they could never match.
 */
export interface SignatureChecks {
  hmacKeys: readonly Buffer[];
  v1Signatures: readonly Buffer[];
  ed25519: ReadonlyArray<{ key: KeyObject; signature: Buffer }>;
}

export function planSignatureChecks(entries: SignatureEntries, keys: StaticKeys): SignatureChecks {
  const v1Signatures = entries.v1.filter((entry) => entry.length === HMAC_LENGTH);
  const v1aSignatures = entries.v1a
    .filter((entry) => entry.length === ED25519_SIGNATURE_LENGTH)
    .slice(0, MAX_V1A_SIGNATURES_CHECKED);
  return {
    hmacKeys: v1Signatures.length > 0 ? keys.hmacKeys : [],
    v1Signatures,
    ed25519: keys.ed25519Keys.flatMap((key) => v1aSignatures.map((signature) => ({ key, signature }))),
  };
}

export function isWellFormedWebhookId(id: string): boolean {
  return WEBHOOK_ID.test(id);
}

export function isWellFormedTimestamp(timestamp: string): boolean {
  return TIMESTAMP.test(timestamp);
}

/** Checks the three Standard Webhooks headers' shapes before any cryptography. */
export function checkStaticHeaders(headers: StaticHeaders): Rejection | undefined {
  if (!isWellFormedWebhookId(headers.id)) {
    return malformed(
      'malformed_webhook_id',
      `webhook-id must be 1-${MAX_WEBHOOK_ID_LENGTH} printable ASCII characters without spaces`,
    );
  }
  if (!isWellFormedTimestamp(headers.timestamp)) {
    return malformed('malformed_timestamp', 'webhook-timestamp must be an integer number of Unix seconds');
  }
  return undefined;
}

function signedContentParts(headers: StaticHeaders): string {
  return `${headers.id}.${headers.timestamp}.`;
}

function anyEqual(expected: Buffer, candidates: readonly Buffer[]): boolean {
  let matched = false;
  // Compare against every candidate, whatever the outcome, so timing does not reveal which one matched.
  for (const candidate of candidates) {
    if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  return matched;
}

/**
 * Verifies a Standard Webhooks delivery. The timestamp window is checked before the signature
 * (as the spec's reference libraries do), so a stale replay costs no cryptography.
 */
export function verifyStandardWebhook(
  headers: StaticHeaders,
  body: Buffer,
  keys: StaticKeys,
  options: StaticOptions,
): StaticVerified | Rejection {
  const headerProblem = checkStaticHeaders(headers);
  if (headerProblem) return headerProblem;
  const entries = parseSignatureHeader(headers.signature);
  if ('ok' in entries) return entries;

  const timestamp = Number(headers.timestamp);
  if (Math.abs(options.nowSeconds - timestamp) > options.toleranceSeconds) {
    return unauthorized(
      'timestamp_out_of_window',
      `webhook-timestamp is ${timestamp - options.nowSeconds} s from now; the window is ±${options.toleranceSeconds} s`,
    );
  }

  // A v1/v1a entry of the wrong length is a bad signature (signature_mismatch), not an
  // unsupported one: it is only left out of the cryptography, which could never match it.
  const canCheckV1 = entries.v1.length > 0 && keys.hmacKeys.length > 0;
  const canCheckV1a = entries.v1a.length > 0 && keys.ed25519Keys.length > 0;
  if (!canCheckV1 && !canCheckV1a) {
    if (keys.hmacKeys.length === 0 && keys.ed25519Keys.length === 0) {
      return unauthorized('no_keys_configured', 'no signing secret or public key is configured');
    }
    return unauthorized('no_supported_signature', 'webhook-signature has no entry this receiver has a key for');
  }

  const checks = planSignatureChecks(entries, keys);
  const prefix = signedContentParts(headers);
  let matched = false;
  for (const key of checks.hmacKeys) {
    const digest = createHmac('sha256', key).update(prefix).update(body).digest();
    if (anyEqual(digest, checks.v1Signatures)) matched = true;
  }
  if (matched) return { ok: true, scheme: 'static-v1', webhookId: headers.id, timestamp };
  if (checks.ed25519.length > 0) {
    const content = Buffer.concat([Buffer.from(prefix), body]);
    for (const { key, signature } of checks.ed25519) {
      if (verifySignature(null, content, key, signature))
        return { ok: true, scheme: 'static-v1a', webhookId: headers.id, timestamp };
    }
  }
  return unauthorized('signature_mismatch', 'no signature entry matches any current key');
}
