/**
 * Creates in the emulator the topology the cloud gets (functions/topology.ts): every route's
 * topic, its dead-letter topic and that topic's own subscription, plus one consumer subscription
 * per route with a dead-letter policy, as a consumer declared in stack config would have.
 * Idempotent: existing resources are left as they are.
 */
import type { PubSub } from '@google-cloud/pubsub';
import { planRoutes, planSubscription, TOPOLOGY_DEFAULTS, type SubscriptionPlan } from '../../functions/topology.ts';
import { grpcCode, Status } from '../../functions/grpc-status.ts';

async function ignoreExisting(create: () => Promise<unknown>): Promise<void> {
  try {
    await create();
  } catch (error) {
    if (grpcCode(error) !== Status.ALREADY_EXISTS) throw error;
  }
}

export interface LocalTopologyOptions {
  topicPrefix: string;
  /** Consumer name of the per-route subscription (default `local`). */
  consumer?: string;
  maxDeliveryAttempts?: number;
  /** Retry backoff; the emulator honours it, and tests want it short. */
  minimumBackoffSeconds?: number;
  maximumBackoffSeconds?: number;
  ackDeadlineSeconds?: number;
}

export async function createLocalTopology(pubsub: PubSub, options: LocalTopologyOptions): Promise<SubscriptionPlan[]> {
  const consumer = options.consumer ?? 'local';
  const subscriptions: SubscriptionPlan[] = [];
  const projectId = pubsub.projectId;
  for (const route of planRoutes(options.topicPrefix)) {
    await ignoreExisting(() => pubsub.createTopic(route.topic));
    await ignoreExisting(() => pubsub.createTopic(route.deadLetterTopic));
    await ignoreExisting(() => pubsub.topic(route.deadLetterTopic).createSubscription(route.deadLetterSubscription));
    const plan = planSubscription(options.topicPrefix, route.route, consumer);
    await ignoreExisting(() =>
      pubsub.topic(plan.topic).createSubscription(plan.name, {
        ackDeadlineSeconds: options.ackDeadlineSeconds ?? 10,
        deadLetterPolicy: {
          deadLetterTopic: `projects/${projectId}/topics/${plan.deadLetterTopic}`,
          maxDeliveryAttempts: options.maxDeliveryAttempts ?? TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
        },
        retryPolicy: {
          minimumBackoff: { seconds: options.minimumBackoffSeconds ?? TOPOLOGY_DEFAULTS.minimumBackoffSeconds },
          maximumBackoff: { seconds: options.maximumBackoffSeconds ?? TOPOLOGY_DEFAULTS.maximumBackoffSeconds },
        },
      }),
    );
    subscriptions.push(plan);
  }
  return subscriptions;
}
