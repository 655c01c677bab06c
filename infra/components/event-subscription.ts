import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { isEventType, UNROUTED, type RouteKey } from '../../functions/catalog.ts';
import {
  consumerNameProblem,
  MAX_DELIVERY_ATTEMPTS,
  MIN_DELIVERY_ATTEMPTS,
  TOPOLOGY_DEFAULTS,
} from '../../functions/topology.ts';
import {
  planConsumerSubscriptions,
  planDeadLetterSubscriberGrants,
  pushServiceAccountIdFor,
  seconds,
} from '../plan.ts';
import { filterChangeProblem } from '../subscription-filter.ts';
import { inheritedDependsOn } from './options.ts';
import { pubsubServiceIdentity } from './serviceAgent.ts';

export interface EventSubscriptionPushArgs {
  /** HTTPS endpoint Pub/Sub pushes each event to. */
  endpoint: pulumi.Input<string>;
  /**
   * Service account whose OIDC token Pub/Sub attaches to each push. Omit it to have this component
   * create a dedicated one (grant it access to your endpoint, e.g. roles/run.invoker). An account
   * you pass is yours to manage: in a project created before April 2021 the Pub/Sub service agent
   * also needs roles/iam.serviceAccountTokenCreator on it, which this component grants only on the
   * account it creates (yours may live in another project, where it has no say).
   */
  serviceAccountEmail?: pulumi.Input<string>;
  /** `aud` of the OIDC token; Pub/Sub uses the endpoint URL when omitted. */
  audience?: pulumi.Input<string>;
}

export interface EventSubscriptionArgs {
  /** Project of the deployed event bus (domain-scoped ids such as `example.com:my-project` too). */
  project: pulumi.Input<string>;
  /**
   * IAM member of the Pub/Sub service agent, which forwards dead letters and mints push tokens:
   * pass the `member` output of your `gcp.projects.ServiceIdentity` for `pubsub.googleapis.com`.
   * When omitted, this component creates that ServiceIdentity itself (a no-op when the agent
   * exists), so that no grant runs before Google has created the agent.
   */
  pubsubServiceAgentMember?: pulumi.Input<string>;
  /** The bus's topic prefix (stack output `topicPrefix`, default `gemini`). */
  topicPrefix: string;
  /** Consumer name: 1-30 lowercase letters, digits or '-'. Part of every subscription id. */
  consumer: string;
  /** Routes to receive (catalog event types and/or `unrouted`); one subscription each. */
  eventTypes: readonly RouteKey[];
  /** Push delivery with an OIDC token; pull when omitted. */
  push?: EventSubscriptionPushArgs;
  /**
   * Pub/Sub filter on message attributes, e.g. `attributes.user_metadata_tenant = "acme"`. Fixed
   * once a subscription exists: changing it later fails the update with the ways forward, rather
   * than replace the subscriptions and delete their backlog.
   */
  filter?: string;
  /** Seconds a consumer has to ack (10-600). Default 60. */
  ackDeadlineSeconds?: number;
  /** Exactly-once delivery; pull subscriptions only. Default false. */
  exactlyOnce?: boolean;
  /** Deliveries before a message goes to the route's dead-letter topic (5-100). Default 5. */
  maxDeliveryAttempts?: number;
  /** Retry backoff bounds in seconds (0-600). Defaults 10 and 600. */
  minimumBackoffSeconds?: number;
  maximumBackoffSeconds?: number;
  labels?: Record<string, string>;
}

/**
 * A consumer's subscriptions on the deployed event bus: one per route, each with a retry policy
 * and a dead-letter policy to that route's dead-letter topic, and the Pub/Sub service agent
 * allowed to pull from it (which dead-lettering needs). The bus already lets the agent publish to
 * the dead-letter topics. Reusable from another Pulumi program:
 *
 * ```ts
 * import { EventSubscription } from 'gemini-webhooks-pubsub/infra/components/index.ts';
 * new EventSubscription('billing', { project: 'my-project', topicPrefix: 'gemini', consumer: 'billing',
 *   eventTypes: ['batch.succeeded', 'batch.failed'], push: { endpoint: 'https://billing.example.com/gemini' } });
 * ```
 */
