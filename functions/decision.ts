/**
 * What the receiver decides, as pure functions of what it was given: the request line and headers,
 * the raw body, the keys, the clock. Each returns an Outcome (the answer, and what to log) or the
 * next thing to do; functions/receiver.ts performs the I/O between them (reading the body, loading
 * keys, publishing) and nothing else.
 *
 * The status codes, all of them decided here:
 *   200 published, or already published (`duplicate`): Pub/Sub has the message;
 *   400 malformed headers; 401 verification failed; 404 other paths; 405 other methods;
 *   408 body not received within its deadline; 413 body too large;
 *   500 a fault of ours;
 *   503 + Retry-After: the signing secrets, the JWKS or Pub/Sub are unavailable, or the instance is
 *   saturated (every delivery slot taken, or the memory for incomplete bodies spent).
 * Anything but 2xx makes Gemini retry, so nothing is answered 2xx before Pub/Sub has it.
 */
import { createHash } from 'node:crypto';
import { buildAttributes, minimalAttributes, type AttributeInput } from './attributes.ts';
import { routeFor, type RouteKey } from './catalog.ts';
import { readEnvelope } from './envelope.ts';
import { PublishError, type Published } from './event-bus.ts';
import type { LogFields, Severity } from './log.ts';
import {
  detectScheme,
  verifyDetected,
  type Detected,
  type DistinctHeaders,
  type VerificationKeys,
} from './verify/delivery.ts';
import type { Rejection, Scheme, Verified } from './verify/result.ts';
import { isWellFormedTimestamp, isWellFormedWebhookId, MAX_WEBHOOK_ID_LENGTH } from './verify/standard-webhooks.ts';

export interface Outcome {
  status: number;
  /** The JSON answer. */
  body: Record<string, string>;
  /** Response headers beyond the body's (Allow, Retry-After). */
  headers: Record<string, string>;
  severity: Severity;
  message: string;
  fields: LogFields;
}

/** Seconds a sender is asked to wait after a 503. */
const RETRY_AFTER_SECONDS = '10';

function outcome(
  status: number,
  body: Record<string, string>,
  severity: Severity,
  message: string,
  fields: LogFields,
  headers: Record<string, string> = {},
): Outcome {
  return {
    status,
    body,
    headers: status === 503 ? { ...headers, 'Retry-After': RETRY_AFTER_SECONDS } : headers,
    severity,
    message,
    fields,
  };
}

/** A refusal decided before verification: the reason is the error code. */
function refusal(
  status: number,
  reason: string,
  message: string,
  fields: LogFields = {},
  headers: Record<string, string> = {},
): Outcome {
  const result = status === 503 ? 'unavailable' : 'rejected';
  return outcome(
    status,
    { error: reason },
    'WARNING',
    `webhook ${result}: ${message}`,
    { ...fields, outcome: result, reason },
    headers,
  );
}

const STATUS_FOR: Record<Rejection['kind'], number> = { malformed: 400, unauthorized: 401, unavailable: 503 };

/**
 * A verifier's verdict as an answer. It tells a forger nothing beyond "no"; header-shape problems are
 * safe to explain.
 */
export function rejected(rejection: Rejection, fields: LogFields = {}): Outcome {
  const status = STATUS_FOR[rejection.kind];
  const result = status === 503 ? 'unavailable' : 'rejected';
  const body: Record<string, string> =
    rejection.kind === 'malformed'
      ? { error: rejection.reason, detail: rejection.detail }
      : rejection.kind === 'unauthorized'
        ? { error: 'verification_failed' }
        : { error: 'unavailable' };
  return outcome(status, body, status === 503 ? 'ERROR' : 'WARNING', `webhook ${result}: ${rejection.reason}`, {
    ...fields,
    outcome: result,
    reason: rejection.reason,
    detail: rejection.detail,
  });
}

export interface RequestHead {
  method: string;
  path: string;
  headers: DistinctHeaders;
  /** Content-Length as sent (0 when absent). */
  declaredLength: number;
}

export interface ScreenSettings {
  maxBodyBytes: number;
  schemes: ReadonlySet<Scheme>;
}

/** The first stage, on the request head alone: refused at once, or the scheme to verify with. */
export function screenRequest(head: RequestHead, settings: ScreenSettings): Outcome | Detected {
  if (head.method !== 'POST')
    return refusal(405, 'method_not_allowed', `${head.method} is not allowed`, {}, { Allow: 'POST' });
  if (head.path !== '/') return refusal(404, 'not_found', 'deliveries go to /');
  if (head.declaredLength > settings.maxBodyBytes) return refusal(413, 'body_too_large', 'body too large');
  const detected = detectScheme(head.headers, settings.schemes);
  return 'ok' in detected ? rejected(detected) : detected;
}

