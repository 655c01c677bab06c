/**
 * The event catalog: the one place that knows which Gemini webhook event types exist and which
 * Pub/Sub topic each one lands on. The receiver routes with it, the local stack and the Pulumi
 * program build their topology from it; nothing else spells a topic name.
 *
 * Routing never builds a topic name from an untrusted string: a type that is not listed here,
 * and a verified body without a readable `type`, go to the `unrouted` topic.
 */

/** Event types that can be subscribed to through the WebhookService API today. */
export const SUBSCRIBABLE_EVENT_TYPES = [
  'batch.succeeded',
  'batch.failed',
  'batch.expired',
  'interaction.requires_action',
  'interaction.completed',
  'interaction.failed',
  'video.generated',
] as const;

/**
 * Listed in the Gemini guide's catalog but no longer subscribable through the SDK. They get
 * topics of their own anyway: if Gemini ever sends them, they should not be mixed into `unrouted`.
 */
export const CATALOGUED_ONLY_EVENT_TYPES = ['batch.cancelled', 'interaction.cancelled'] as const;

export const EVENT_TYPES = [...SUBSCRIBABLE_EVENT_TYPES, ...CATALOGUED_ONLY_EVENT_TYPES] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type SubscribableEventType = (typeof SUBSCRIBABLE_EVENT_TYPES)[number];

/** Route key of events whose type is unknown or missing. */
export const UNROUTED = 'unrouted';

/** A route is a catalog event type or `unrouted`; each route has exactly one topic. */
export type RouteKey = EventType | typeof UNROUTED;

export const ROUTE_KEYS: readonly RouteKey[] = [...EVENT_TYPES, UNROUTED];

export const DEFAULT_TOPIC_PREFIX = 'gemini';

const KNOWN = new Set<string>(EVENT_TYPES);

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && KNOWN.has(value);
}

/** The route for a type string taken from a (verified) body; anything unknown is `unrouted`. */
export function routeFor(type: unknown): RouteKey {
  return isEventType(type) ? type : UNROUTED;
}

// Topic and subscription ids: 3-255 characters, start with a letter, letters, digits and
// `-_.~+%` only, and must not start with "goog". The prefix is kept to a conservative subset so
// that every name derived from it (topic, dead-letter topic, subscriptions) stays valid.
const PREFIX_PATTERN = /^[a-z][a-z0-9-]{0,62}$/;
export const MAX_TOPIC_PREFIX_LENGTH = 63;

/** Why a topic prefix is unusable, or undefined when it is fine. */
export function topicPrefixProblem(prefix: string): string | undefined {
  if (!PREFIX_PATTERN.test(prefix)) {
    return (
      `must be 1-${MAX_TOPIC_PREFIX_LENGTH} lowercase letters, digits or '-', ` +
      `starting with a letter (got ${JSON.stringify(prefix)})`
    );
  }
  if (prefix.startsWith('goog')) return `must not start with "goog" (Pub/Sub reserves it)`;
  if (prefix.endsWith('-')) return `must not end with '-' (got ${JSON.stringify(prefix)})`;
  return undefined;
}

/** `batch.succeeded` -> `batch-succeeded`; `interaction.requires_action` -> `interaction-requires-action`. */
export function routeSlug(route: RouteKey): string {
  return route.replace(/[._]/g, '-');
}

/** The topic id for a route: `<prefix>-<slug>`, e.g. `gemini-batch-succeeded`, `gemini-unrouted`. */
export function topicFor(prefix: string, route: RouteKey): string {
  return `${prefix}-${routeSlug(route)}`;
}
