/**
 * A consumer of events, as an argument (`Consumer`, one entry of the `subscriptions` setting and the
 * shape EventSubscription takes) and as checked (`ConsumerSettings`). Pure.
 */
import * as pulumi from '@pulumi/pulumi';
import { ROUTE_KEYS, type RouteKey } from '../functions/catalog.ts';
import { isRecord } from '../functions/records.ts';
import { consumerNameProblem } from '../functions/topology.ts';
import { isServiceAccountEmail } from './gcp-ids.ts';
import { SETTINGS } from './setting-table.ts';
import { fail, shown } from './setting-values.ts';

/**
 * Seconds a consumer has to acknowledge a message: Pub/Sub allows 10 to 600
 * (https://cloud.google.com/pubsub/docs/subscription-properties, "Acknowledgment deadline"); 60 unless `ackDeadlineSeconds` says otherwise.
 * The JSDoc of Consumer and EventSubscriptionArgs restates these; test/unit/setting-table.test.ts checks it.
 */
export const ACK_DEADLINE_SECONDS = { min: 10, max: 600, default: 60 } as const;
export const DEFAULT_ACK_DEADLINE_SECONDS = ACK_DEADLINE_SECONDS.default;
const MAX_FILTER_BYTES = 256;
const CONSUMER_FIELDS = new Set(['name', 'eventTypes', 'push', 'filter', 'ackDeadlineSeconds', 'exactlyOnce']);
const PUSH_FIELDS = new Set(['endpoint', 'serviceAccountEmail', 'audience']);

function httpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Push delivery of a consumer's subscriptions. */
export interface PushDelivery {
  /** HTTPS endpoint Pub/Sub pushes each event to. */
  endpoint: pulumi.Input<string>;
  /**
   * Service account whose OIDC token authenticates each push. Omitted: a dedicated one is created for
   * the consumer (grant it access to your endpoint, e.g. roles/run.invoker). An account you pass is yours
   * to manage: in a project created before April 2021 the Pub/Sub service agent also needs
   * roles/iam.serviceAccountTokenCreator on it, which is granted only on an account created here.
   */
  serviceAccountEmail?: pulumi.Input<string>;
  /** `aud` of the OIDC token; Pub/Sub uses the endpoint URL when omitted. */
  audience?: pulumi.Input<string>;
}

/** A service that consumes events: one subscription per event type, with retries and a dead-letter topic. */
export interface Consumer {
  /** Consumer name: 1-30 lowercase letters, digits or '-'; part of every subscription id (`<topic>-<name>`). */
  name: string;
  /** Event types to receive: catalog types, `unrouted`, or `*` for all; one subscription each. */
  eventTypes: string[];
  /** Push delivery with an OIDC token; pull when omitted. */
  push?: PushDelivery;
  /**
   * Pub/Sub filter on message attributes, e.g. `attributes.user_metadata_tenant = "acme"` (at most 256
   * bytes). Fixed once the subscriptions exist: a later change is refused rather than delete their backlog.
   */
  filter?: string;
  /** Seconds the consumer has to acknowledge a message (10-600). Default 60. */
  ackDeadlineSeconds?: number;
  /** Exactly-once delivery; pull subscriptions only. Default false. */
  exactlyOnce?: boolean;
}

export interface ConsumerSettings {
  name: string;
  /** Routes (catalog event types or `unrouted`), in catalog order. */
  eventTypes: RouteKey[];
  push?: PushDelivery;
  filter?: string;
  ackDeadlineSeconds: number;
  exactlyOnce: boolean;
}

const CONSUMER_EXAMPLE = SETTINGS.subscriptions.example;