export class EventSubscription extends pulumi.ComponentResource {
  /** Subscriptions keyed by route. */
  public readonly subscriptions: ReadonlyMap<RouteKey, gcp.pubsub.Subscription>;
  /** Subscription ids keyed by route. */
  public readonly subscriptionNames: Record<string, pulumi.Output<string>>;
  /** The push identity this component created, when it created one. */
  public readonly pushServiceAccount?: gcp.serviceaccount.Account;
  /** Email of the identity in the push OIDC token, when pushing. */
  public readonly pushServiceAccountEmail?: pulumi.Output<string>;
  /**
   * The filter of each subscription, in plan order ('' for none); fails with a RunError when a
   * deployed subscription's filter differs from the configured one.
   */
  public readonly deployedFilters: pulumi.Output<string[]>;

  constructor(name: string, args: EventSubscriptionArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks:pubsub:EventSubscription', name, {}, opts);
    validateArgs(name, args);
    const after = inheritedDependsOn(opts);
    const child = { parent: this, dependsOn: after };

    const agentMember =
      args.pubsubServiceAgentMember ?? pubsubServiceIdentity(`${name}-pubsub-agent`, args.project, child).member;

    let pushEmail: pulumi.Output<string> | undefined;
    if (args.push !== undefined) {
      if (args.push.serviceAccountEmail !== undefined) {
        pushEmail = pulumi.output(args.push.serviceAccountEmail);
      } else {
        this.pushServiceAccount = new gcp.serviceaccount.Account(
          `${name}-push`,
          {
            project: args.project,
            accountId: pushServiceAccountIdFor(args.topicPrefix, args.consumer),
            displayName: `Gemini webhooks push identity (${args.consumer})`,
            description: `Signs the OIDC tokens of pushes to consumer ${args.consumer}.`,
          },
          child,
        );
        pushEmail = this.pushServiceAccount.email;
        // Projects created before April 2021 need the agent to mint tokens for the push identity;
        // the grant is on this one service account only.
        new gcp.serviceaccount.IAMMember(
          `${name}-push-token-creator`,
          {
            serviceAccountId: this.pushServiceAccount.name,
            role: 'roles/iam.serviceAccountTokenCreator',
            member: agentMember,
          },
          { parent: this },
        );
      }
      this.pushServiceAccountEmail = pushEmail;
    }

    const plans = planConsumerSubscriptions(args.topicPrefix, args.consumer, args.eventTypes);
    const grants = new Map(planDeadLetterSubscriberGrants(plans, agentMember).map((g) => [g.resource, g]));
    const subscriptions = new Map<RouteKey, gcp.pubsub.Subscription>();
    const deployedFilters: pulumi.Output<{ subscription: string; filter: string }>[] = [];
    for (const plan of plans) {
      const subscriptionArgs: gcp.pubsub.SubscriptionArgs = {
        project: args.project,
        name: plan.name,
        topic: plan.topic,
        ackDeadlineSeconds: args.ackDeadlineSeconds ?? 60,
        messageRetentionDuration: seconds(7 * 24 * 3600),
        expirationPolicy: { ttl: '' },
        retryPolicy: {
          minimumBackoff: seconds(args.minimumBackoffSeconds ?? TOPOLOGY_DEFAULTS.minimumBackoffSeconds),
          maximumBackoff: seconds(args.maximumBackoffSeconds ?? TOPOLOGY_DEFAULTS.maximumBackoffSeconds),
        },
        deadLetterPolicy: {
          deadLetterTopic: pulumi.interpolate`projects/${args.project}/topics/${plan.deadLetterTopic}`,
          maxDeliveryAttempts: args.maxDeliveryAttempts ?? TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
        },
        enableExactlyOnceDelivery: args.exactlyOnce ?? false,
        labels: { ...args.labels, consumer: args.consumer, route: plan.slug },
      };
      if (args.filter !== undefined) subscriptionArgs.filter = args.filter;
      if (args.push !== undefined && pushEmail !== undefined) {
        const oidcToken: gcp.types.input.pubsub.SubscriptionPushConfigOidcToken = { serviceAccountEmail: pushEmail };
        if (args.push.audience !== undefined) oidcToken.audience = args.push.audience;
        subscriptionArgs.pushConfig = { pushEndpoint: args.push.endpoint, oidcToken };
      }
      // Pulumi diffs an ignored property against the value in the state, and still uses the
      // program's value when it creates the resource
      // (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/): a filter change never
      // plans a replacement, and the resource's `filter` output stays the deployed filter.
      const subscription = new gcp.pubsub.Subscription(`${name}-${plan.slug}`, subscriptionArgs, {
        ...child,
        ignoreChanges: ['filter'],
      });
      deployedFilters.push(subscription.filter.apply((filter) => ({ subscription: plan.name, filter: filter ?? '' })));
      const grant = grants.get(plan.name);
      if (grant === undefined)
        throw new Error(`EventSubscription ${name}: no subscriber grant planned for ${plan.name}`);
      new gcp.pubsub.SubscriptionIAMMember(
        `${name}-${plan.slug}-dead-letter-subscriber`,
        {
          project: args.project,
          subscription: subscription.name,
          role: grant.role,
          member: grant.member,
        },
        { parent: this },
      );
      subscriptions.set(plan.route, subscription);
    }
    this.subscriptions = subscriptions;
    this.subscriptionNames = Object.fromEntries([...subscriptions].map(([route, sub]) => [route, sub.name]));
    // On create a subscription's outputs are its inputs, so a fresh deploy always passes; later,
    // `filter` is the deployed filter (from the state, also in `pulumi preview`), and a different
    // configured one is refused. The RunError fails the run like any error in the program, and
    // Pulumi prints a RunError as its message alone.
    this.deployedFilters = pulumi.all(deployedFilters).apply((deployed) => {
      const problem = filterChangeProblem(args.consumer, args.filter ?? '', deployed);
      if (problem !== undefined) throw new pulumi.RunError(problem);
      return deployed.map((d) => d.filter);
    });
    this.registerOutputs({
      subscriptionNames: this.subscriptionNames,
      pushServiceAccountEmail: this.pushServiceAccountEmail,
    });
  }
}

