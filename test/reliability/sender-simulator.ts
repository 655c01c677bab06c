/**
 * A sender that behaves like Gemini's webhook delivery (https://ai.google.dev/gemini-api/docs/webhooks): every delivery
 * has one webhook id kept across retries; every attempt is signed afresh (new timestamp, new
 * signature or token); any non-2xx answer, refused connection or timeout is retried with
 * exponential backoff, compressed from hours to milliseconds. Every answer is recorded, so the
 * invariants can be checked against what the receiver promised.
 *
 * Signatures come from the `standardwebhooks` package (HMAC `v1`) and `jose` (RS256 JWTs), never
 * from the code under test.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { Webhook } from 'standardwebhooks';
import { sleep } from './harness.ts';

export interface JwtSigning {
  privateJwk: JWK;
  issuer?: string;
  audience?: string;
}

export interface SenderOptions {
  /** The receiver's URL; a function so a restarted receiver can be followed. */
  url: string | (() => string);
  /** `whsec_...` for static deliveries. */
  secret?: string;
  /** Key for dynamic (JWT) deliveries. */
  jwt?: JwtSigning;
  /** Parallel deliveries (and at most that many connections). Default 8. */
  concurrency?: number;
  /** Attempts per delivery before giving up. Default 40. */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt up to maxDelayMs, with jitter. Defaults 25 / 1000 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** An attempt with no answer after this long is abandoned and retried. Default 15000 ms. */
  attemptTimeoutMs?: number;
}

export interface Attempt {
  /** HTTP status, or `timeout` / `network` when there was no answer. */
  status: number | 'timeout' | 'network';
  retryAfter: string | undefined;
  /** The receiver's JSON answer, when there was one. */
  answer: string;
  elapsedMs: number;
  startedAt: number;
}

export type DeliveryScheme = 'static' | 'jwt';

export interface DeliveryRecord {
  /** The id the receiver publishes the delivery under: the webhook id, `jwt:<jti>` for JWT deliveries. */
  id: string;
  scheme: DeliveryScheme;
  body: Buffer;
  attempts: Attempt[];
  /** True once any attempt was answered 2xx: from then on the receiver owns the event. */
  acknowledged: boolean;
  /** When the first 2xx arrived (Date.now()). */
  acknowledgedAt: number | undefined;
  gaveUp: boolean;
}

export interface Event {
  id?: string;
  scheme?: DeliveryScheme;
  body: Buffer;
}

export function newWebhookId(): string {
  return `msg_${randomUUID().replaceAll('-', '')}`;
}

/** A realistic thin envelope; `marker` makes every body unique and traceable. */
export function envelope(type: string, marker: string, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      type,
      version: 'v1',
      timestamp: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      data: { id: `batches/${marker}`, output_file_uri: 'gs://bucket/results.jsonl', ...extra },
    }),
  );
}

export class SenderSimulator {
  readonly records = new Map<string, DeliveryRecord>();
  readonly #options: SenderOptions;
  readonly #agent: Agent;
  #privateKey: CryptoKey | undefined;
  #inFlight = 0;
  #gate: Promise<void> | undefined;
  #openGate: (() => void) | undefined;

  constructor(options: SenderOptions) {
    this.#options = options;
    this.#agent = new Agent({ keepAlive: true, maxSockets: options.concurrency ?? 8 });
  }

  /** Attempts currently waiting for an answer. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Stops starting new attempts (running ones finish) until open() is called. */
  close(): void {
    this.#gate ??= new Promise((resolve) => (this.#openGate = resolve));
  }

  open(): void {
    this.#openGate?.();
    this.#gate = undefined;
    this.#openGate = undefined;
  }

