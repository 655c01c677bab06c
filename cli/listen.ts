/**
 * `listen --forward-to <url>`: live events delivered to a consumer on this machine, as Pub/Sub
 * would push them to it in the cloud (cli/push-request.ts), from temporary subscriptions of its own
 * (cli/temporary-subscriptions.ts). A success status acks the message; anything else nacks it,
 * and Pub/Sub redelivers it with backoff, so the consumer sees real redelivery. Each request is
 * signed with a development secret (packages/subscriber/src/listen-token.ts) that createPushHandler accepts
 * only with its `development` option.
 */
import { readFileSync } from 'node:fs';
import type { Message } from '@google-cloud/pubsub';
import {
  LISTEN_SECRET_ENV,
  generateListenSecret,
  listenSecretProblem,
  signListenToken,
} from '../packages/subscriber/src/listen-token.ts';
import type { CliContext } from './context.ts';
import { fetchFailureCause, UsageError } from './errors.ts';
import { parse, positiveInteger, PUBSUB_OPTIONS, selectRoutes, topicPrefix } from './options.ts';
import { openPubSub } from './pubsub.ts';
import { acknowledges, pushRequestBody } from './push-request.ts';
import { describeTopics, serveTemporarySubscriptions, type TemporarySubscription } from './temporary-subscriptions.ts';
import { fieldText } from './terminal-text.ts';

const DEFAULT_CONCURRENCY = 4;
const MAX_CONCURRENCY = 100;
const DEFAULT_TIMEOUT_SECONDS = 10;
/** Below the listen token's lifetime, so a slow answer never meets an expired token. */
const MAX_TIMEOUT_SECONDS = 60;
/** A nacked message comes back after 1 s, then 2 s, 4 s, ... up to a minute. */
const RETRY = { minimumBackoffSeconds: 1, maximumBackoffSeconds: 60 };

export const USAGE = `usage: gemini-webhooks listen --forward-to URL [--type T ...] [--secret-file FILE]
                              [--concurrency N] [--timeout SECONDS] [--project P] [--prefix P]

Forwards each event published from now on (all types, or those given with --type) to URL as a
Pub/Sub push request, from temporary subscriptions that are deleted when you stop it (Ctrl-C,
SIGTERM, or the terminal closing). A 200, 201, 202 or 204 answer acknowledges the event; any other
answer, a timeout or no answer leaves it unacknowledged, and Pub/Sub redelivers it (after 1 s,
doubling up to 60 s). Requests carry \`Authorization: Bearer <token>\` signed with a development
secret: from --secret-file, else ${LISTEN_SECRET_ENV}, else a new one printed at start (never
from the command line, where the process list shows it). Give your consumer the same
${LISTEN_SECRET_ENV} and \`development: { listenSecret }\` in createPushHandler.

Options:
  --forward-to URL     your consumer's push endpoint (http or https)
  --type T             only this event type's topic (repeatable; default: every topic)
  --secret-file FILE   a file holding the listen secret (at least 32 characters)
  --secret S           refused: the process list would show it (use --secret-file or the variable)
  --concurrency N      requests in flight at most (default ${DEFAULT_CONCURRENCY}, at most ${MAX_CONCURRENCY})
  --timeout SECONDS    seconds a request may take (default ${DEFAULT_TIMEOUT_SECONDS}, at most ${MAX_TIMEOUT_SECONDS})
  --project P          the Google Cloud project (default GOOGLE_CLOUD_PROJECT)
  --prefix P           the stack's topicPrefix (default WEBHOOK_TOPIC_PREFIX, else gemini)
  --help, -h           this help

Examples:
  npx gemini-webhooks listen --forward-to http://localhost:8080/
  ${LISTEN_SECRET_ENV}=$(cat .listen-secret) npx gemini-webhooks listen --forward-to http://localhost:8080/ --type batch.succeeded
  npx gemini-webhooks listen --forward-to http://localhost:8080/ --secret-file .listen-secret`;

export const OPTIONS = {
  ...PUBSUB_OPTIONS,
  'forward-to': { type: 'string' },
  type: { type: 'string', multiple: true },
  secret: { type: 'string' },
  'secret-file': { type: 'string' },
  concurrency: { type: 'string' },
  timeout: { type: 'string' },
} as const;

function forwardUrl(value: string | undefined): URL {
  if (value === undefined)
    throw new UsageError(
      'listen: --forward-to is required: the URL of your consumer, e.g. --forward-to http://localhost:8080/.',
    );
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(
      `listen: --forward-to is not a URL (got ${JSON.stringify(value)}); e.g. http://localhost:8080/.`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`listen: --forward-to must be an http or https URL (got ${url.protocol}).`);
  }
  return url;
}

/** The secret from a file; one trailing newline (as `echo` or an editor leaves it) is not part of it. */
function readSecretFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (error) {
    const why = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`listen: cannot read --secret-file ${file} (${why}).`);
  }
}

function boundedInteger(value: string | undefined, flag: string, fallback: number, max: number): number {
  const parsed = positiveInteger(value, flag) ?? fallback;
  if (parsed > max) throw new UsageError(`${flag} must be at most ${max} (got ${parsed}).`);
  return parsed;
}

/** At most `limit` tasks at a time, started in the order they arrive. */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: Array<() => void> = [];
  constructor(limit: number) {
    this.#limit = limit;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      // Hand the slot to the next task, or give it back.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
    }
  }
}

