/**
 * A small client for the Gemini WebhookService REST API (`/v1beta/webhooks`). API key in the
 * `x-goog-api-key` header, snake_case bodies, one-line errors that carry Gemini's own message.
 *
 * Retries: reads, PATCH and DELETE are idempotent and are retried with exponential backoff (and
 * `Retry-After`) on 429, 5xx and network failures. Create, rotate and ping are not: a retried
 * create could register a second webhook and a retried rotate would replace a secret that was
 * issued but never seen. They are retried only on 429 (the request was refused, not executed);
 * after any other failure the error says the call may have gone through and what to check.
 */
import { fetchFailureCause } from '../errors.ts';
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
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per idempotent call, including the first (default 4). */
  maxAttempts?: number;
  /** First backoff; doubles per attempt, with jitter, capped at 20 s (default 500 ms). */
  initialBackoffMs?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

interface CallOptions {
  idempotent: boolean;
  body?: unknown;
  query?: Record<string, string | undefined>;
}

const MAX_BACKOFF_MS = 20_000;

function webhookPath(id: string): string {
  // The id is the webhook's `id` field; its REST path form `webhooks/<id>` is accepted too. The
  // `name` field is a free-form label and never an id.
  const bare = id.replace(/^webhooks\//, '');
  if (bare === '' || bare.includes('/'))
    throw new GeminiApiError(`"${id}" is not a webhook id (the \`id\` that \`gemini-webhooks webhooks list\` shows).`);
  return `/webhooks/${encodeURIComponent(bare)}`;
}

/** Gemini's `{error: {code, message, status}}`, reduced to its message. */
async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
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
  return oneLine === '' ? response.statusText || 'no details' : oneLine.slice(0, 300);
}

function retryAfterMs(response: Response): number | undefined {
  const header = response.headers.get('retry-after');
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

function networkReason(error: unknown): string {
  return (error as Error).name === 'TimeoutError' ? 'timed out' : fetchFailureCause(error);
}

export class WebhookServiceClient {
  readonly baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #maxAttempts: number;
  readonly #initialBackoffMs: number;
  readonly #timeoutMs: number;

  constructor(options: WebhookServiceOptions) {
    this.#apiKey = options.apiKey?.trim() || undefined;
    this.baseUrl = (options.baseUrl ?? DEFAULT_GEMINI_API_BASE_URL).replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#maxAttempts = options.maxAttempts ?? 4;
    this.#initialBackoffMs = options.initialBackoffMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  create(request: CreateWebhookRequest): Promise<Webhook> {
    return this.#call<Webhook>('POST', '/webhooks', { idempotent: false, body: request });
  }

  /** Every webhook of the project, following `next_page_token`. */
  async list(): Promise<Webhook[]> {
    const all: Webhook[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.#call<ListWebhooksResponse>('GET', '/webhooks', {
        idempotent: true,
        query: { page_token: pageToken },
      });
      all.push(...(page.webhooks ?? []));
      pageToken = page.next_page_token || undefined;
    } while (pageToken !== undefined);
    return all;
  }

  get(id: string): Promise<Webhook> {
    return this.#call<Webhook>('GET', webhookPath(id), { idempotent: true });
  }

  /** Changes exactly the fields given: they make up the `update_mask`, so the others stay as they are. */
  update(id: string, update: WebhookUpdate): Promise<Webhook> {
    const body = Object.fromEntries(Object.entries(update).filter(([, value]) => value !== undefined));
    const mask = Object.keys(body);
    if (mask.length === 0) throw new TypeError('WebhookServiceClient.update: nothing to update.');
    return this.#call<Webhook>('PATCH', webhookPath(id), {
      idempotent: true,
      body,
      query: { update_mask: mask.join(',') },
    });
  }

  setState(id: string, state: WebhookState): Promise<Webhook> {
    return this.update(id, { state });
  }

  async delete(id: string): Promise<void> {
    await this.#call<unknown>('DELETE', webhookPath(id), { idempotent: true });
  }

  ping(id: string): Promise<unknown> {
    return this.#call<unknown>('POST', `${webhookPath(id)}:ping`, { idempotent: false, body: {} });
  }

  rotateSigningSecret(id: string, revocation: RevocationBehavior): Promise<RotateSigningSecretResponse> {
    return this.#call<RotateSigningSecretResponse>('POST', `${webhookPath(id)}:rotateSigningSecret`, {
      idempotent: false,
      body: { revocation_behavior: revocation },
    });
  }

  async #call<T>(method: string, path: string, options: CallOptions): Promise<T> {
    if (this.#apiKey === undefined) throw new GeminiApiError(`GEMINI_API_KEY is not set: ${API_KEY_HELP}.`);
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(key, value);
    const what = `${method} ${url.pathname}`;
    const mayHaveRun = options.idempotent
      ? ''
      : ' The request may have reached Gemini: check with `gemini-webhooks webhooks list` before trying again.';

    for (let attempt = 1; ; attempt++) {
      const last = attempt >= this.#maxAttempts;
      const backoff = (hint?: number): number =>
        Math.min(MAX_BACKOFF_MS, hint ?? this.#initialBackoffMs * 2 ** (attempt - 1) * (0.5 + Math.random() / 2));
      let response: Response;
      try {
        response = await this.#fetch(url, {
          method,
          headers: {
            'x-goog-api-key': this.#apiKey,
            accept: 'application/json',
            ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: options.body === undefined ? undefined : JSON.stringify(options.body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        });
      } catch (error) {
        if (options.idempotent && !last) {
          await this.#sleep(backoff());
          continue;
        }
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        throw new GeminiApiError(
          `Could not reach the Gemini API at ${url.origin} (${what}): ${networkReason(error)}${tries}.${mayHaveRun}`,
        );
      }
      if (response.ok) {
        const text = await response.text();
        if (text.trim() === '') return {} as T;
        try {
          return JSON.parse(text) as T;
        } catch {
          throw new GeminiApiError(`The Gemini API answered ${what} with a body that is not JSON.`, response.status);
        }
      }
      const retryable = response.status === 429 || (options.idempotent && response.status >= 500);
      if (retryable && !last) {
        await response.body?.cancel().catch(() => {});
        await this.#sleep(backoff(retryAfterMs(response)));
        continue;
      }
      const message = (await errorMessage(response)).replace(/[.\s]+$/, '');
      const hint =
        response.status === 401 || response.status === 403
          ? ` (is GEMINI_API_KEY a valid key for this project? ${API_KEY_HELP})`
          : response.status === 404 && path.startsWith('/webhooks/')
            ? ' (list the webhooks with `gemini-webhooks webhooks list`)'
            : '';
      const tries = retryable ? ` after ${attempt} attempts` : '';
      const undetermined = response.status >= 500 ? mayHaveRun : '';
      throw new GeminiApiError(
        `Gemini API ${what} failed with ${response.status}${tries}: ${message}${hint}.${undetermined}`,
        response.status,
      );
    }
  }
}
