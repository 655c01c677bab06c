/**
 * The subscriptions `tail`, `listen` and `check` read from: their own, one per topic, so they never
 * take a message from a real consumer. They are deleted when the command stops (Ctrl-C, SIGTERM,
 * SIGHUP). A process killed outright (SIGKILL, a crash) cannot clean up, and its subscriptions keep
 * copies of events; so each one carries labels saying which process made it, on which machine and
 * when, and the next `tail`, `listen` or `check` on that machine deletes those whose process is gone.
 * Whatever is left (another machine's) Pub/Sub deletes after a day without activity (the shortest
 * expiration policy it allows, https://cloud.google.com/pubsub/docs/subscription-properties).
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { SubscriptionCloseBehaviors, type Message, type Subscription } from '@google-cloud/pubsub';
import { temporarySubscriptionName, type RoutePlan, type TemporaryPurpose } from '../functions/topology.ts';
import type { CliContext } from './context.ts';
import { describePubSubError, grpcCode, Status, PubSubSetupError, type PubSubHandle } from './pubsub.ts';

const EXPIRATION_SECONDS = 24 * 3600;

/** Labels of a temporary subscription (label values: lowercase letters, digits, `-`, `_`). */
export const TEMPORARY_LABEL = 'gemini-webhooks-temporary';
const HOST_LABEL = 'gemini-webhooks-host';
const PID_LABEL = 'gemini-webhooks-pid';
const CREATED_LABEL = 'gemini-webhooks-created';

/** This machine, as a label value: a short hash of its host name (the name itself may not fit). */
export function hostLabel(name = hostname()): string {
  return createHash('sha256').update(name).digest('hex').slice(0, 16);
}

