/**
 * The HTTP edge: raw bytes in, verification, routing, publish, status code out.
 *
 * 2xx means "Pub/Sub has this message"; every other outcome is non-2xx so Gemini retries:
 * 400 malformed headers, 401 failed verification, 404 other paths, 405 other methods,
 * 408 body not received within the body timeout, 413 too large, 503 (with Retry-After) when
 * Pub/Sub, the signing secrets or the JWKS are unavailable or the instance is saturated.
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from '@google-cloud/functions-framework';
import { routeFor } from './catalog.ts';
import { buildAttributes } from './attributes.ts';
import { takeOverRequestBodies } from './body-takeover.ts';
import { readEnvelope } from './envelope.ts';
import { PublishError, type EventBus, type Published } from './event-bus.ts';
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
  /** How long to wait for a body that is not already buffered before answering 408. */
  bodyTimeoutMs?: number;
}

export type WebhookHandler = (req: Request, res: Response) => Promise<void>;

const RETRY_AFTER_SECONDS = '10';

class BodyTooLarge extends Error {}
class BodyTimeout extends Error {}

/**
 * Reads the raw body, bounded. `req.rawBody` is only there when body-parser ran first anyway
 * (a server the takeover in body-takeover.ts does not touch).
 */
function readBody(req: Request, maxBytes: number, timeoutMs: number): Promise<Buffer> {
  if (req.rawBody) return Promise.resolve(req.rawBody);
  if ((req as { _body?: boolean })._body || req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(new BodyTimeout()), timeoutMs);
    const finish = (error?: Error): void => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (error) {
        req.resume(); // drain and discard the rest rather than hold the socket's buffers
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) finish(new BodyTooLarge());
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish();
    const onError = (error: Error): void => finish(error);
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
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

/**
 * A delivery's id (for messages) and the key under which this instance remembers it as published.
 *
 * Static: the signed webhook id is both. JWT: the id is the webhook-id header when well formed,
 * else the token's `jti`, else the body's hash. That header is not signed: keyed by the id alone, a
 * captured token replayed with the id of a genuine delivery made that genuine delivery look like a
 * duplicate, and it was answered 2xx without being published (found by
 * test/reliability/hostile.test.ts). So the key also carries the body's digest: only the same
 * bytes under the same id count as already published.
 */
function deliveryIdentity(verified: Verified, headerId: string | undefined, body: Buffer): { id: string; dedupeKey: string } {
  if (verified.scheme !== 'jwt') return { id: verified.webhookId, dedupeKey: verified.webhookId };
  const digest = createHash('sha256').update(body).digest('hex');
  const jti = verified.claims['jti'];
  const id =
    headerId !== undefined && isWellFormedWebhookId(headerId)
      ? headerId
      : typeof jti === 'string' && jti !== ''
        ? jti.slice(0, 256)
        : `sha256-${digest}`;
  return { id, dedupeKey: `${id} sha256:${digest}` };
}

export function createWebhookHandler(options: ReceiverOptions): WebhookHandler {
  const now = options.now ?? (() => new Date());
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const recent = new RecentDeliveries<Published>({ maxEntries: 10_000, ttlMs: 10 * 60_000 });
  let inFlight = 0;
  // Whoever serves this handler gets bodies read by readBody, not by the framework's body-parser.
  takeOverRequestBodies();

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
    if (inFlight >= options.maxInFlight) return refuse(503, 'overloaded', 'too many deliveries in flight');

    inFlight++;
    try {
      const detected = detectScheme(req.headersDistinct as DistinctHeaders, options.schemes);
      if ('ok' in detected) return reject(detected);
      fields['scheme'] = detected.scheme;

      let body: Buffer;
      try {
        body = await readBody(req, options.maxBodyBytes, bodyTimeoutMs);
      } catch (error) {
        if (error instanceof BodyTooLarge) return refuse(413, 'body_too_large', 'body too large');
        return refuse(408, error instanceof BodyTimeout ? 'body_timeout' : 'body_read_failed', 'body not received');
      }

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
        fields['webhookId'] = detected.webhookId;
        verified = await verifyDetected(detected, body, options.jwt ? { jwt: options.jwt } : {}, { toleranceSeconds: options.toleranceSeconds }, now());
      }
      if (!verified.ok) return reject(verified);

      // Verified: only now is the body read as JSON, and only to route and describe it.
      const { id, dedupeKey } = deliveryIdentity(verified, detected.scheme === 'jwt' ? detected.webhookId : undefined, body);
      const envelope = readEnvelope(body);
      const route = routeFor(envelope.type);
      Object.assign(fields, { webhookId: id, route, eventType: envelope.type, verificationScheme: verified.scheme });
      if (verified.scheme === 'jwt') fields['bodyBinding'] = verified.binding;

      if (recent.wasPublished(dedupeKey)) {
        fields['outcome'] = 'duplicate';
        return answer(200, { status: 'duplicate', id }, 'INFO', 'webhook duplicate: already published by this instance');
      }
      const attributes = buildAttributes({
        webhookId: id,
        webhookTimestamp: detected.scheme === 'jwt' ? wellFormedTimestamp(detected.timestamp) : detected.headers.timestamp,
        route,
        envelope,
        verified,
        receivedAt: now(),
      });
      const publishStarted = performance.now();
      try {
        const { value: published, shared } = await recent.once(dedupeKey, () => options.bus.publish(route, body, attributes));
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
