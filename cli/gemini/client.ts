/**
 * The CLI's client for the Gemini WebhookService REST API (`/v1beta/webhooks`), over the official SDK's
 * `webhooks` client (`@google/genai`, https://github.com/googleapis/js-genai): API key in the
 * `x-goog-api-key` header, snake_case bodies, one-line errors that carry Gemini's own message.
 *
 * What this adds to the SDK is the retry policy below and the errors' wording. The SDK retries every
 * call, create included, on 408, 409, 429, 5xx and connection errors by default, which could register a
 * second webhook or issue a secret nobody sees; so its own retries are switched off per call
 * (`retries: {strategy: 'none'}`) and the policy is applied here. Its default API version for
 * webhooks is `v1`; the API reference's `v1beta` is taken from the base URL. Its answers carry an
 * extra `sdkHttpResponse` field, dropped so that `--json` prints what Gemini returned.
 *
 * Retries: reads, PATCH and DELETE are idempotent and are retried with exponential backoff (and
 * `Retry-After`) on 429, 5xx and network failures. Create, rotate and ping are not: a retried
 * create could register a second webhook and a retried rotate would replace a secret that was
 * issued but never seen. They are retried only on 429 (the request was refused, not executed);
 * after any other failure the error says the call may have gone through and what to check.
 */
import { GoogleGenAI } from '@google/genai';
import type {
  CreateWebhookRequest,
  ListWebhooksResponse,
  RevocationBehavior,
  RotateSigningSecretResponse,
  Webhook,
  WebhookState,
  WebhookUpdate,
} from './types.ts';

export const DEFAULT_GEMINI_API_BASE_URL = 'https://generativelanguage.googleapis.com/v1beta';
export const API_KEY_HELP = 'create one at https://aistudio.google.com/apikey and `export GEMINI_API_KEY=<key>`';

/** Any failure of a WebhookService call, already phrased for a human. */
export class GeminiApiError extends Error {
  override name = 'GeminiApiError';
  /** HTTP status, or undefined for network failures and a missing key. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.status = status;
  }
}

export interface WebhookServiceOptions {
  apiKey: string | undefined;
  baseUrl?: string;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per idempotent call, including the first (default 4). */
  maxAttempts?: number;
  /** First backoff; doubles per attempt, with jitter, capped at 20 s (default 500 ms). */
  initialBackoffMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

const MAX_BACKOFF_MS = 20_000;

function webhookId(id: string): string {
  // The id is the webhook's `id` field; its REST path form `webhooks/<id>` is accepted too. The
  // `name` field is a free-form label and never an id.
  const bare = id.replace(/^webhooks\//, '');
  if (bare === '' || bare.includes('/'))
    throw new GeminiApiError(`"${id}" is not a webhook id (the \`id\` that \`gemini-webhooks webhooks list\` shows).`);
  return bare;
}

/** An HTTP error answer, as the SDK reports it (its APIError): status, raw body, headers. */
interface HttpFailure {
  status: number;
  body: string;
  headers: Headers | undefined;
}

function httpFailure(error: unknown): HttpFailure | undefined {
  const e = error as { status?: unknown; statusCode?: unknown; body?: unknown; headers?: unknown };
  const status = typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === undefined) return undefined;
  return {
    status,
    body: typeof e.body === 'string' ? e.body : '',
    headers: e.headers instanceof Headers ? e.headers : undefined,
  };
}

/** Gemini's `{error: {code, message, status}}`, reduced to its message. */
function errorMessage(failure: HttpFailure): string {
  const text = failure.body;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown; status?: unknown } };
    const message = parsed.error?.message;
    if (typeof message === 'string' && message !== '') {
      return typeof parsed.error?.status === 'string' ? `${parsed.error.status}: ${message}` : message;
    }
  } catch {
    // not JSON
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine === '' ? 'no details' : oneLine.slice(0, 300);
}

function retryAfterMs(failure: HttpFailure): number | undefined {
  const header = failure.headers?.get('retry-after') ?? null;
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * Why a request got no answer, in a few words: the SDK wraps fetch's error (itself wrapping the network
 * error, `ECONNREFUSED`, `ENOTFOUND`, ...) in errors of its own; the innermost cause says it.
 */
function networkReason(error: unknown): string {
  let current = error as { name?: string; code?: string; message?: string; cause?: unknown } | undefined;
  let innermost = current;
  for (let depth = 0; current !== undefined && current !== null && depth < 8; depth++) {
    if (/timeout/i.test(current.name ?? '')) return 'timed out';
    innermost = current;
    current = current.cause as typeof current;
  }
  return innermost?.code ?? innermost?.message ?? String(error);
}

type SdkOptions = { retries: { strategy: 'none' }; timeout_ms: number };

/** The answer without the SDK's `sdkHttpResponse`: what Gemini sent. */
function asSent<T>(answer: T): T {
  if (answer === null || typeof answer !== 'object') return {} as T;
  const { sdkHttpResponse: _dropped, ...rest } = answer as Record<string, unknown>;
  return rest as T;
}

