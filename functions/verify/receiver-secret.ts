/**
 * Tying a JWT delivery to this deployment. Google's JWKS signs the dynamic-webhook tokens of every
 * Gemini user, and a per-request webhook takes its URIs from the request (`webhook_config.uris`):
 * if a token's audience is the delivery URL, another Gemini user can point a job at this receiver
 * and Google delivers a correctly signed, correctly addressed token with their body. Until Google
 * documents a claim naming the owning project, the receiver secret closes that: the operator puts
 * a secret in their own requests' `webhook_config.user_metadata` (under RECEIVER_SECRET_KEY), and
 * a delivery is accepted only when its *signed* `user_metadata` carries it.
 *
 * Signed means the token's `user_metadata` claim, or the body's `user_metadata` when the body is
 * bound to the token (`claims` or `digest`); a signature-only body is the sender's word alone.
 * Compared in constant time; the key is never published as an attribute (attributes.ts drops it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readEnvelope } from '../envelope.ts';
import { isRecord } from '../records.ts';
import { unauthorized, type BodyBinding, type Rejection } from './result.ts';

/** The `user_metadata` key that carries the receiver secret. */
export const RECEIVER_SECRET_KEY = 'receiver_secret';
/** A receiver secret is at least this long: it must not be guessable. */
export const MIN_RECEIVER_SECRET_LENGTH = 32;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * Undefined when the delivery's signed `user_metadata` carries `secret`; the rejection otherwise.
 * Both sides are hashed first, so the comparison takes the same time whatever was sent.
 */
export function checkReceiverSecret(
  secret: string,
  claims: Readonly<Record<string, unknown>>,
  binding: BodyBinding,
  body: Buffer,
): Rejection | undefined {
  const metadata = Object.hasOwn(claims, 'user_metadata')
    ? claims['user_metadata']
    : binding === 'signature-only'
      ? undefined
      : readEnvelope(body).userMetadata;
  const sent = isRecord(metadata) ? metadata[RECEIVER_SECRET_KEY] : undefined;
  if (typeof sent === 'string' && timingSafeEqual(digest(sent), digest(secret))) return undefined;
  return unauthorized(
    'receiver_secret_mismatch',
    `the signed user_metadata does not carry this receiver's ${RECEIVER_SECRET_KEY}` +
      (binding === 'signature-only' && !Object.hasOwn(claims, 'user_metadata')
        ? ' (the token carries no user_metadata and does not bind the body)'
        : ''),
  );
}
