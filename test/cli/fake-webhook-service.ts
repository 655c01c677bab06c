// A local stand-in for the Gemini WebhookService REST API (https://ai.google.dev/api/webhooks),
// served over real HTTP on 127.0.0.1 so the CLI's real fetch-based client is exercised end to end:
// the `x-goog-api-key` header, snake_case bodies (camelCase keys are refused like Google's JSON
// mapping refuses unknown fields), `{error: {code, message, status}}` errors, paging with
// `next_page_token`, `new_signing_secret` on create, `:rotateSigningSecret` with
// `revocation_behavior`, `signing_secrets[].expire_time`, the three webhook states, and PATCH with
// `update_mask` as Google's update methods do it (https://google.aip.dev/134): only the masked
// fields change, a masked field missing from the body is cleared (refused for required ones), an
// unknown or output-only field in the mask is a 400, and no mask means "the fields in the body".
// As in the reference, `id` is assigned by the service, `name` is an optional user label, and a
// secret is listed as `whsec_...` plus its last four characters.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { signV1 } from '../support/signing.ts';

export interface FakeSecret {
  secret: string;
  expireTime?: string;
}

export interface FakeWebhook {
  id: string;
  name?: string;
  uri: string;
  subscribed_events: string[];
  state: string;
  secrets: FakeSecret[];
  createTime: string;
  updateTime: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  apiKey: string | undefined;
  body: unknown;
}

export interface FakeWebhookService {
  /** Base URL to pass as `--base-url` / GEMINI_API_BASE_URL (ends in `/v1beta`). */
  baseUrl: string;
  apiKey: string;
  webhooks: Map<string, FakeWebhook>;
  requests: RecordedRequest[];
  /** The next `count` requests (optionally only those matching `method`) answer `status`. */
  failNext(count: number, status: number, options?: { method?: string; message?: string; retryAfter?: string }): void;
  /** Page size of `GET /webhooks` (default 2, so paging is always exercised). */
  pageSize: number;
  /** How `truncated_secret` is rendered. */
  truncate: (secret: string) => string;
  /** Clock for `expire_time` (milliseconds since the epoch). */
  now: () => number;
  /**
   * When true, `:ping` then sends a test delivery to the webhook's `uri`, as Gemini does: signed with its
   * current secret by the `standardwebhooks` package. Gemini does not document a ping's event type, so it
   * carries one the catalog does not know.
   */
  deliverPings: boolean;
  /** Statuses the receiver answered to delivered pings (or the network error). */
  pingAnswers: Array<number | string>;
  close(): Promise<void>;
}

const SNAKE = /^[a-z0-9_]+$/;

/** As Gemini shows a secret (the cookbook's real output, e.g. `whsec_...3frh`). */
export function defaultTruncate(secret: string): string {
  return `whsec_...${secret.slice(-4)}`;
}

/** The fields PATCH may name in `update_mask`; everything else of the resource is output only. */
const UPDATABLE = new Set(['name', 'uri', 'subscribed_events', 'state']);

export const newSecret = generateSigningSecret;