export class WebhookServiceClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxAttempts: number;
  readonly #initialBackoffMs: number;
  readonly #timeoutMs: number;
  #sdk: GoogleGenAI | undefined;

  constructor(options: WebhookServiceOptions) {
    this.#apiKey = options.apiKey?.trim() || undefined;
    this.baseUrl = (options.baseUrl ?? DEFAULT_GEMINI_API_BASE_URL).replace(/\/+$/, '');
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The SDK's client, for the base URL's host and API version (`.../v1beta` -> `v1beta`). */
  #webhooks(apiKey: string): GoogleGenAI['webhooks'] {
    if (this.#sdk === undefined) {
      const url = new URL(this.baseUrl);
      const segments = url.pathname.split('/').filter((segment) => segment !== '');
      const apiVersion = segments.pop() ?? 'v1beta';
      url.pathname = segments.join('/');
      this.#sdk = new GoogleGenAI({
        apiKey,
        httpOptions: { baseUrl: url.href.replace(/\/+$/, ''), apiVersion },
      });
    }
    return this.#sdk.webhooks;
  }

  create(request: CreateWebhookRequest): Promise<Webhook> {
    return this.#call('POST', '/webhooks', false, (sdk, options) => sdk.create(request, options)) as Promise<Webhook>;
  }

  /** Every webhook of the project, following `next_page_token`. */
  async list(): Promise<Webhook[]> {
    const all: Webhook[] = [];
    let pageToken: string | undefined;
    do {
      const token = pageToken;
      const page = (await this.#call('GET', '/webhooks', true, (sdk, options) =>
        sdk.list(token === undefined ? null : { page_token: token }, options),
      )) as ListWebhooksResponse;
      all.push(...(page.webhooks ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken !== undefined);
    return all;
  }

  get(id: string): Promise<Webhook> {
    const bare = webhookId(id);
    return this.#call('GET', `/webhooks/${bare}`, true, (sdk, options) =>
      sdk.get(bare, null, options),
    ) as Promise<Webhook>;
  }

  /** Changes exactly the fields given: they make up the `update_mask`, so the others stay as they are. */
  update(id: string, update: WebhookUpdate): Promise<Webhook> {
    const body = Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined));
    const mask = Object.keys(body);
    if (mask.length === 0) throw new TypeError('WebhookServiceClient.update: nothing to update.');
    const bare = webhookId(id);
    return this.#call('PATCH', `/webhooks/${bare}`, true, (sdk, options) =>
      sdk.update(bare, { ...body, update_mask: mask.join(',') }, options),
    ) as Promise<Webhook>;
  }

  setState(id: string, state: WebhookState): Promise<Webhook> {
    return this.update(id, { state });
  }

  async delete(id: string): Promise<void> {
    const bare = webhookId(id);
    await this.#call('DELETE', `/webhooks/${bare}`, true, (sdk, options) => sdk.delete(bare, null, options));
  }

  ping(id: string): Promise<unknown> {
    const bare = webhookId(id);
    return this.#call('POST', `/webhooks/${bare}:ping`, false, (sdk, options) => sdk.ping(bare, { body: {} }, options));
  }

  rotateSigningSecret(id: string, revocation: RevocationBehavior): Promise<RotateSigningSecretResponse> {
    const bare = webhookId(id);
    return this.#call('POST', `/webhooks/${bare}:rotateSigningSecret`, false, (sdk, options) =>
      sdk.rotateSigningSecret(bare, { revocation_behavior: revocation }, options),
    ) as Promise<RotateSigningSecretResponse>;
  }

  async #call(
    method: string,
    path: string,
    idempotent: boolean,
    send: (sdk: GoogleGenAI['webhooks'], options: SdkOptions) => Promise<unknown>,
  ): Promise<unknown> {
    if (this.#apiKey === undefined) throw new GeminiApiError(`GEMINI_API_KEY is not set: ${API_KEY_HELP}.`);
    const sdk = this.#webhooks(this.#apiKey);
    const url = new URL(this.baseUrl + path);
    const what = `${method} ${url.pathname}`;
    const mayHaveRun = idempotent
      ? ''
      : ' The request may have reached Gemini: check with `gemini-webhooks webhooks list` before trying again.';

    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#maxAttempts;
      const backoff = (hint?: number): number =>
        Math.min(MAX_BACKOFF_MS, hint ?? this.#initialBackoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      let failure: HttpFailure | undefined;
      try {
        return asSent(await send(sdk, { retries: { strategy: 'none' }, timeout_ms: this.#timeoutMs }));
      } catch (error) {
        failure = httpFailure(error);
        if (failure === undefined) {
          if (idempotent && !last) {
            await this.#sleep(backoff());
            continue;
          }
          const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
          throw new GeminiApiError(
            `Could not reach the Gemini API at ${url.origin} (${what}): ${networkReason(error)}${tries}.${mayHaveRun}`,
          );
        }
      }
      const retryable = failure.status === 429 || (idempotent && failure.status >= 500);
      if (retryable && !last) {
        await this.#sleep(backoff(retryAfterMs(failure)));
        continue;
      }
      const message = errorMessage(failure).replace(/[.\s]+$/, '');
      const hint =
        failure.status === 401 || failure.status === 403
          ? ` (is GEMINI_API_KEY a valid key for this project? ${API_KEY_HELP})`
          : failure.status === 404 && path.startsWith('/webhooks/')
            ? ' (list the webhooks with `gemini-webhooks webhooks list`)'
            : '';
      const tries = retryable ? ` after ${attempt} attempts` : '';
      const undetermined = failure.status >= 500 ? mayHaveRun : '';
      throw new GeminiApiError(
        `Gemini API ${what} failed with ${failure.status}${tries}: ${message}${hint}.${undetermined}`,
        failure.status,
      );
    }
  }
}
