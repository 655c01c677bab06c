/**
 * Each consumer's subscriptions: they exist, each sends what it cannot deliver to its route's
 * dead-letter topic, and the Pub/Sub service agent may move messages there (publisher on the
 * dead-letter topic, subscriber on the subscription:
 * https://cloud.google.com/pubsub/docs/handling-failures#grant_forwarding_permissions). Without those
 * grants Pub/Sub cannot dead-letter, and a failing message is redelivered forever.
 */
import type { Subscription } from '@google-cloud/pubsub';
import { ROUTE_KEYS, type RouteKey } from '../../functions/catalog.ts';
import { planRoute, planRoutes } from '../../functions/topology.ts';
import { grpcCode, Status, type PubSubHandle } from '../pubsub.ts';
import { TEMPORARY_LABEL } from '../temporary-subscriptions.ts';
import { failed, passed, skipped, type HopResult } from './hops.ts';

/** consumer -> route -> subscription id. */
export type Consumers = Record<string, Record<string, string>>;

const TEMPORARY_NAME = /-(?:tail|listen|check)-[0-9a-f]{8}$/;

/** The consumers of a deployment without stack outputs (the local stack): `<topic>-<consumer>` on each topic. */
export async function discoverConsumers(handle: PubSubHandle, prefix: string): Promise<Consumers> {
  const consumers: Consumers = {};
  for (const route of planRoutes(prefix)) {
    let subscriptions: Subscription[];
    try {
      [subscriptions] = await handle.pubsub.topic(route.topic).getSubscriptions();
    } catch (error) {
      if (grpcCode(error) === Status.NOT_FOUND) continue;
      throw error;
    }
    for (const subscription of subscriptions) {
      const id = subscription.name.split('/').at(-1)!;
      if (!id.startsWith(`${route.topic}-`) || TEMPORARY_NAME.test(id)) continue;
      const consumer = id.slice(route.topic.length + 1);
      (consumers[consumer] ??= {})[route.route] = id;
    }
  }
  return consumers;
}

export interface SubscriptionState {
  route: string;
  id: string;
  exists: boolean;
  deadLetterTopic?: string;
}

export function judgeConsumer(
  consumer: string,
  states: readonly SubscriptionState[],
  projectId: string,
  prefix: string,
  local: boolean,
): HopResult {
  const hop = `consumer ${consumer}`;
  const missing = states.filter((state) => !state.exists);
  const wrong = states.filter((state) => {
    if (!state.exists) return false;
    const expected = `projects/${projectId}/topics/${planRoute(prefix, state.route as RouteKey).deadLetterTopic}`;
    return state.deadLetterTopic !== expected;
  });
  if (missing.length === 0 && wrong.length === 0)
    return passed(hop, `${states.length} subscription(s) exist, each dead-lettering to its route's dead-letter topic.`);
  const problems = [
    ...missing.map((state) => `${state.id} does not exist`),
    ...wrong.map((state) =>
      state.deadLetterTopic
        ? `${state.id} dead-letters to ${state.deadLetterTopic}`
        : `${state.id} has no dead-letter policy (a failing message is redelivered forever)`,
    ),
  ];
  const first = wrong[0];
  const fix = local
    ? first
      ? `gcloud pubsub subscriptions update ${first.id} ` +
        `--dead-letter-topic=${planRoute(prefix, first.route as RouteKey).deadLetterTopic} ` +
        '--max-delivery-attempts=5 (with CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB pointing at the emulator), ' +
        'or restart `npm start`.'
      : 'restart `npm start`, which creates the topology.'
    : '`pulumi up` puts back what the stack declares (`pulumi refresh` first when it was changed by hand).';
  return failed(hop, `${problems.join('; ')}.`, fix);
}

export async function consumerHops(
  handle: PubSubHandle,
  consumers: Consumers,
  prefix: string,
  local: boolean,
): Promise<{ results: HopResult[]; states: Map<string, SubscriptionState[]> }> {
  const results: HopResult[] = [];
  const all = new Map<string, SubscriptionState[]>();
  for (const [consumer, routes] of Object.entries(consumers)) {
    const states: SubscriptionState[] = [];
    for (const route of ROUTE_KEYS) {
      const id = routes[route];
      if (id === undefined) continue;
      try {
        const [metadata] = await handle.pubsub.subscription(id).getMetadata();
        if (metadata.labels?.[TEMPORARY_LABEL]) continue;
        const deadLetterTopic = metadata.deadLetterPolicy?.deadLetterTopic || undefined;
        states.push({ route, id, exists: true, ...(deadLetterTopic ? { deadLetterTopic } : {}) });
      } catch (error) {
        if (grpcCode(error) !== Status.NOT_FOUND) throw error;
        states.push({ route, id, exists: false });
      }
    }
    all.set(consumer, states);
    results.push(judgeConsumer(consumer, states, handle.projectId, prefix, local));
  }
  return { results, states: all };
}

export interface IamPolicy {
  bindings?: Array<{ role?: string | null; members?: string[] | null }> | null;
}

export function grants(policy: IamPolicy, role: string, member: string): boolean {
  return (policy.bindings ?? []).some((binding) => binding.role === role && (binding.members ?? []).includes(member));
}

/** The Pub/Sub service agent of a project, by its number. */
export function pubsubServiceAgent(projectNumber: string): string {
  return `serviceAccount:service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;
}

/**
 * One line per consumer: which grants the service agent lacks. `projectNumber` undefined means it could
 * not be read (the reason is in `why`).
 */
export async function iamHops(
  handle: PubSubHandle,
  states: Map<string, SubscriptionState[]>,
  prefix: string,
  projectNumber: string | undefined,
  why: string,
): Promise<HopResult[]> {
  const results: HopResult[] = [];
  if (projectNumber === undefined) {
    for (const consumer of states.keys()) results.push(skipped(`iam ${consumer}`, why));
    return results;
  }
  const agent = pubsubServiceAgent(projectNumber);
  const topicPolicies = new Map<string, IamPolicy>();
  for (const [consumer, subscriptions] of states) {
    const hop = `iam ${consumer}`;
    const lacking: string[] = [];
    try {
      for (const state of subscriptions.filter((s) => s.exists)) {
        const deadLetterTopic = planRoute(prefix, state.route as RouteKey).deadLetterTopic;
        if (!topicPolicies.has(deadLetterTopic)) {
          const [policy] = await handle.pubsub.topic(deadLetterTopic).iam.getPolicy();
          topicPolicies.set(deadLetterTopic, policy);
        }
        if (!grants(topicPolicies.get(deadLetterTopic)!, 'roles/pubsub.publisher', agent))
          lacking.push(`publisher on ${deadLetterTopic}`);
        const [policy] = await handle.pubsub.subscription(state.id).iam.getPolicy();
        if (!grants(policy, 'roles/pubsub.subscriber', agent)) lacking.push(`subscriber on ${state.id}`);
      }
    } catch (error) {
      results.push(skipped(hop, `cannot read IAM policies: ${((error as Error).message ?? '').split('\n')[0]}`));
      continue;
    }
    results.push(
      lacking.length === 0
        ? passed(hop, `the Pub/Sub service agent may dead-letter every subscription of ${consumer}.`)
        : failed(
            hop,
            `the Pub/Sub service agent (${agent.slice('serviceAccount:'.length)}) lacks ` +
              `${[...new Set(lacking)].join(', ')}: failing messages cannot be dead-lettered.`,
            '`pulumi up` (the stack grants both per resource).',
          ),
    );
  }
  return results;
}
