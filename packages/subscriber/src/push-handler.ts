/**
 * `createPushHandler`: the HTTP handler of a consumer behind a Pub/Sub push subscription (Cloud
 * Run, Cloud Run functions, any Node server).
 *
 * 1. Authenticates the push: `Authorization: Bearer <OIDC token>` signed by Google (RS256, keys
 *    from Google's JWKS), issuer accounts.google.com, the configured audience, and an `email`
 *    claim equal to the push service account with `email_verified` true.
 * 2. Decodes the body with decodeGeminiEvent and calls the user's handler.
 * 3. Answers so Pub/Sub does the right thing: 204 acks; any non-2xx is a nack that Pub/Sub
 *    redelivers with backoff and, after the subscription's max delivery attempts, moves to the
 *    dead-letter topic.
 *
 * A message that can never decode answers 400 by default (`onMalformed: 'nack'`): it is redelivered
 * up to the max delivery attempts and then lands in the dead-letter topic, where `gemini-webhooks
 * dlq list` shows it and nothing is lost; acking it would drop it for good. Every subscription
 * this project creates has a dead-letter policy, so the retries are bounded. On a subscription
 * without one, pass `onMalformed: 'ack'` (logged, then dropped) to avoid redelivery for 7 days.
 *
 * Works as `(req, res)` for node:http, Express and the Functions Framework: a body already parsed
 * by a framework (`req.body`, or `req.rawBody`) is used, otherwise the request stream is read.
 *
 * Local development: `gemini-webhooks listen --forward-to <url>` delivers live events in the same
 * push format, signed with a development secret instead of by Google (subscriber/listen-token.ts).
 * The handler accepts those requests only when given `development: { listenSecret }`, and says so
 * once in its log; without that option it behaves exactly as above and refuses them (401).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { createJwksCache, issuedAtOf, JwksUnavailableError } from '../../../functions/verify/jwks.ts';
import { decodeGeminiEvent, GeminiEventDecodeError } from './decode.ts';
import { LISTEN_SECRET_ENV, listenSecretProblem, looksLikeListenToken, verifyListenToken } from './listen-token.ts';
import type { GeminiEvent } from './types.ts';

export const GOOGLE_JWKS_URL = 'https://www.googleapis.com/oauth2/v3/certs';
/** Google signs ID tokens with either spelling of its issuer. */
export const GOOGLE_ISSUERS = ['https://accounts.google.com', 'accounts.google.com'];

export type HandlerOutcome = 'ack' | 'nack' | void;

export interface PushHandlerContext {
  request: IncomingMessage;
}

export interface PushHandlerOptions {
  /** The token's `aud`: the push subscription's audience (Pub/Sub uses the endpoint URL when none is set). */
  audience: string | readonly string[];
  /** The service account the push subscription authenticates as. */
  serviceAccountEmail: string;
  /** Resolve (or return 'ack') to acknowledge; throw or return 'nack' to have Pub/Sub retry. */
  handler: (event: GeminiEvent, context: PushHandlerContext) => HandlerOutcome | Promise<HandlerOutcome>;
  /**
   * Key lookup for the token; default Google's JWKS at `jwksUrl`, cached with the receiver's policy
   * (see `googleKeys`). Tests pass a local set.
   */
  jwks?: JWTVerifyGetKey;
  /** Where the default key lookup fetches Google's keys (default GOOGLE_JWKS_URL). */
  jwksUrl?: string | URL;
  /** What to answer for a message that can never decode (default 'nack': dead-letter it). */
  onMalformed?: 'nack' | 'ack';
  /** One structured log entry per failure (default: a JSON line on stderr, Cloud Logging's format). */
  log?: (entry: Record<string, unknown>) => void;
  /** Largest accepted body (default 16 MiB: a 10 MB message, base64-encoded, plus the wrapper). */
  maxBodyBytes?: number;
  /**
   * Local development only: also accept the requests `gemini-webhooks listen` forwards, signed with
   * this secret (it prints one, or takes it from GEMINI_WEBHOOKS_LISTEN_SECRET). Google-signed
   * pushes keep working beside them. Leave it unset in production, e.g.
   * `development: process.env.GEMINI_WEBHOOKS_LISTEN_SECRET ? { listenSecret: ... } : undefined`.
   */
  development?: PushHandlerDevelopmentOptions;
}

