/**
 * Publishing to Pub/Sub: one `Topic` per route, created once and reused, tuned for latency
 * (a webhook sender is waiting on every publish). Knows nothing about HTTP.
 *
 * Messages published in the same tick share one Publish RPC, and Pub/Sub refuses a whole RPC for
 * one message outside its limits, failing every message batched with it (the emulator answers a
 * retryable error, so they all wait out the deadline). So a message is checked against those
 * limits before it joins a batch, and one that fails is refused on its own, at once.
 */
import type { PubSub, Topic } from '@google-cloud/pubsub';
import { ROUTE_KEYS, topicFor, type RouteKey } from './catalog.ts';
import { grpcCode, Status } from './grpc-status.ts';
import { messageProblem } from './pubsub-limits.ts';

export class PublishError extends Error {
  override name = 'PublishError';
  /** gRPC status code when Pub/Sub gave one (e.g. 5 NOT_FOUND, 14 UNAVAILABLE). */
  readonly code: number | undefined;
  readonly timedOut: boolean;
  constructor(message: string, options: { code?: number | undefined; timedOut?: boolean; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.timedOut = options.timedOut ?? false;
  }
}

export interface Published {
  messageId: string;
  topic: string;
}

export interface EventBus {
  /** Resolves once Pub/Sub has accepted the message; rejects with PublishError otherwise. */
  publish(route: RouteKey, data: Buffer, attributes: Record<string, string>): Promise<Published>;
  close(): Promise<void>;
}

export interface PubSubEventBusOptions {
  topicPrefix: string;
  /** Upper bound for one publish, retries included. */
  publishTimeoutMs: number;
}

export function createPubSubEventBus(pubsub: PubSub, options: PubSubEventBusOptions): EventBus {
  const topics = new Map<RouteKey, Topic>();
  for (const route of ROUTE_KEYS) {
    topics.set(
      route,
      pubsub.topic(topicFor(options.topicPrefix, route), {
        // Send as soon as a timer of 0 ms fires (Node runs it after at least 1 ms) instead of
        // waiting the default 10 ms for a batch to fill; messages published meanwhile share one RPC.
        batching: { maxMessages: 100, maxMilliseconds: 0 },
        // gax applies `timeout` to the whole call, retries included, so a dead Pub/Sub does not
        // keep bodies in memory long after the sender was told to retry.
        gaxOpts: { timeout: options.publishTimeoutMs },
      }),
    );
  }

  return {
    async publish(route, data, attributes) {
      const topic = topics.get(route);
      if (!topic) throw new PublishError(`no topic for route ${route}`, {});
      const problem = messageProblem(data, attributes);
      if (problem !== undefined) {
        throw new PublishError(`message for ${topic.name} not sent: Pub/Sub would refuse ${problem}`, {
          code: Status.INVALID_ARGUMENT,
        });
      }
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new PublishError(`publish to ${topic.name} did not finish within ${options.publishTimeoutMs} ms`, {
                timedOut: true,
              }),
            ),
          options.publishTimeoutMs,
        );
      });
      try {
        const messageId = await Promise.race([topic.publishMessage({ data, attributes }), deadline]);
        return { messageId, topic: topic.name };
      } catch (error) {
        if (error instanceof PublishError) throw error;
        throw new PublishError(`publish to ${topic.name} failed: ${(error as Error).message}`, {
          code: grpcCode(error),
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      await Promise.allSettled([...topics.values()].map((topic) => topic.flush()));
    },
  };
}