/** How many times this process has forwarded each message, to show redeliveries. */
class Attempts {
  readonly #counts = new Map<string, number>();
  next(id: string): number {
    const count = (this.#counts.get(id) ?? 0) + 1;
    this.#counts.delete(id);
    this.#counts.set(id, count);
    // Bounded: forget the oldest when a failing consumer leaves many messages in play.
    if (this.#counts.size > 10_000) this.#counts.delete(this.#counts.keys().next().value as string);
    return count;
  }
  done(id: string): void {
    this.#counts.delete(id);
  }
}

function failureReason(error: unknown, timeoutSeconds: number, url: URL): string {
  if ((error as Error).name === 'TimeoutError') return `no answer within ${timeoutSeconds} s`;
  return `could not reach ${url.href}: ${fetchFailureCause(error)}`;
}

export async function listenCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('listen', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const url = forwardUrl(values['forward-to']);
  const concurrency = boundedInteger(values.concurrency, '--concurrency', DEFAULT_CONCURRENCY, MAX_CONCURRENCY);
  const timeoutSeconds = boundedInteger(values.timeout, '--timeout', DEFAULT_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS);
  const prefix = topicPrefix(values, context);
  const routes = selectRoutes(prefix, values.type);
  if (values.secret !== undefined)
    throw new UsageError(
      `listen: --secret would show the secret to anyone who lists processes; put it in ${LISTEN_SECRET_ENV} ` +
        'or in a file given with --secret-file.',
    );
  const file = values['secret-file'];
  const given = file === undefined ? context.env[LISTEN_SECRET_ENV] || undefined : readSecretFile(file);
  const problem = given === undefined ? undefined : listenSecretProblem(given);
  if (problem !== undefined)
    throw new UsageError(
      `listen: the listen secret (${file !== undefined ? `--secret-file ${file}` : LISTEN_SECRET_ENV}) ${problem}.`,
    );
  const secret = given ?? generateListenSecret();

  const handle = await openPubSub(values, context);
  try {
    const limiter = new Limiter(concurrency);
    const attempts = new Attempts();
    const pending = new Set<Promise<void>>();
    let hinted = false;

    const forward = async (message: Message, target: TemporarySubscription): Promise<void> => {
      if (context.signal.aborted) return message.nack();
      const a = message.attributes;
      const attempt = attempts.next(message.id);
      const what =
        `${context.now().toISOString()} ${fieldText(a['event_type'] ?? '-')} ` +
        `webhook_id=${fieldText(a['webhook_id'] ?? '-')}${attempt > 1 ? ` attempt ${attempt}` : ''}`;
      const headers = {
        'content-type': 'application/json',
        authorization: `Bearer ${await signListenToken(secret, context.now())}`,
        'user-agent': 'gemini-webhooks-listen',
      };
      const body = JSON.stringify(pushRequestBody(message, target.name));
      const started = performance.now();
      let status: number;
      try {
        const response = await context.fetch(url, {
          method: 'POST',
          headers,
          body,
          redirect: 'manual',
          signal: AbortSignal.any([AbortSignal.timeout(timeoutSeconds * 1000), context.signal]),
        });
        await response.body?.cancel().catch(() => {});
        status = response.status;
      } catch (error) {
        message.nack();
        if (!context.signal.aborted)
          context.out(`${what} -> ${failureReason(error, timeoutSeconds, url)}; nacked, Pub/Sub redelivers it`);
        return;
      }
      const took = `(${Math.round(performance.now() - started)} ms)`;
      if (acknowledges(status)) {
        message.ack();
        attempts.done(message.id);
        context.out(`${what} -> ${status} ${took}`);
        return;
      }
      message.nack();
      context.out(`${what} -> ${status} ${took} nacked, Pub/Sub redelivers it`);
      if ((status === 401 || status === 403) && !hinted) {
        hinted = true;
        context.err(
          `listen: ${url.href} refused the request (${status}): ` +
            `does your consumer have ${LISTEN_SECRET_ENV} set to this ` +
            "session's listen secret, and `development: { listenSecret }` in createPushHandler?",
        );
      }
    };

    await serveTemporarySubscriptions(
      handle,
      routes,
      {
        purpose: 'listen',
        ackDeadlineSeconds: Math.min(600, timeoutSeconds + 10),
        retentionSeconds: 3600,
        retry: RETRY,
        maxMessages: concurrency,
      },
      context,
      {
        onMessage(message, target) {
          const task = limiter
            .run(() => forward(message, target))
            .catch((error: unknown) => {
              message.nack();
              context.err(`listen: forwarding message ${message.id} failed: ${(error as Error).message}`);
            });
          pending.add(task);
          void task.finally(() => pending.delete(task));
        },
        announce() {
          context.err(
            `Forwarding events from ${describeTopics(routes, prefix)} ` +
              `in project ${handle.projectId} to ${url.href}; Ctrl-C stops.`,
          );
          if (given === undefined) {
            context.err(`Listen secret for this session: ${secret}`);
            context.err(
              `  Run your consumer with ${LISTEN_SECRET_ENV}=${secret} and ` +
                'createPushHandler({ ..., development: { listenSecret } }); ' +
                'export it in both shells to keep it across sessions.',
            );
          }
        },
        drain: () => Promise.allSettled(pending),
      },
    );
    return 0;
  } finally {
    await handle.close();
  }
}