  /** Headers for one attempt, signed now. */
  async sign(id: string, scheme: DeliveryScheme, body: Buffer): Promise<Record<string, string>> {
    const now = new Date();
    if (scheme === 'static') {
      if (!this.#options.secret) throw new Error('no secret configured for static deliveries');
      return {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
        'webhook-signature': new Webhook(this.#options.secret).sign(id, now, body.toString('utf8')),
      };
    }
    const jwt = this.#options.jwt;
    if (!jwt) throw new Error('no JWT key configured for dynamic deliveries');
    this.#privateKey ??= (await importJWK(jwt.privateJwk, 'RS256')) as CryptoKey;
    // The body is bound to the token by its digest, one of the bindings the receiver understands.
    // The jti names the delivery and is kept across retries, like the webhook id of a static one.
    let token = new SignJWT({ body_sha256: createHash('sha256').update(body).digest('hex') })
      .setProtectedHeader({ alg: 'RS256', kid: jwt.privateJwk.kid ?? 'k', typ: 'JWT' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti(id);
    if (jwt.issuer !== undefined) token = token.setIssuer(jwt.issuer);
    if (jwt.audience !== undefined) token = token.setAudience(jwt.audience);
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': await token.sign(this.#privateKey),
    };
  }

  /** Delivers one event until it is acknowledged or the attempts run out. */
  async deliver(event: Event): Promise<DeliveryRecord> {
    const id = event.id ?? newWebhookId();
    const scheme = event.scheme ?? 'static';
    const record: DeliveryRecord = {
      // The receiver publishes a JWT delivery under its signed jti, never the unsigned header.
      id: scheme === 'jwt' ? `jwt:${id}` : id,
      scheme,
      body: event.body,
      attempts: [],
      acknowledged: false,
      acknowledgedAt: undefined,
      gaveUp: false,
    };
    this.records.set(record.id, record);
    const maxAttempts = this.#options.maxAttempts ?? 40;
    const base = this.#options.baseDelayMs ?? 25;
    const max = this.#options.maxDelayMs ?? 1000;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      while (this.#gate) await this.#gate;
      const headers = await this.sign(id, scheme, record.body);
      this.#inFlight++;
      let result: Attempt;
      try {
        result = await this.#post(headers, record.body);
      } finally {
        this.#inFlight--;
      }
      record.attempts.push(result);
      if (typeof result.status === 'number' && result.status >= 200 && result.status < 300) {
        record.acknowledged = true;
        record.acknowledgedAt = Date.now();
        return record;
      }
      const delay = Math.min(max, base * 2 ** (attempt - 1));
      await sleep(delay / 2 + Math.random() * (delay / 2));
    }
    record.gaveUp = true;
    return record;
  }

  /** Delivers all events with `concurrency` of them in flight at a time. */
  async run(events: readonly Event[], onProgress?: (done: number) => void): Promise<DeliveryRecord[]> {
    const results: DeliveryRecord[] = [];
    let next = 0;
    let done = 0;
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const event = events[next++]!;
        results.push(await this.deliver(event));
        onProgress?.(++done);
      }
    };
    await Promise.all(Array.from({ length: this.#options.concurrency ?? 8 }, worker));
    return results;
  }

  destroy(): void {
    this.#agent.destroy();
  }

  #post(headers: Record<string, string>, body: Buffer): Promise<Attempt> {
    const url = typeof this.#options.url === 'string' ? this.#options.url : this.#options.url();
    const timeoutMs = this.#options.attemptTimeoutMs ?? 15_000;
    const startedAt = Date.now();
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const settle = (status: Attempt['status'], retryAfter: string | undefined, answer: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, retryAfter, answer, elapsedMs: Math.round(performance.now() - started), startedAt });
      };
      const req = request(
        url,
        { method: 'POST', agent: this.#agent, headers: { ...headers, 'content-length': String(body.length) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            settle(res.statusCode ?? 0, res.headers['retry-after'], Buffer.concat(chunks).toString('utf8')),
          );
          res.on('error', () => settle('network', undefined, ''));
        },
      );
      const timer = setTimeout(() => {
        settle('timeout', undefined, '');
        req.destroy();
      }, timeoutMs);
      req.on('error', () => settle('network', undefined, ''));
      req.end(body);
    });
  }
}
