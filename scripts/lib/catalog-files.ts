/**
 * What is generated from the event catalog (functions/catalog.ts): the subscriber kit's list of event
 * types (packages/subscriber/src/event-types.ts, a file of its own so the kit needs nothing from functions/) and
 * the catalog table of docs/protocol.md. `npm run docs` writes them; test/unit/generated-files.test.ts
 * holds them equal.
 */
import {
  DEFAULT_TOPIC_PREFIX,
  EVENT_TYPES,
  ROUTE_KEYS,
  SUBSCRIBABLE_EVENT_TYPES,
  topicFor,
  UNROUTED,
} from '../../functions/catalog.ts';
import { planRoute } from '../../functions/topology.ts';
import { table } from './markdown.ts';

/** packages/subscriber/src/event-types.ts */
export function subscriberEventTypesFile(types: readonly string[] = EVENT_TYPES): string {
  return [
    '// Generated from functions/catalog.ts by `npm run docs`: edit the catalog, not this file.',
    '',
    '/** Every event type the receiver routes to a topic of its own; any other type arrives as `unknown`. */',
    'export const GEMINI_EVENT_TYPES = [',
    ...types.map((type) => `  '${type}',`),
    '] as const;',
    '',
    'export type GeminiEventType = (typeof GEMINI_EVENT_TYPES)[number];',
    '',
    'const KNOWN = new Set<unknown>(GEMINI_EVENT_TYPES);',
    '',
    'export function isGeminiEventType(value: unknown): value is GeminiEventType {',
    '  return KNOWN.has(value);',
    '}',
    '',
  ].join('\n');
}

/** The catalog as docs/protocol.md shows it: each type, whether Gemini lets you subscribe to it, its topics. */
export function eventCatalogTable(): string {
  const subscribable = new Set<string>(SUBSCRIBABLE_EVENT_TYPES);
  const rows = ROUTE_KEYS.map((route) => {
    const plan = planRoute(DEFAULT_TOPIC_PREFIX, route);
    const type = route === UNROUTED ? 'any other type, or none' : `\`${route}\``;
    const subscribe = route === UNROUTED ? '-' : subscribable.has(route) ? 'yes' : 'listed in the guide only';
    return [type, subscribe, `\`${topicFor(DEFAULT_TOPIC_PREFIX, route)}\``, `\`${plan.deadLetterTopic}\``];
  });
  return table(['event type', 'subscribable', 'topic', 'dead-letter topic'], rows);
}
