/**
 * The HTTP edge: a short sequence of steps around the pure decisions in decision.ts. Each step
 * either ends the request with an Outcome or hands the next step what it needs:
 *
 *   screen the request head -> read the body -> take a delivery slot -> load the keys ->
 *   decide (verify, identify, route, describe) -> publish once -> respond and log.
 *
 * The status codes and why each is chosen are in decision.ts.
 */
import type { Request, Response } from '@google-cloud/functions-framework';
import {
  BodyBudgetExceeded,
  BodyTimeout,
  BodyTooLarge,
  PendingBodies,
  readBody,
  type BodyLimits,
} from './body-reader.ts';
import {
  alreadyPublished,
  bodyNotRead,
  decideDelivery,
  detectedFields,
  internalError,
  isPublication,
  notPublished,
  overloaded,
  published,
  rejected,
  screenRequest,
  type BodyFailure,
  type Outcome,
  type Publication,
} from './decision.ts';
import { PublishError, type EventBus, type Published } from './event-bus.ts';
import { Status } from './grpc-status.ts';
import type { LogFields, Logger } from './log.ts';
import { RecentDeliveries } from './recent-deliveries.ts';
import type { StaticKeyProvider } from './signing-keys.ts';
import type { Detected, VerificationKeys } from './verify/delivery.ts';
import { issuedAtOf, JwksRefreshPendingError, JwksUnavailableError, kidOf, type JwksCache } from './verify/jwks.ts';
import type { JwtOptions } from './verify/jwt.ts';
import { unavailable, type Scheme } from './verify/result.ts';

/** How JWT deliveries are verified: the JWKS to take keys from, and the checks on the token. */
export interface JwtSettings extends Omit<JwtOptions, 'keys'> {
  jwks: JwksCache;
}