/** Why a body could not be read, as the body reader reports it. */
export type BodyFailure = 'too_large' | 'timeout' | 'over_budget' | 'aborted';

export function bodyNotRead(failure: BodyFailure, fields: LogFields): Outcome {
  switch (failure) {
    case 'too_large':
      return refusal(413, 'body_too_large', 'body too large', fields);
    case 'over_budget':
      return refusal(503, 'overloaded', 'too many bytes of incomplete bodies held', fields);
    case 'timeout':
      return refusal(408, 'body_timeout', 'body not received', fields);
    case 'aborted':
      return refusal(408, 'body_read_failed', 'body not received', fields);
  }
}

export function overloaded(fields: LogFields): Outcome {
  return refusal(503, 'overloaded', 'too many deliveries in flight', fields);
}

export function internalError(error: unknown, fields: LogFields): Outcome {
  return outcome(500, { error: 'internal_error' }, 'ERROR', 'webhook failed: internal error', {
    ...fields,
    outcome: 'error',
    reason: 'internal_error',
    detail: (error as Error)?.message ?? String(error),
  });
}

/** The log fields known once the scheme is: the id the headers claim, or the unsigned one a JWT came with. */
export function detectedFields(detected: Detected): LogFields {
  if (detected.scheme === 'static') return { scheme: 'static', webhookId: detected.headers.id };
  // Unsigned: logged to help match Gemini's delivery records, never used as the id.
  const unsigned =
    detected.webhookId !== undefined && isWellFormedWebhookId(detected.webhookId) ? detected.webhookId : undefined;
  return { scheme: 'jwt', unsignedWebhookId: unsigned };
}

/** Every id of a JWT delivery starts with this; see deliveryIdentity. */
const JWT_ID_PREFIX = 'jwt:';

/**
 * A delivery's id (the `webhook_id` consumers dedupe on) and the key under which this instance
 * remembers it as published. Both come from signed data only.
 *
 * Static: the signed webhook id is both. JWT: `jwt:<jti>` when the token carries a usable `jti`;
 * else, when the claims carry the event (`claims` binding), `jwt:claims-sha256:<hex>`, the digest of
 * that event in one canonical spelling, so a body reformatted under one token (whitespace, key
 * order, escapes) is the same delivery, and so is a retry with a fresh token; else
 * `jwt:body-sha256:<hex>`. The `webhook-id` header of a JWT delivery is signed by nothing: when it
 * chose the id, one captured token was published under any id the sender liked, including the id
 * of an upcoming static delivery (test/reliability/hostile.test.ts). The `jwt:` prefix keeps the
 * two schemes apart: a static id is whatever the HMAC-signed `webhook-id` says, so only the holder
 * of the signing secret could make one that starts with `jwt:`.
 *
 * The instance's memory key adds the digest of what was bound: a captured token replayed with
 * another body (a signature-only token binds none) is never mistaken for the delivery already
 * published, and a claims-bound body reformatted is.
 */
export function deliveryIdentity(verified: Verified, body: Buffer): { id: string; dedupeKey: string } {
  if (verified.scheme !== 'jwt') return { id: verified.webhookId, dedupeKey: verified.webhookId };
  const covered = verified.binding === 'claims' ? verified.coveredSha256 : undefined;
  const digest = covered ?? createHash('sha256').update(body).digest('hex');
  const kind = covered === undefined ? 'body-sha256' : 'claims-sha256';
  const jti = verified.claims['jti'];
  // The same shape as a static id (printable ASCII, no spaces), and room for the prefix.
  const usableJti =
    typeof jti === 'string' && isWellFormedWebhookId(jti) && jti.length <= MAX_WEBHOOK_ID_LENGTH - JWT_ID_PREFIX.length;
  const id = usableJti ? `${JWT_ID_PREFIX}${jti}` : `${JWT_ID_PREFIX}${kind}:${digest}`;
  return { id, dedupeKey: `${id} ${kind}:${digest}` };
}

/**
 * The attributes for a verified delivery. Building them reads a body only the sender shaped; if
 * that fails in any way not foreseen, the delivery is still published, with the routing
 * attributes alone (and `attributesIncomplete` in the log).
 */