export function temporaryLabels(purpose: string, now: Date, pid = process.pid): Record<string, string> {
  return {
    [TEMPORARY_LABEL]: purpose,
    [HOST_LABEL]: hostLabel(),
    [PID_LABEL]: String(pid),
    [CREATED_LABEL]: String(Math.floor(now.getTime() / 1000)),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes the temporary subscriptions this machine's earlier commands left behind: labelled as made
 * here by a process that no longer runs. Returns the ids deleted. A subscription of another machine,
 * or of a process still running, is left alone.
 */
export async function removeOrphans(handle: PubSubHandle, err: (line: string) => void): Promise<string[]> {
  const here = hostLabel();
  let subscriptions: Subscription[];
  try {
    [subscriptions] = await handle.pubsub.getSubscriptions({ autoPaginate: true });
  } catch (error) {
    err(describePubSubError(error, 'looking for temporary subscriptions left behind'));
    return [];
  }
  const removed: string[] = [];
  for (const subscription of subscriptions) {
    const labels = subscription.metadata?.labels ?? {};
    if (labels[TEMPORARY_LABEL] === undefined || labels[HOST_LABEL] !== here) continue;
    const pid = Number(labels[PID_LABEL]);
    if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid || processAlive(pid)) continue;
    try {
      await subscription.delete();
      removed.push(subscription.name.split('/').at(-1)!);
    } catch (error) {
      if (grpcCode(error) !== Status.NOT_FOUND)
        err(describePubSubError(error, `deleting ${subscription.name} left behind by process ${pid}`));
    }
  }
  return removed;
}

export interface TemporarySubscriptionOptions {
  /** Part of each subscription's name, `<topic>-<purpose>-<8 hex digits>`, so a stray one says whose it is. */
  purpose: TemporaryPurpose;
  ackDeadlineSeconds: number;
  /** How long an unacknowledged message is kept (at least 600 s). */
  retentionSeconds: number;
  /** Backoff between redeliveries of a nacked message; none means at once. */
  retry?: { minimumBackoffSeconds: number; maximumBackoffSeconds: number };
  /** Messages this process holds per subscription (default: the client library's). */
  maxMessages?: number;
}

export interface TemporarySubscription {
  route: RoutePlan;
  subscription: Subscription;
  /** `projects/<project>/subscriptions/<id>`. */
  name: string;
}

export interface TemporarySubscriptions {
  subscriptions: TemporarySubscription[];
  /** Stops receiving and deletes them; reports each it could not delete through `err`. */
  delete(err: (line: string) => void): Promise<void>;
}

export async function createTemporarySubscriptions(
  handle: PubSubHandle,
  routes: readonly RoutePlan[],
  options: TemporarySubscriptionOptions,
  now: Date = new Date(),
): Promise<TemporarySubscriptions> {
  const tag = randomBytes(4).toString('hex');
  const created: TemporarySubscription[] = [];
  const remove = async (err: (line: string) => void): Promise<void> => {
    for (const { subscription } of created) {
      await subscription.close().catch(() => {});
      await subscription
        .delete()
        .catch((error: unknown) =>
          err(`${options.purpose}: could not delete ${subscription.name}: ${(error as Error).message}`),
        );
    }
  };
  try {
    for (const route of routes) {
      const [subscription] = await handle.pubsub
        .topic(route.topic)
        .createSubscription(temporarySubscriptionName(route.topic, options.purpose, tag), {
          ackDeadlineSeconds: options.ackDeadlineSeconds,
          labels: temporaryLabels(options.purpose, now),
          expirationPolicy: { ttl: { seconds: EXPIRATION_SECONDS } },
          messageRetentionDuration: { seconds: options.retentionSeconds },
          ...(options.retry
            ? {
                retryPolicy: {
                  minimumBackoff: { seconds: options.retry.minimumBackoffSeconds },
                  maximumBackoff: { seconds: options.retry.maximumBackoffSeconds },
                },
              }
            : {}),
        })
        .catch((error: unknown) => {
          if (grpcCode(error) === Status.NOT_FOUND) {
            throw new PubSubSetupError(
              `Topic ${route.topic} does not exist in project ${handle.projectId}: check --prefix and --project, ` +
                'and that the topology is deployed (`pulumi up` or `npm start`).',
            );
          }
          throw new PubSubSetupError(describePubSubError(error, `creating a subscription on ${route.topic}`));
        });
      // Stopping nacks what is still held rather than waiting for it: the subscription is deleted next.
      subscription.setOptions({
        closeOptions: { behavior: SubscriptionCloseBehaviors.NackImmediately },
        ...(options.maxMessages
          ? { flowControl: { maxMessages: options.maxMessages, allowExcessMessages: false } }
          : {}),
      });
      created.push({ route, subscription, name: subscription.name });
    }
  } catch (error) {
    await remove(() => {});
    throw error;
  }
  return { subscriptions: created, delete: remove };
}

export interface ServeOptions {
  /** Called for every message of every temporary subscription. */
  onMessage(message: Message, target: TemporarySubscription): void;
  /** Called once the subscriptions are ready: the command says what it is doing. */
  announce(): void;
  /** Awaited after the stop is asked for, before the subscriptions go (work still in flight). */
  drain?(): Promise<unknown>;
}

/**
 * Creates the temporary subscriptions, hands each message to `onMessage` until the command is asked
 * to stop, then deletes them, whatever happened in between.
 */
export async function serveTemporarySubscriptions(
  handle: PubSubHandle,
  routes: readonly RoutePlan[],
  options: TemporarySubscriptionOptions,
  context: CliContext,
  serve: ServeOptions,
): Promise<void> {
  const orphans = await removeOrphans(handle, context.err);
  if (orphans.length > 0)
    context.err(
      `Deleted ${orphans.length} temporary subscription(s) an earlier command left behind: ${orphans.join(', ')}.`,
    );
  const temporary = await createTemporarySubscriptions(handle, routes, options, context.now());
  try {
    for (const target of temporary.subscriptions) {
      target.subscription.on('message', (message: Message) => serve.onMessage(message, target));
      target.subscription.on('error', (error: Error) =>
        context.err(`${options.purpose}: ${target.name.split('/').at(-1)}: ${error.message}`),
      );
    }
    serve.announce();
    await stopped(context.signal);
    await serve.drain?.();
  } finally {
    await temporary.delete(context.err);
    context.err(`Deleted ${temporary.subscriptions.length} temporary subscription(s).`);
  }
}

/** Resolves when the command is asked to stop (at once if it already was). */
function stopped(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/** "gemini-batch-succeeded" for one route, `<n> topics (prefix "gemini")` for several. */
export function describeTopics(routes: readonly RoutePlan[], prefix: string): string {
  return routes.length === 1 ? routes[0]!.topic : `${routes.length} topics (prefix "${prefix}")`;
}