export interface PushHandlerDevelopmentOptions {
  /** The secret shared with `gemini-webhooks listen` (at least 32 characters). */
  listenSecret: string;
}

type FrameworkRequest = IncomingMessage & { body?: unknown; rawBody?: Buffer };

class BodyError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function readBody(req: FrameworkRequest, maxBytes: number): Promise<unknown> {
  if (Buffer.isBuffer(req.rawBody)) return parseJson(req.rawBody);
  if (req.body !== undefined && req.body !== null) {
    if (Buffer.isBuffer(req.body) || typeof req.body === 'string') return parseJson(Buffer.from(req.body));
    return req.body;
  }
  if (req.readableEnded) throw new BodyError(400, 'The request body was already consumed and not parsed.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new BodyError(413, `The request body is larger than ${maxBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return parseJson(Buffer.concat(chunks));
}

/** A key fetch must leave Pub/Sub's push deadline room for the handler (10 s by default). */
const JWKS_FETCH_TIMEOUT_MS = 3000;

/**
 * Google's keys behind the receiver's JWKS cache (functions/verify/jwks.ts): at most one fetch
 * attempt per 30 s, failures included, keys already cached keep verifying, and no usable key set
 * is JwksUnavailableError (503, Pub/Sub redelivers). jose's remote key set refetched on every
 * unknown `kid` while the JWKS failed: 20 tokens, 20 fetches (issue 20).
 */
function googleKeys(url: URL): JWTVerifyGetKey {
  const cache = createJwksCache({ url, fetchTimeoutMs: JWKS_FETCH_TIMEOUT_MS });
  return async (header, token) => {
    // jwtVerify hands over the compact token's segments; its iat decides 503 over 401 for a new kid.
    const compact =
      typeof token.payload === 'string' ? `${token.protected ?? ''}.${token.payload}.${token.signature}` : '';
    const keys = await cache.keySetFor(header.kid, issuedAtOf(compact));
    return keys(header, token);
  };
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new GeminiEventDecodeError('not_a_message', 'The push request body is not JSON.');
  }
}

function answer(res: ServerResponse, status: number, text = ''): void {
  if (res.headersSent) return;
  res.statusCode = status;
  if (text !== '') res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(text);
}

const defaultLog = (entry: Record<string, unknown>): void => {
  process.stderr.write(`${JSON.stringify({ component: 'gemini-webhooks-consumer', ...entry })}\n`);
};

/** Checks the development option and announces, once and loudly, that it is on. */
function developmentSecret(
  development: PushHandlerDevelopmentOptions,
  log: (entry: Record<string, unknown>) => void,
): string {
  const secret = development.listenSecret;
  const problem = typeof secret === 'string' ? listenSecretProblem(secret) : 'must be a string';
  if (problem !== undefined) throw new TypeError(`createPushHandler: development.listenSecret ${problem}.`);
  log({
    severity: 'WARNING',
    message:
      'createPushHandler: DEVELOPMENT MODE: requests signed by `gemini-webhooks listen` ' +
      'with the listen secret are accepted besides Google-signed pushes. ' +
      `Never set \`development\` (or ${LISTEN_SECRET_ENV}) in production.`,
  });
  return secret;
}

