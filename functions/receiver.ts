/**
 * The HTTP edge: raw bytes in, verification, routing, publish, status code out.
 *
 * 2xx means "Pub/Sub has this message"; every other outcome is non-2xx so Gemini retries:
 * 400 malformed headers, 401 failed verification, 404 other paths, 405 other methods,
 * 408 body not received within its deadline, 413 too large, 503 (with Retry-After) when
 * Pub/Sub, the signing secrets or the JWKS are unavailable, or the instance is saturated (every
 * delivery slot taken, or the memory for incomplete bodies spent).
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from '@google-cloud/functions-framework';
import { routeFor } from './catalog.ts';
import { buildAttributes, minimalAttributes } from './attributes.ts';
import { BodyBudgetExceeded, BodyTimeout, BodyTooLarge, PendingBodies, readBody, type BodyLimits } from './body-reader.ts';
import { readEnvelope } from './envelope.ts';
import { GRPC_INVALID_ARGUMENT, PublishError, type EventBus, type Published } from './event-bus.ts';
import type { Logger, LogFields } from './log.ts';
import { RecentDeliveries } from './recent-deliveries.ts';
import type { StaticKeyProvider } from './signing-keys.ts';
import { detectScheme, verifyDetected, type DistinctHeaders } from './verify/delivery.ts';
import { isWellFormedTimestamp, isWellFormedWebhookId } from './verify/standard-webhooks.ts';
import type { JwtOptions } from './verify/jwt.ts';
import type { Rejection, Scheme, Verified } from './verify/result.ts';

export interface ReceiverOptions {
  bus: EventBus;
  staticKeys: StaticKeyProvider;
  /** Absent when JWT deliveries are disabled. */
  jwt: JwtOptions | undefined;
  schemes: ReadonlySet<Scheme>;
  toleranceSeconds: number;
  maxBodyBytes: number;
  maxInFlight: number;
  log: Logger;
  now?: () => Date;
  /** Time any body gets before 408, however small (default BODY_BASE_TIMEOUT_MS). */
  bodyTimeoutMs?: number;
  /** Bytes of incomplete bodies the instance holds at most (default: pendingBodyBudget(maxBodyBytes)). */
  pendingBodyBudgetBytes?: number;
}

export type WebhookHandler = (req: Request, res: Response) => Promise<void>;

const RETRY_AFTER_SECONDS = '10';

/** Gemini's envelopes are a few KiB and arrive in one go: two seconds is generous for them. */
export const BODY_BASE_TIMEOUT_MS = 2000;
/** Beyond the base deadline, a body must keep arriving at this rate (1 MiB: 16 s more). */
export const MIN_BODY_BYTES_PER_SECOND = 64 * 1024;
/** Incomplete bodies share 16 MiB per instance, and at least two bodies of the largest size. */
export function pendingBodyBudget(maxBodyBytes: number): number {
  return Math.max(16 * 1024 * 1024, 2 * maxBodyBytes);
}

function statusFor(rejection: Rejection): number {
  switch (rejection.kind) {
    case 'malformed':
      return 400;
    case 'unauthorized':
      return 401;
    case 'unavailable':
      return 503;
  }
}

/** Every id of a JWT delivery starts with this; see deliveryIdentity. */
export const JWT_ID_PREFIX = 'jwt:';

/**
 * A delivery's id (the `webhook_id` consumers dedupe on) and the key under which this instance
 * remembers it as published. Both come from signed data only.
 *
 * Static: the signed webhook id is both. JWT: `jwt:<jti>` when the token carries a usable `jti`,
 * else `jwt:body-sha256:<hex>`. The `webhook-id` header of a JWT delivery is signed by nothing:
 * when it chose the id, one captured token was published under any id the sender liked, including
 * the id of an upcoming static delivery (found by test/reliability/hostile.test.ts). The `jwt:`
 * prefix keeps the two schemes apart: a static id is whatever the HMAC-signed `webhook-id` says, so
 * only the holder of the signing secret could make one that starts with `jwt:`.
 *
 * The instance's memory key adds the body's digest: a captured token replayed with another body
 * (a signature-only token binds none) is never mistaken for the delivery already published.
 */
function deliveryIdentity(verified: Verified, body: Buffer): { id: string; dedupeKey: string } {
  if (verified.scheme !== 'jwt') return { id: verified.webhookId, dedupeKey: verified.webhookId };
  const digest = createHash('sha256').update(body).digest('hex');
  const jti = verified.claims['jti'];
  // The same shape as a static id (printable ASCII, no spaces), and room for the prefix.
  const usableJti = typeof jti === 'string' && isWellFormedWebhookId(jti) && jti.length <= 256 - JWT_ID_PREFIX.length;
  const id = usableJti ? `${JWT_ID_PREFIX}${jti}` : `${JWT_ID_PREFIX}body-sha256:${digest}`;
  return { id, dedupeKey: `${id} sha256:${digest}` };
}

