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

/**
 * The suffixes this project appends to a route's topic to name things of its own: `<topic>-<suffix>`,
 * or `<topic>-<suffix>-<8 hex digits>` for the CLI's temporary subscriptions. A consumer's
 * subscriptions are `<topic>-<consumer>`, so consumerNameProblem refuses every name these could
 * produce. Whatever else comes to generate a name next to a topic's reserves its suffix here.
 */
export const GENERATED_SUFFIXES = {
  /** Each route's dead-letter topic and that topic's own subscription: `<topic>-dead-letter`. */
  deadLetter: 'dead-letter',
  /** `gemini-webhooks tail`'s temporary subscriptions: `<topic>-tail-<8 hex>`. */
  tail: 'tail',
  /** `gemini-webhooks listen`'s temporary subscriptions: `<topic>-listen-<8 hex>`. */
  listen: 'listen',
  /** `gemini-webhooks check`'s temporary subscription for its ping: `<topic>-check-<8 hex>`. */
  check: 'check',
} as const;

/** The CLI commands that make temporary subscriptions: every generated suffix but the dead letters'. */
export type TemporaryPurpose = Exclude<keyof typeof GENERATED_SUFFIXES, 'deadLetter'>;

export function planRoute(prefix: string, route: RouteKey): RoutePlan {
  const topic = topicFor(prefix, route);
  return {
    route,
    topic,
    deadLetterTopic: `${topic}-${GENERATED_SUFFIXES.deadLetter}`,
    deadLetterSubscription: `${topic}-${GENERATED_SUFFIXES.deadLetter}`,
  };
}

/** A temporary subscription of the CLI on a topic: `<topic>-<purpose>-<tag>`, `tag` 8 hex digits. */
export function temporarySubscriptionName(topic: string, purpose: TemporaryPurpose, tag: string): string {
  return `${topic}-${GENERATED_SUFFIXES[purpose]}-${tag}`;
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
  // `<topic>-<consumer>` must never be a name this project generates next to a topic.
  for (const suffix of Object.values(GENERATED_SUFFIXES)) {
    if (consumer === suffix || consumer.startsWith(`${suffix}-`)) {
      return (
        `must not be "${suffix}" or start with "${suffix}-": ` +
        `subscriptions named <topic>-${suffix}… are the project's own (got ${JSON.stringify(consumer)})`
      );
    }
  }
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