function render(service: FakeWebhookService, webhook: FakeWebhook): Record<string, unknown> {
  return {
    id: webhook.id,
    ...(webhook.name !== undefined ? { name: webhook.name } : {}),
    uri: webhook.uri,
    subscribed_events: webhook.subscribed_events,
    state: webhook.state,
    signing_secrets: webhook.secrets.map((s) => ({
      truncated_secret: service.truncate(s.secret),
      ...(s.expireTime ? { expire_time: s.expireTime } : {}),
    })),
    create_time: webhook.createTime,
    update_time: webhook.updateTime,
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

function error(res: ServerResponse, code: number, message: string, headers: Record<string, string> = {}): void {
  send(res, code, { error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN' } }, headers);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : JSON.parse(text);
}

function nonSnakeKey(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return Object.keys(body).find((key) => !SNAKE.test(key));
}

async function deliverPing(service: FakeWebhookService, webhook: FakeWebhook): Promise<void> {
  const id = `msg_ping_${randomBytes(6).toString('hex')}`;
  const timestamp = Math.floor(service.now() / 1000);
  const body = JSON.stringify({
    type: 'webhook.ping',
    version: 'v1',
    timestamp: new Date(service.now()).toISOString(),
    data: {},
  });
  try {
    const response = await fetch(webhook.uri, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signV1(webhook.secrets[0]!.secret, id, timestamp, body),
      },
      body,
    });
    await response.body?.cancel();
    service.pingAnswers.push(response.status);
  } catch (error) {
    service.pingAnswers.push(String((error as Error).message));
  }
}

export async function startFakeWebhookService(options: { apiKey?: string } = {}): Promise<FakeWebhookService> {
  const failures: Array<{ status: number; method?: string; message?: string; retryAfter?: string }> = [];
  let counter = 0;
  const service: FakeWebhookService = {
    baseUrl: '',
    apiKey: options.apiKey ?? 'test-api-key',
    webhooks: new Map(),
    requests: [],
    failNext(count, status, opts = {}) {
      for (let i = 0; i < count; i++) failures.push({ status, ...opts });
    },
    pageSize: 2,
    truncate: defaultTruncate,
    now: () => Date.now(),
    deliverPings: false,
    pingAnswers: [],
    close: async () => {},
  };

  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let body: unknown;
      try {
        body = await readJson(req);
      } catch {
        return error(res, 400, 'Invalid JSON payload received.');
      }
      const apiKey = req.headers['x-goog-api-key'];
      service.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        apiKey: typeof apiKey === 'string' ? apiKey : undefined,
        body,
      });
      const failureAt = failures.findIndex((f) => f.method === undefined || f.method === req.method);
      if (failureAt >= 0) {
        const [failure] = failures.splice(failureAt, 1);
        return error(
          res,
          failure!.status,
          failure!.message ?? 'The service is currently unavailable.',
          failure!.retryAfter ? { 'retry-after': failure!.retryAfter } : {},
        );
      }
      if (apiKey !== service.apiKey) return error(res, 403, 'API key not valid. Please pass a valid API key.');
      const bad = nonSnakeKey(body);
      if (bad !== undefined)
        return error(res, 400, `Invalid JSON payload received. Unknown name "${bad}": Cannot find field.`);

      const match = /^\/v1beta\/webhooks(?:\/([^/:]+))?(?::(ping|rotateSigningSecret))?$/.exec(url.pathname);
      if (!match) return error(res, 404, `Method not found: ${url.pathname}`);
      const [, id, action] = match;
      const input = (body ?? {}) as Record<string, unknown>;

      if (id === undefined) {
        if (req.method === 'POST') {
          if (typeof input['uri'] !== 'string') return error(res, 400, '`uri` is required.');
          if (!Array.isArray(input['subscribed_events']) || input['subscribed_events'].length === 0) {
            return error(res, 400, '`subscribed_events` must list at least one event.');
          }
          const created = new Date(service.now()).toISOString();
          const webhook: FakeWebhook = {
            id: `wh${++counter}`,
            uri: input['uri'],
            subscribed_events: input['subscribed_events'] as string[],
            state: 'enabled',
            secrets: [{ secret: newSecret() }],
            createTime: created,
            updateTime: created,
          };
          if (typeof input['name'] === 'string') webhook.name = input['name'];
          service.webhooks.set(webhook.id, webhook);
          return send(res, 200, { ...render(service, webhook), new_signing_secret: webhook.secrets[0]!.secret });
        }
        if (req.method === 'GET') {
          const all = [...service.webhooks.values()];
          const start = Number(url.searchParams.get('page_token') ?? '0');
          const page = all.slice(start, start + service.pageSize);
          const next = start + service.pageSize < all.length ? String(start + service.pageSize) : undefined;
          return send(res, 200, {
            webhooks: page.map((w) => render(service, w)),
            ...(next ? { next_page_token: next } : {}),
          });
        }
        return error(res, 404, 'Method not allowed.');
      }

      const webhook = service.webhooks.get(id);
      if (!webhook) return error(res, 404, `Webhook webhooks/${id} not found.`);
      if (action === 'ping' && req.method === 'POST') {
        send(res, 200, {});
        if (service.deliverPings && webhook.state === 'enabled') void deliverPing(service, webhook);
        return;
      }
      if (action === 'rotateSigningSecret' && req.method === 'POST') {
        const behavior = input['revocation_behavior'] ?? 'revoke_previous_secrets_after_h24';
        if (behavior !== 'revoke_previous_secrets_after_h24' && behavior !== 'revoke_previous_secrets_immediately') {
          return error(res, 400, `Invalid value at 'revocation_behavior': ${JSON.stringify(behavior)}`);
        }
        const expire = new Date(
          service.now() + (behavior === 'revoke_previous_secrets_immediately' ? 0 : 24 * 3600_000),
        ).toISOString();
        for (const s of webhook.secrets) s.expireTime ??= expire;
        const secret = newSecret();
        webhook.secrets.unshift({ secret });
        return send(res, 200, { secret });
      }
      if (action !== undefined) return error(res, 404, 'Method not allowed.');
      if (req.method === 'GET') return send(res, 200, render(service, webhook));
      if (req.method === 'DELETE') {
        service.webhooks.delete(id);
        return send(res, 200, {});
      }
      if (req.method === 'PATCH') {
        const given = url.searchParams.get('update_mask');
        const mask = given === null ? Object.keys(input) : given.split(',').map((field) => field.trim());
        const unknown = mask.find((field) => !UPDATABLE.has(field));
        if (unknown !== undefined)
          return error(res, 400, `Invalid update_mask: "${unknown}" is not a field of Webhook that can be updated.`);
        // Validate every masked field before changing any: an update applies whole or not at all.
        const next = { ...webhook };
        for (const field of mask) {
          const value = input[field];
          if (field === 'name') {
            if (value === undefined) delete next.name;
            else if (typeof value === 'string') next.name = value;
            else return error(res, 400, "Invalid value at 'webhook.name'.");
          } else if (field === 'uri') {
            if (typeof value !== 'string' || value === '') return error(res, 400, '`uri` is required.');
            next.uri = value;
          } else if (field === 'subscribed_events') {
            if (!Array.isArray(value) || value.length === 0 || !value.every((event) => typeof event === 'string')) {
              return error(res, 400, '`subscribed_events` must list at least one event.');
            }
            next.subscribed_events = value;
          } else if (field === 'state') {
            if (value !== 'enabled' && value !== 'disabled')
              return error(res, 400, `state cannot be set to ${JSON.stringify(value)}.`);
            next.state = value;
          }
        }
        next.updateTime = new Date(service.now()).toISOString();
        service.webhooks.set(id, next);
        return send(res, 200, render(service, next));
      }
      return error(res, 404, 'Method not allowed.');
    })().catch((e: unknown) => error(res, 500, String(e)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  service.baseUrl = `http://127.0.0.1:${port}/v1beta`;
  service.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return service;
}
