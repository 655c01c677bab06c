/**
 * The subscriptions `tail` and `listen` read from: their own, one per topic, so they never take a
 * message from a real consumer. They are deleted when the command stops (Ctrl-C, SIGTERM); if the
 * process dies without cleaning up, Pub/Sub deletes them after a day without activity (the
 * shortest expiration policy it allows, https://cloud.google.com/pubsub/docs/subscription-properties).
 */
import { randomBytes } from 'node:crypto';
import { SubscriptionCloseBehaviors, type Message, type Subscription } from '@google-cloud/pubsub';
import { temporarySubscriptionName, type RoutePlan, type TemporaryPurpose } from '../functions/topology.ts';
import type { CliContext } from './context.ts';
import { describePubSubError, grpcCode, Status, PubSubSetupError, type PubSubHandle } from './pubsub.ts';

const EXPIRATION_SECONDS = 24 * 3600;

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

async function createTemporarySubscriptions(
  handle: PubSubHandle,
  routes: readonly RoutePlan[],
  options: TemporarySubscriptionOptions,
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
  const temporary = await createTemporarySubscriptions(handle, routes, options);
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
