/**
 * What verification can conclude. The HTTP edge maps each kind to one status code:
 * `malformed` -> 400, `unauthorized` -> 401, `unavailable` -> 503. Reasons are stable strings:
 * they appear in logs and in the verification-failure metric.
 */

export type Scheme = 'static' | 'jwt';
export type VerificationScheme = 'static-v1' | 'static-v1a' | 'jwt';

/** How strongly a JWT delivery's body is tied to the token. */
export type BodyBinding = 'claims' | 'digest' | 'signature-only';

export type MalformedReason =
  | 'missing_headers'
  | 'duplicate_headers'
  | 'malformed_webhook_id'
  | 'malformed_timestamp'
  | 'malformed_signature_header';

export type UnauthorizedReason =
  | 'scheme_disabled'
  | 'no_keys_configured'
  | 'no_supported_signature'
  | 'timestamp_out_of_window'
  | 'signature_mismatch'
  | 'jwt_invalid'
  | 'jwt_alg_not_allowed'
  | 'jwt_unknown_key'
  | 'jwt_expired'
  | 'jwt_claim_invalid'
  | 'body_binding_mismatch'
  | 'body_unbound'
  | 'receiver_secret_mismatch';

export type UnavailableReason = 'secrets_unavailable' | 'jwks_unavailable' | 'jwks_refresh_pending';

export type Rejection =
  | { ok: false; kind: 'malformed'; reason: MalformedReason; detail: string }
  | { ok: false; kind: 'unauthorized'; reason: UnauthorizedReason; detail: string }
  | { ok: false; kind: 'unavailable'; reason: UnavailableReason; detail: string };

export interface StaticVerified {
  ok: true;
  scheme: 'static-v1' | 'static-v1a';
  webhookId: string;
  /** Unix seconds, as signed. */
  timestamp: number;
}

export interface JwtVerified {
  ok: true;
  scheme: 'jwt';
  binding: BodyBinding;
  claims: Readonly<Record<string, unknown>>;
  /** The claims as signed: the JSON text of the token's payload (numbers as written). */
  payload?: string;
  /**
   * `claims` binding only: the SHA-256 of the event the claims and the body both carry, in one
   * canonical spelling (sorted keys, exact numbers), so a reformatted body is the same event.
   */
  coveredSha256?: string;
}

export type Verified = StaticVerified | JwtVerified;
export type VerificationResult = Verified | Rejection;

export function malformed(reason: MalformedReason, detail: string): Rejection {
  return { ok: false, kind: 'malformed', reason, detail };
}

export function unauthorized(reason: UnauthorizedReason, detail: string): Rejection {
  return { ok: false, kind: 'unauthorized', reason, detail };
}

export function unavailable(reason: UnavailableReason, detail: string): Rejection {
  return { ok: false, kind: 'unavailable', reason, detail };
}