export function createPushHandler(
  options: PushHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (!options.serviceAccountEmail) throw new TypeError('createPushHandler: serviceAccountEmail is required.');
  const audience = typeof options.audience === 'string' ? [options.audience] : [...options.audience];
  if (audience.length === 0 || audience.some((entry) => !entry))
    throw new TypeError('createPushHandler: audience is required.');
  const jwks = options.jwks ?? googleKeys(new URL(options.jwksUrl ?? GOOGLE_JWKS_URL));
  const log = options.log ?? defaultLog;
  const maxBodyBytes = options.maxBodyBytes ?? 16 * 1024 * 1024;
  const malformedStatus = options.onMalformed === 'ack' ? 204 : 400;
  const listenSecret = options.development === undefined ? undefined : developmentSecret(options.development, log);

  async function authenticate(req: IncomingMessage): Promise<{ status: number; reason: string } | undefined> {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return { status: 401, reason: 'missing_bearer_token' };
    // Reached only with the development option: without it a listen token meets the Google checks
    // below and fails them (RS256 only), as any other foreign token does.
    if (listenSecret !== undefined && looksLikeListenToken(match[1]!)) {
      try {
        await verifyListenToken(match[1]!, listenSecret);
        return undefined;
      } catch (error) {
        return { status: 401, reason: `invalid_listen_token:${(error as errors.JOSEError).code ?? 'unknown'}` };
      }
    }
    try {
      const { payload } = await jwtVerify(match[1]!, jwks, {
        issuer: GOOGLE_ISSUERS,
        audience,
        algorithms: ['RS256'],
        clockTolerance: 30,
      });
      if (payload['email'] !== options.serviceAccountEmail) return { status: 403, reason: 'wrong_service_account' };
      if (payload['email_verified'] !== true) return { status: 403, reason: 'email_not_verified' };
      return undefined;
    } catch (error) {
      // Keys that cannot be fetched are our problem, not the token's: let Pub/Sub retry.
      const keysFailed =
        error instanceof JwksUnavailableError ||
        error instanceof errors.JWKSTimeout ||
        error instanceof errors.JWKSInvalid ||
        // A non-200 answer from the JWKS endpoint is a bare JOSEError; a network failure is no JOSEError at all.
        (error instanceof Error && (!(error instanceof errors.JOSEError) || error.constructor === errors.JOSEError));
      if (keysFailed) {
        return { status: 503, reason: 'jwks_unavailable' };
      }
      return { status: 401, reason: `invalid_token:${(error as errors.JOSEError).code ?? 'unknown'}` };
    }
  }

  return async (req, res) => {
    if (req.method !== 'POST') return answer(res, 405, 'POST only');
    const denied = await authenticate(req);
    if (denied) {
      log({ severity: 'WARNING', message: 'push request refused', reason: denied.reason, status: denied.status });
      return answer(res, denied.status, denied.status === 503 ? 'try again' : 'unauthorized');
    }
    let event: GeminiEvent;
    try {
      event = decodeGeminiEvent(await readBody(req, maxBodyBytes));
    } catch (error) {
      if (error instanceof BodyError) return answer(res, error.status, error.message);
      if (error instanceof GeminiEventDecodeError) {
        log({
          severity: 'ERROR',
          message: `undecodable message: ${error.message}`,
          reason: error.reason,
          messageId: error.messageId,
          status: malformedStatus,
        });
        return answer(res, malformedStatus, malformedStatus === 400 ? error.message : '');
      }
      throw error;
    }
    let outcome: HandlerOutcome;
    try {
      outcome = await options.handler(event, { request: req });
    } catch (error) {
      log({
        severity: 'ERROR',
        message: `handler failed: ${(error as Error)?.message ?? String(error)}`,
        webhookId: event.delivery.webhookId,
        eventType: event.eventType,
        messageId: event.delivery.messageId,
        deliveryAttempt: event.delivery.deliveryAttempt,
        status: 500,
      });
      return answer(res, 500, 'handler failed');
    }
    if (outcome === 'nack') return answer(res, 503, 'retry');
    return answer(res, 204);
  };
}