export function attributesOrMinimal(input: AttributeInput): {
  attributes: Record<string, string>;
  incomplete: string | undefined;
} {
  try {
    return { attributes: buildAttributes(input), incomplete: undefined };
  } catch (error) {
    return { attributes: minimalAttributes(input), incomplete: (error as Error)?.message ?? String(error) };
  }
}

/** A verified delivery, ready to publish. */
export interface Publication {
  route: RouteKey;
  data: Buffer;
  attributes: Record<string, string>;
  /** The routing attributes alone: published instead when Pub/Sub would refuse `attributes`. */
  minimalAttributes: Record<string, string>;
  id: string;
  dedupeKey: string;
  fields: LogFields;
}

export interface DeliverySettings {
  toleranceSeconds: number;
}

/** A JWT delivery's webhook-timestamp is unsigned: passed on only when it is well formed. */
function wellFormedTimestamp(timestamp: string | undefined): string | undefined {
  return timestamp !== undefined && isWellFormedTimestamp(timestamp) ? timestamp : undefined;
}

/**
 * Verifies the delivery with the keys given, and on success says what to publish. Only after
 * verification is the body read as JSON, and only to route and describe it; it is published
 * byte for byte.
 */
export async function decideDelivery(
  detected: Detected,
  body: Buffer,
  keys: VerificationKeys,
  settings: DeliverySettings,
  now: Date,
  fields: LogFields,
): Promise<Outcome | Publication> {
  const verified = await verifyDetected(detected, body, keys, settings, now);
  if (!verified.ok) return rejected(verified, fields);

  const { id, dedupeKey } = deliveryIdentity(verified, body);
  const envelope = readEnvelope(body);
  const route = routeFor(envelope.type);
  const input: AttributeInput = {
    webhookId: id,
    webhookTimestamp: detected.scheme === 'jwt' ? wellFormedTimestamp(detected.timestamp) : detected.headers.timestamp,
    route,
    envelope,
    verified,
    receivedAt: now,
  };
  const { attributes, incomplete } = attributesOrMinimal(input);
  return {
    route,
    data: body,
    attributes,
    minimalAttributes: minimalAttributes(input),
    id,
    dedupeKey,
    fields: {
      ...fields,
      webhookId: id,
      route,
      eventType: envelope.type,
      verificationScheme: verified.scheme,
      bodyBinding: verified.scheme === 'jwt' ? verified.binding : undefined,
      attributesIncomplete: incomplete,
    },
  };
}

export function isPublication(value: Outcome | Publication): value is Publication {
  return 'dedupeKey' in value;
}

/** This instance published the delivery a moment ago: answered 2xx, not published again. */
export function alreadyPublished(publication: Publication): Outcome {
  return outcome(
    200,
    { status: 'duplicate', id: publication.id },
    'INFO',
    'webhook duplicate: already published by this instance',
    {
      ...publication.fields,
      outcome: 'duplicate',
    },
  );
}

/** How the publish went, for the log. */
export interface PublishReport {
  latencyMs: number;
  /** Why Pub/Sub refused the full attributes, when it did and the routing ones were published instead. */
  attributesRefused?: string | undefined;
}

/** Pub/Sub has it; `shared` when a concurrent copy of the same delivery did the publishing. */
export function published(
  publication: Publication,
  result: Published,
  shared: boolean,
  report: PublishReport,
): Outcome {
  const status = shared ? 'duplicate' : 'published';
  return outcome(200, { status, id: publication.id, messageId: result.messageId }, 'INFO', `webhook ${status}`, {
    ...publication.fields,
    publishLatencyMs: report.latencyMs,
    // Either reason the full attributes were not published: they could not be built (already in
    // the publication's fields), or Pub/Sub refused them.
    attributesIncomplete: report.attributesRefused ?? publication.fields['attributesIncomplete'],
    outcome: status,
    topic: result.topic,
    messageId: result.messageId,
  });
}

export function notPublished(publication: Publication, error: unknown, report: PublishReport): Outcome {
  const reason = error instanceof PublishError && error.timedOut ? 'pubsub_timeout' : 'pubsub_unavailable';
  return outcome(503, { error: 'unavailable' }, 'ERROR', `webhook not published: ${reason}`, {
    ...publication.fields,
    publishLatencyMs: report.latencyMs,
    outcome: 'unavailable',
    reason,
    detail: (error as Error)?.message ?? String(error),
    grpcCode: error instanceof PublishError ? error.code : undefined,
  });
}