export interface ReceiverOptions {
  bus: EventBus;
  staticKeys: StaticKeyProvider;
  /** Absent when JWT deliveries are disabled. */
  jwt: JwtSettings | undefined;
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

/** Gemini's envelopes are a few KiB and arrive in one go: two seconds is generous for them. */
const BODY_BASE_TIMEOUT_MS = 2000;
/** Beyond the base deadline, a body must keep arriving at this rate (1 MiB: 16 s more). */
const MIN_BODY_BYTES_PER_SECOND = 64 * 1024;
/** No byte of a body for this long ends it, however much time its bytes so far have earned. */
const BODY_IDLE_TIMEOUT_MS = 2000;
/** Incomplete bodies share 16 MiB per instance, and at least two bodies of the largest size. */
function pendingBodyBudget(maxBodyBytes: number): number {
  return Math.max(16 * 1024 * 1024, 2 * maxBodyBytes);
}

function bodyFailure(error: unknown): BodyFailure {
  if (error instanceof BodyTooLarge) return 'too_large';
  if (error instanceof BodyBudgetExceeded) return 'over_budget';
  if (error instanceof BodyTimeout) return 'timeout';
  return 'aborted';
}

/** Sends the outcome (unless something already answered) and logs it with its latency. */
function respond(req: Request, res: Response, result: Outcome, log: Logger, started: number): void {
  const fields: LogFields = {
    ...result.fields,
    status: result.status,
    latencyMs: Math.round(performance.now() - started),
  };
  if (res.headersSent) {
    // Only the framework answers before us: its handler for an error that escaped a request.
    log('ERROR', `${result.message} (not sent: the request was already answered)`, fields);
    return;
  }
  // Written directly rather than with Express's `res.json`, which also computes an ETag (a SHA-1 of
  // the body) and checks freshness, for an answer no sender caches: 0.07-0.13 ms of CPU per request
  // in paired runs on the bench machine (bench/README.md, "Levers tried").
  const payload = JSON.stringify(result.body);
  res.writeHead(result.status, {
    ...result.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    // Answered before the body fully arrived (refused early, or dripping): close the connection,
    // or Node keeps reading and discarding the rest of the body on it for as long as it trickles.
    ...(!req.complete && { Connection: 'close' }),
  });
  res.end(payload);
  log(result.severity, result.message, fields);
}

export function createWebhookHandler(options: ReceiverOptions): WebhookHandler {
  const now = options.now ?? (() => new Date());
  const bodyLimits: BodyLimits = {
    maxBytes: options.maxBodyBytes,
    baseTimeoutMs: options.bodyTimeoutMs ?? BODY_BASE_TIMEOUT_MS,
    minBytesPerSecond: MIN_BODY_BYTES_PER_SECOND,
    // A shorter base deadline (tests set one) shortens the idle limit with it.
    idleTimeoutMs: Math.min(BODY_IDLE_TIMEOUT_MS, options.bodyTimeoutMs ?? BODY_IDLE_TIMEOUT_MS),
  };
  const pending = new PendingBodies(options.pendingBodyBudgetBytes ?? pendingBodyBudget(options.maxBodyBytes));
  const recent = new RecentDeliveries<Published>({ maxEntries: 10_000, ttlMs: 10 * 60_000 });
  let inFlight = 0;

  /** The keys `detected` verifies with: loading them is I/O (Secret Manager, the JWKS), and may fail with 503. */
  async function loadKeys(detected: Detected): Promise<VerificationKeys | Outcome> {
    if (detected.scheme === 'static') {
      try {
        return { static: await options.staticKeys.keys() };
      } catch (error) {
        return rejected(unavailable('secrets_unavailable', (error as Error).message), detectedFields(detected));
      }
    }
    if (!options.jwt) return {}; // verification refuses it: JWT deliveries are disabled
    const { jwks, ...checks } = options.jwt;
    try {
      return { jwt: { ...checks, keys: await jwks.keySetFor(kidOf(detected.token), issuedAtOf(detected.token)) } };
    } catch (error) {
      if (!(error instanceof JwksUnavailableError)) throw error;
      const reason = error instanceof JwksRefreshPendingError ? 'jwks_refresh_pending' : 'jwks_unavailable';
      return rejected(unavailable(reason, error.message), detectedFields(detected));
    }
  }

  /** Publishes once per delivery on this instance; refused attributes fall back to the routing ones. */
  async function publishOnce(publication: Publication): Promise<Outcome> {
    const started = performance.now();
    let refused: string | undefined;
    const publish = async (): Promise<Published> => {
      try {
        return await options.bus.publish(publication.route, publication.data, publication.attributes);
      } catch (error) {
        // Pub/Sub refusing the message itself is about its attributes, never its bytes.
        if (!(error instanceof PublishError) || error.code !== Status.INVALID_ARGUMENT) throw error;
        refused = error.message;
        return await options.bus.publish(publication.route, publication.data, publication.minimalAttributes);
      }
    };
    try {
      const { value, shared } = await recent.once(publication.dedupeKey, publish);
      return published(publication, value, shared, {
        latencyMs: Math.round(performance.now() - started),
        attributesRefused: refused,
      });
    } catch (error) {
      return notPublished(publication, error, { latencyMs: Math.round(performance.now() - started) });
    }
  }

  /** Verify and publish a complete body, in one of the instance's delivery slots. */
  async function deliver(detected: Detected, body: Buffer): Promise<Outcome> {
    const keys = await loadKeys(detected);
    if ('status' in keys) return keys;
    const decision = await decideDelivery(
      detected,
      body,
      keys,
      { toleranceSeconds: options.toleranceSeconds },
      now(),
      detectedFields(detected),
    );
    if (!isPublication(decision)) {
      // A secret may have been rotated: let the source look again (rate-limited).
      if (decision.fields['reason'] === 'signature_mismatch') options.staticKeys.signatureMismatch();
      return decision;
    }
    if (recent.wasPublished(decision.dedupeKey)) return alreadyPublished(decision);
    return publishOnce(decision);
  }

  async function handle(req: Request): Promise<Outcome> {
    const screened = screenRequest(
      {
        method: req.method,
        path: req.path,
        headers: req.headersDistinct,
        declaredLength: Number(req.headers['content-length'] ?? 0),
      },
      { maxBodyBytes: options.maxBodyBytes, schemes: options.schemes },
    );
    if ('status' in screened) return screened;
    if ((req as { rawBody?: Buffer }).rawBody !== undefined) {
      // Loud, every time: the body was bounded by nothing, and the deliveries the parsers refuse
      // (a validly signed body that is not JSON, an unknown charset) never reach this line.
      options.log(
        'ERROR',
        "request body already read by the Functions Framework's parsers: the body takeover does not cover this " +
          'server, so bodies are unbounded and signed deliveries the parsers refuse are lost; serve ' +
          'functions/index.ts with the framework, or call takeOverRequestBodies for your server (docs/architecture.md)',
        { ...detectedFields(screened), reason: 'body_takeover_missing' },
      );
    }
    // The body is read before a delivery slot is taken: a sender that never finishes its body
    // holds no slot, only (briefly) a connection and the bytes it really sent.
    let body: Buffer;
    try {
      body = await readBody(req, bodyLimits, pending);
    } catch (error) {
      return bodyNotRead(bodyFailure(error), detectedFields(screened));
    }
    if (inFlight >= options.maxInFlight) return overloaded(detectedFields(screened));
    inFlight++;
    try {
      return await deliver(screened, body);
    } finally {
      inFlight--;
    }
  }

  return async function receiveWebhook(req, res) {
    const started = performance.now();
    let result: Outcome;
    try {
      result = await handle(req);
    } catch (error) {
      // A bug of ours: still never a 2xx, and the sender will retry.
      result = internalError(error, {});
    }
    respond(req, res, result, options.log, started);
  };
}