/**
 * The attributes for a verified delivery. Building them reads a body only the sender shaped; if
 * that fails in any way we did not foresee, the delivery is still published, with the routing
 * attributes alone.
 */
function attributesFor(input: Parameters<typeof buildAttributes>[0], log: Logger): Record<string, string> {
  try {
    return buildAttributes(input);
  } catch (error) {
    log('ERROR', 'attributes could not be built; publishing with the routing attributes only', { webhookId: input.webhookId, detail: (error as Error)?.message });
    return minimalAttributes(input);
  }
}

export function createWebhookHandler(options: ReceiverOptions): WebhookHandler {
  const now = options.now ?? (() => new Date());
  const bodyLimits: BodyLimits = {
    maxBytes: options.maxBodyBytes,
    baseTimeoutMs: options.bodyTimeoutMs ?? BODY_BASE_TIMEOUT_MS,
    minBytesPerSecond: MIN_BODY_BYTES_PER_SECOND,
  };
  const pending = new PendingBodies(options.pendingBodyBudgetBytes ?? pendingBodyBudget(options.maxBodyBytes));
  const recent = new RecentDeliveries<Published>({ maxEntries: 10_000, ttlMs: 10 * 60_000 });
  let inFlight = 0;

  return async function receiveWebhook(req, res) {
    const started = performance.now();
    const fields: LogFields = {};
    const answer = (status: number, body: Record<string, string>, severity: 'INFO' | 'WARNING' | 'ERROR', message: string): void => {
      if (status === 503) res.set('Retry-After', RETRY_AFTER_SECONDS);
      // Answered before the body fully arrived (refused early, or dripping): close the connection,
      // or Node keeps reading and discarding the rest of the body on it for as long as it trickles.
      if (!req.complete) res.set('Connection', 'close');
      res.status(status).json(body);
      options.log(severity, message, { ...fields, status, latencyMs: Math.round(performance.now() - started) });
    };
    /** Refusals decided before verification: the reason is the error code. */
    const refuse = (status: number, reason: string, message: string, headers: Record<string, string> = {}): void => {
      fields['outcome'] = status === 503 ? 'unavailable' : 'rejected';
      fields['reason'] = reason;
      res.set(headers);
      answer(status, { error: reason }, 'WARNING', `webhook ${fields['outcome']}: ${message}`);
    };
    const reject = (rejection: Rejection): void => {
      const status = statusFor(rejection);
      fields['outcome'] = status === 503 ? 'unavailable' : 'rejected';
      fields['reason'] = rejection.reason;
      fields['detail'] = rejection.detail;
      // Tell a forger nothing beyond "no"; header-shape problems are safe to explain.
      const body: Record<string, string> =
        rejection.kind === 'malformed'
          ? { error: rejection.reason, detail: rejection.detail }
          : rejection.kind === 'unauthorized'
            ? { error: 'verification_failed' }
            : { error: 'unavailable' };
      answer(status, body, status === 503 ? 'ERROR' : 'WARNING', `webhook ${fields['outcome']}: ${rejection.reason}`);
    };

    if (req.method !== 'POST') return refuse(405, 'method_not_allowed', `${req.method} is not allowed`, { Allow: 'POST' });
    if (req.path !== '/') return refuse(404, 'not_found', 'deliveries go to /');
    const declaredLength = Number(req.headers['content-length'] ?? 0);
    if (declaredLength > options.maxBodyBytes || (req.rawBody?.length ?? 0) > options.maxBodyBytes) {
      return refuse(413, 'body_too_large', 'body too large');
    }
    const detected = detectScheme(req.headersDistinct as DistinctHeaders, options.schemes);
    if ('ok' in detected) return reject(detected);
    fields['scheme'] = detected.scheme;

    // The body is read before a delivery slot is taken: a sender that never finishes its body holds
    // no slot, only (briefly) a connection and the bytes it really sent.
    let body: Buffer;
    try {
      body = await readBody(req, bodyLimits, pending);
    } catch (error) {
      if (error instanceof BodyTooLarge) return refuse(413, 'body_too_large', 'body too large');
      if (error instanceof BodyBudgetExceeded) return refuse(503, 'overloaded', 'too many bytes of incomplete bodies held');
      return refuse(408, error instanceof BodyTimeout ? 'body_timeout' : 'body_read_failed', 'body not received');
    }
    if (inFlight >= options.maxInFlight) return refuse(503, 'overloaded', 'too many deliveries in flight');

    inFlight++;
    try {
      let verified: Verified | Rejection;
      if (detected.scheme === 'static') {
        fields['webhookId'] = detected.headers.id;
        let keys;
        try {
          keys = await options.staticKeys.keys();
        } catch (error) {
          return reject({ ok: false, kind: 'unavailable', reason: 'secrets_unavailable', detail: (error as Error).message });
        }
        verified = await verifyDetected(detected, body, { static: keys }, { toleranceSeconds: options.toleranceSeconds }, now());
        if (!verified.ok && verified.reason === 'signature_mismatch') options.staticKeys.signatureMismatch();
      } else {
        // Unsigned: logged to help match Gemini's delivery records, never used as the id.
        if (detected.webhookId !== undefined && isWellFormedWebhookId(detected.webhookId)) fields['unsignedWebhookId'] = detected.webhookId;
        verified = await verifyDetected(detected, body, options.jwt ? { jwt: options.jwt } : {}, { toleranceSeconds: options.toleranceSeconds }, now());
      }
      if (!verified.ok) return reject(verified);

      // Verified: only now is the body read as JSON, and only to route and describe it.
      const { id, dedupeKey } = deliveryIdentity(verified, body);
      const envelope = readEnvelope(body);
      const route = routeFor(envelope.type);
      Object.assign(fields, { webhookId: id, route, eventType: envelope.type, verificationScheme: verified.scheme });
      if (verified.scheme === 'jwt') fields['bodyBinding'] = verified.binding;

      if (recent.wasPublished(dedupeKey)) {
        fields['outcome'] = 'duplicate';
        return answer(200, { status: 'duplicate', id }, 'INFO', 'webhook duplicate: already published by this instance');
      }
      const receivedAt = now();
      const attributes = attributesFor(
        {
          webhookId: id,
          webhookTimestamp: detected.scheme === 'jwt' ? wellFormedTimestamp(detected.timestamp) : detected.headers.timestamp,
          route,
          envelope,
          verified,
          receivedAt,
        },
        options.log,
      );
      // Pub/Sub refusing the message itself (INVALID_ARGUMENT, after the bus retried it alone) is
      // about its attributes, never its bytes: a verified delivery is still published, with the
      // routing attributes only.
      const publish = async (): Promise<Published> => {
        try {
          return await options.bus.publish(route, body, attributes);
        } catch (error) {
          if (!(error instanceof PublishError) || error.code !== GRPC_INVALID_ARGUMENT) throw error;
          fields['attributesIncomplete'] = true;
          return await options.bus.publish(route, body, minimalAttributes({ webhookId: id, route, verified, receivedAt }));
        }
      };
      const publishStarted = performance.now();
      try {
        const { value: published, shared } = await recent.once(dedupeKey, publish);
        fields['publishLatencyMs'] = Math.round(performance.now() - publishStarted);
        fields['outcome'] = shared ? 'duplicate' : 'published';
        fields['topic'] = published.topic;
        fields['messageId'] = published.messageId;
        return answer(200, { status: shared ? 'duplicate' : 'published', id, messageId: published.messageId }, 'INFO', `webhook ${fields['outcome']}`);
      } catch (error) {
        fields['publishLatencyMs'] = Math.round(performance.now() - publishStarted);
        fields['outcome'] = 'unavailable';
        fields['reason'] = error instanceof PublishError && error.timedOut ? 'pubsub_timeout' : 'pubsub_unavailable';
        fields['detail'] = (error as Error).message;
        if (error instanceof PublishError && error.code !== undefined) fields['grpcCode'] = error.code;
        return answer(503, { error: 'unavailable' }, 'ERROR', `webhook not published: ${fields['reason']}`);
      }
    } catch (error) {
      // A bug of ours: still never a 2xx, and the sender will retry.
      fields['outcome'] = 'error';
      fields['reason'] = 'internal_error';
      fields['detail'] = (error as Error)?.message;
      return answer(500, { error: 'internal_error' }, 'ERROR', 'webhook failed: internal error');
    } finally {
      inFlight--;
    }
  };
}

/** A JWT delivery's webhook-timestamp is unsigned: pass it on only when it is well formed. */
function wellFormedTimestamp(timestamp: string | undefined): string | undefined {
  return timestamp !== undefined && isWellFormedTimestamp(timestamp) ? timestamp : undefined;
}