function validateArgs(name: string, args: EventSubscriptionArgs): void {
  const bad = (problem: string): never => {
    throw new Error(`EventSubscription ${name}: ${problem}`);
  };
  const consumerProblem = consumerNameProblem(args.consumer);
  if (consumerProblem !== undefined) bad(`consumer ${consumerProblem}`);
  if (args.eventTypes.length === 0) bad('eventTypes is empty');
  for (const type of args.eventTypes) {
    if (!isEventType(type) && type !== UNROUTED)
      bad(`eventTypes lists ${JSON.stringify(type)}, which is not a catalog event type or "unrouted"`);
  }
  if (new Set(args.eventTypes).size !== args.eventTypes.length) bad('eventTypes lists a type twice');
  const attempts = args.maxDeliveryAttempts ?? TOPOLOGY_DEFAULTS.maxDeliveryAttempts;
  if (!Number.isInteger(attempts) || attempts < MIN_DELIVERY_ATTEMPTS || attempts > MAX_DELIVERY_ATTEMPTS) {
    bad(`maxDeliveryAttempts must be ${MIN_DELIVERY_ATTEMPTS}-${MAX_DELIVERY_ATTEMPTS} (got ${attempts})`);
  }
  const ack = args.ackDeadlineSeconds ?? 60;
  if (!Number.isInteger(ack) || ack < 10 || ack > 600) bad(`ackDeadlineSeconds must be 10-600 (got ${ack})`);
  if (args.exactlyOnce === true && args.push !== undefined) bad('exactlyOnce is available to pull subscriptions only');
  const min = args.minimumBackoffSeconds ?? TOPOLOGY_DEFAULTS.minimumBackoffSeconds;
  const max = args.maximumBackoffSeconds ?? TOPOLOGY_DEFAULTS.maximumBackoffSeconds;
  if (min < 0 || max > 600 || min > max) bad(`backoff must satisfy 0 <= minimum (${min}) <= maximum (${max}) <= 600`);
}