/** Validates one consumer; `where` names it in errors (`subscriptions[2]`). */
export function resolveConsumer(value: unknown, where: string): ConsumerSettings {
  const bad = (problem: string): never =>
    fail('subscriptions', `${where} ${problem}`.trim(), { example: CONSUMER_EXAMPLE });
  if (!isRecord(value)) return bad('is not an object');
  for (const field of Object.keys(value)) {
    if (!CONSUMER_FIELDS.has(field))
      bad(`has unknown field ${shown(field)} (known: ${[...CONSUMER_FIELDS].join(', ')})`);
  }
  const name = value['name'];
  if (typeof name !== 'string') return bad('needs a string `name`');
  const nameProblem = consumerNameProblem(name);
  if (nameProblem !== undefined) bad(`name ${nameProblem}`);

  const types = value['eventTypes'];
  if (!Array.isArray(types) || types.length === 0) {
    return bad('needs a non-empty `eventTypes` list (catalog types, "unrouted", or "*")');
  }
  const routes = new Set<RouteKey>();
  for (const type of types) {
    if (type === '*') ROUTE_KEYS.forEach((route) => routes.add(route));
    else if (typeof type === 'string' && (ROUTE_KEYS as readonly string[]).includes(type)) routes.add(type as RouteKey);
    else bad(`lists unknown event type ${shown(type)} (known: ${ROUTE_KEYS.join(', ')}, or "*")`);
  }
  // Catalog order keeps resource creation order stable whatever order the user wrote.
  const eventTypes = ROUTE_KEYS.filter((route) => routes.has(route));

  let push: PushDelivery | undefined;
  const p = value['push'];
  if (p !== undefined && p !== null) {
    if (!isRecord(p)) return bad('has a `push` that is not an object');
    for (const field of Object.keys(p)) {
      if (!PUSH_FIELDS.has(field))
        bad(`push has unknown field ${shown(field)} (known: ${[...PUSH_FIELDS].join(', ')})`);
    }
    // An endpoint another resource outputs is checked by Pub/Sub itself; a written one is checked here.
    const endpoint = p['endpoint'];
    if (!pulumi.Output.isInstance(endpoint) && (typeof endpoint !== 'string' || !httpsUrl(endpoint))) {
      return bad('push.endpoint must be an https:// URL');
    }
    push = { endpoint: endpoint as pulumi.Input<string> };
    const email = p['serviceAccountEmail'];
    if (email !== undefined && email !== null) {
      if (!pulumi.Output.isInstance(email) && (typeof email !== 'string' || !isServiceAccountEmail(email))) {
        bad(
          'push.serviceAccountEmail must be a service account email (…@<project>.iam.gserviceaccount.com, ' +
            '…@developer.gserviceaccount.com or …@appspot.gserviceaccount.com)',
        );
      }
      push.serviceAccountEmail = email as pulumi.Input<string>;
    }
    const audience = p['audience'];
    if (audience !== undefined && audience !== null) {
      if (!pulumi.Output.isInstance(audience) && (typeof audience !== 'string' || audience === '')) {
        bad('push.audience must be a non-empty string');
      }
      push.audience = audience as pulumi.Input<string>;
    }
  }

  let filter: string | undefined;
  const f = value['filter'];
  if (f !== undefined && f !== null) {
    if (typeof f !== 'string' || f.trim() === '') return bad('filter must be a non-empty Pub/Sub filter string');
    if (Buffer.byteLength(f) > MAX_FILTER_BYTES) bad(`filter is longer than Pub/Sub's ${MAX_FILTER_BYTES} bytes`);
    filter = f;
  }

  const ack = value['ackDeadlineSeconds'] ?? DEFAULT_ACK_DEADLINE_SECONDS;
  const { min, max } = ACK_DEADLINE_SECONDS;
  if (typeof ack !== 'number' || !Number.isInteger(ack) || ack < min || ack > max) {
    bad(`ackDeadlineSeconds must be a whole number from ${min} to ${max}`);
  }
  const exactlyOnce = value['exactlyOnce'] ?? false;
  if (typeof exactlyOnce !== 'boolean') bad('exactlyOnce must be true or false');
  if (exactlyOnce === true && push !== undefined) {
    bad('asks for exactlyOnce, which Pub/Sub offers only to pull subscriptions (drop `push` or `exactlyOnce`)');
  }

  const consumer: ConsumerSettings = {
    name,
    eventTypes,
    ackDeadlineSeconds: ack as number,
    exactlyOnce: exactlyOnce as boolean,
  };
  if (push !== undefined) consumer.push = push;
  if (filter !== undefined) consumer.filter = filter;
  return consumer;
}

export function resolveConsumers(value: unknown): ConsumerSettings[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail('subscriptions', 'is not a list of consumers', { example: CONSUMER_EXAMPLE });
  const consumers = value.map((entry, index) => resolveConsumer(entry, `subscriptions[${index}]`));
  const names = new Set<string>();
  for (const consumer of consumers) {
    if (names.has(consumer.name)) {
      fail('subscriptions', `names consumer ${shown(consumer.name)} twice`, {
        fix: 'give every consumer its own name',
      });
    }
    names.add(consumer.name);
  }
  return consumers;
}
