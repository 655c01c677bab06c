/**
 * The Pub/Sub topology derived from the event catalog, as plain data. The Pulumi program turns
 * it into cloud resources and the local stack creates the same thing in the emulator, so the
 * two cannot drift apart.
 */
import { ROUTE_KEYS, topicFor, type RouteKey } from './catalog.ts';

export interface RoutePlan {
  /** Catalog event type, or `unrouted`. */
  route: RouteKey;
  /** Topic the receiver publishes this route's events to. */
  topic: string;
  /** Where subscriptions of this route send messages they could not deliver. */
  deadLetterTopic: string;
  /** The dead-letter topic's own subscription, where dead letters wait for inspection and replay. */
  deadLetterSubscription: string;
}

export interface SubscriptionPlan {
  name: string;
  route: RouteKey;
  topic: string;
  deadLetterTopic: string;
}

/**
 * How long Pub/Sub keeps messages: 10 minutes to 31 days, for subscriptions 7 days unless told
 * otherwise (https://cloud.google.com/pubsub/docs/subscription-properties, "Message retention
 * duration"; the same bounds for topics: https://cloud.google.com/pubsub/docs/replay-overview).
 */
export const MIN_RETENTION_SECONDS = 600;
export const MAX_RETENTION_SECONDS = 31 * 24 * 3600;
export const DEFAULT_SUBSCRIPTION_RETENTION_SECONDS = 7 * 24 * 3600;

/** Defaults shared by the cloud and the local stack. */
export const TOPOLOGY_DEFAULTS = {
  /** Pub/Sub allows 5..100; 5 is Pub/Sub's and terraform-google-pubsub's default. */
  maxDeliveryAttempts: 5,
  minimumBackoffSeconds: 10,
  maximumBackoffSeconds: 600,
  /** Pub/Sub's own default: a week to notice and replay a dead letter. */
  deadLetterRetentionSeconds: DEFAULT_SUBSCRIPTION_RETENTION_SECONDS,
  /** Topic retention lets a subscription created later seek back and replay (max 31 days). */
  topicRetentionSeconds: DEFAULT_SUBSCRIPTION_RETENTION_SECONDS,
} as const;

export const MIN_DELIVERY_ATTEMPTS = 5;
export const MAX_DELIVERY_ATTEMPTS = 100;

export function planRoute(prefix: string, route: RouteKey): RoutePlan {
  const topic = topicFor(prefix, route);
  return {
    route,
    topic,
    deadLetterTopic: `${topic}-dead-letter`,
    deadLetterSubscription: `${topic}-dead-letter`,
  };
}

/** One route per catalog event type, plus `unrouted`, in catalog order. */
export function planRoutes(prefix: string): RoutePlan[] {
  return ROUTE_KEYS.map((route) => planRoute(prefix, route));
}

// Consumer names become part of subscription ids (and service account ids in the Pulumi program).
const CONSUMER_PATTERN = /^[a-z][a-z0-9-]{0,29}$/;

export function consumerNameProblem(consumer: string): string | undefined {
  if (!CONSUMER_PATTERN.test(consumer) || consumer.endsWith('-')) {
    return (
      "must be 1-30 lowercase letters, digits or '-', " +
      `starting with a letter and not ending with '-' (got ${JSON.stringify(consumer)})`
    );
  }
  // `<topic>-dead-letter` is already the name of each route's dead-letter subscription.
  if (consumer === 'dead-letter')
    return 'must not be "dead-letter": that name belongs to the dead-letter subscriptions';
  return undefined;
}

/** The subscription a named consumer holds on one route: `<topic>-<consumer>`, e.g. `gemini-batch-failed-billing`. */
export function planSubscription(prefix: string, route: RouteKey, consumer: string): SubscriptionPlan {
  const plan = planRoute(prefix, route);
  return {
    name: `${plan.topic}-${consumer}`,
    route,
    topic: plan.topic,
    deadLetterTopic: plan.deadLetterTopic,
  };
}
