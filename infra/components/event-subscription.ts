import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { RouteKey } from '../../functions/catalog.ts';
import { DEFAULT_SUBSCRIPTION_RETENTION_SECONDS } from '../../functions/topology.ts';
import {
  planConsumerSubscriptions,
  planDeadLetterSubscriberGrants,
  pushServiceAccountIdFor,
  seconds,
} from '../plan.ts';
import { unknownArgumentProblem } from '../argument-names.ts';
import type { Replacement } from '../replacement.ts';
import {
  DEFAULTS,
  httpsUrl,
  resolveConsumer,
  resolveRetryPolicy,
  SettingError,
  type ConsumerSettings,
  type PushDelivery,
  type RetryPolicy,
} from '../settings.ts';
import { filterChangeProblem } from '../subscription-filter.ts';
import { inheritedDependsOn } from './options.ts';
import { deployedChange, guardedOptions, refuseReplacements } from './replacement-guard.ts';
import { pubsubServiceAgent } from './service-agent.ts';

export type { PushDelivery as EventSubscriptionPushArgs } from '../settings.ts';

export interface EventSubscriptionArgs {
  /** Project of the deployed event bus (domain-scoped ids such as `example.com:my-project` too). */
  project: pulumi.Input<string>;
  /**
   * IAM member of the Pub/Sub service agent, which forwards dead letters and mints push tokens:
   * pass the `member` output of your `gcp.projects.ServiceIdentity` for `pubsub.googleapis.com`.
   * When omitted, this component creates that ServiceIdentity itself (a no-op when the agent
   * exists), grants it its usual role and waits `serviceAgentWait` after creating it, so that no grant
   * runs before Google has created the agent.
   */
  pubsubServiceAgentMember?: pulumi.Input<string>;
  /** Wait after creating the service agent, when this component creates it (one number and a unit). Default `60s`. */
  serviceAgentWait?: string;
  /**
   * Let a change replace the subscriptions (a new topic prefix or project), deleting their backlog.
   * Default false: the change fails the update with the ways forward.
   */
  allowReplacement?: boolean;
  /** The deployment's topic prefix (its output `topicPrefix`, default `gemini`). */
  topicPrefix: string;
  /** Consumer name: 1-30 lowercase letters, digits or '-'. Part of every subscription id. */
  consumer: string;
  /** Event types to receive: catalog types, `unrouted`, or `*` for all; one subscription each. */
  eventTypes: string[];
  /** Push delivery with an OIDC token; pull when omitted. */
  push?: PushDelivery;
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
  /** Shortest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). Default 10. */
  minimumBackoffSeconds?: number;
  /** Longest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). Default 600. */
  maximumBackoffSeconds?: number;
  /** Labels for every subscription. */
  labels?: Record<string, string>;
}

/**
 * The arguments EventSubscription takes. A record over `keyof EventSubscriptionArgs`, so the compiler
 * refuses a new argument that is not named here (test/infra/schema.test.ts holds it to the schema).
 */
const ARGUMENT_NAMES: Record<keyof EventSubscriptionArgs, true> = {
  project: true,
  pubsubServiceAgentMember: true,
  serviceAgentWait: true,
  allowReplacement: true,
  topicPrefix: true,
  consumer: true,
  eventTypes: true,
  push: true,
  filter: true,
  ackDeadlineSeconds: true,
  exactlyOnce: true,
  maxDeliveryAttempts: true,
  minimumBackoffSeconds: true,
  maximumBackoffSeconds: true,
  labels: true,
};
export const EVENT_SUBSCRIPTION_ARGUMENTS = Object.keys(ARGUMENT_NAMES) as readonly (keyof EventSubscriptionArgs)[];

/**
 * The consumers this program has declared, by project and topic prefix, with the component that
 * declared each: a consumer declared twice (in GeminiWebhooks `subscriptions` and as an
 * EventSubscription, say) would plan two sets of subscriptions with the same ids, and Pub/Sub keeps one.
 */
const declaredConsumers = new Map<string, string>();

function claimConsumer(name: string, project: string, topicPrefix: string, consumer: string): string | undefined {
  const key = JSON.stringify([project, topicPrefix, consumer]);
  const earlier = declaredConsumers.get(key);
  if (earlier !== undefined) {
    return (
      `consumer "${consumer}" already has its subscriptions (${topicPrefix}-*-${consumer}) in project ${project}, ` +
      `declared by ${earlier}; declare each consumer once, ` +
      'in GeminiWebhooks `subscriptions` or as an EventSubscription'
    );
  }
  declaredConsumers.set(key, name);
  return undefined;
}

/**
 * A consumer's subscriptions on a deployed GeminiWebhooks: one per event type, each with a retry
 * policy and a dead-letter policy to that type's dead-letter topic, and the Pub/Sub service agent
 * allowed to pull from it (which dead-lettering needs). The deployment already lets the agent
 * publish to the dead-letter topics. For a service managed in another Pulumi program:
 *
 * ```ts
 * import { EventSubscription } from 'gemini-webhooks-pubsub';
 *
 * new EventSubscription('billing', { project: 'my-project', topicPrefix: 'gemini', consumer: 'billing',
 *   eventTypes: ['batch.succeeded', 'batch.failed'], push: { endpoint: 'https://billing.example.com/gemini' } });
 * ```
 */
export class EventSubscription extends pulumi.ComponentResource {
  /** Subscription id per event type. */
  public readonly subscriptionIds: pulumi.Output<Record<string, string>>;
  /** Email of the identity in the push OIDC token, when pushing. */
  public readonly pushServiceAccountEmail?: pulumi.Output<string>;
  /**
   * The filter of each subscription, in plan order ('' for none); fails with a RunError when a
   * deployed subscription's filter differs from the configured one.
   */
  public readonly deployedFilters: pulumi.Output<string[]>;

  constructor(name: string, args: EventSubscriptionArgs, opts?: pulumi.ComponentResourceOptions) {
    // Its type before it became part of this package's schema: existing stacks keep their resources.
    super(
      'gemini-webhooks-pubsub:index:EventSubscription',
      name,
      {},
      {
        ...opts,
        aliases: [...(opts?.aliases ?? []), { type: 'gemini-webhooks:pubsub:EventSubscription' }],
      },
    );
    const { consumer, retry } = validateArgs(name, args);
    // A project that is an output is known only later: then the RunError fails the update, as a
    // RunError does, with its message alone.
    const claim = (project: string, fail: (message: string) => Error): void => {
      const problem = claimConsumer(name, project, args.topicPrefix, consumer.name);
      if (problem !== undefined) throw fail(`EventSubscription ${name}: ${problem}.`);
    };
    if (typeof args.project === 'string') claim(args.project, (message) => new Error(message));
    else pulumi.output(args.project).apply((project) => claim(project, (message) => new pulumi.RunError(message)));
    const after = inheritedDependsOn(opts);
    const child = { parent: this, dependsOn: after };

    const agentMember =
      args.pubsubServiceAgentMember ??
      pubsubServiceAgent(
        `${name}-pubsub-agent`,
        { project: args.project, wait: args.serviceAgentWait ?? DEFAULTS.serviceAgentWait },
        child,
      ).member;
    const allowReplacement = args.allowReplacement ?? false;
    const replacements: pulumi.Output<Replacement | undefined>[] = [];

    let pushEmail: pulumi.Output<string> | undefined;
    if (consumer.push !== undefined) {
      checkEndpoint(name, consumer.push.endpoint);
      if (consumer.push.serviceAccountEmail !== undefined) {
        pushEmail = pulumi.output(consumer.push.serviceAccountEmail);
      } else {
        const pushServiceAccount = new gcp.serviceaccount.Account(
          `${name}-push`,
          {
            project: args.project,
            accountId: pushServiceAccountIdFor(args.topicPrefix, args.consumer),
            displayName: `Gemini webhooks push identity (${args.consumer})`,
            description: `Signs the OIDC tokens of pushes to consumer ${args.consumer}.`,
          },
          child,
        );
        pushEmail = pushServiceAccount.email;
        // Projects created before April 2021 need the agent to mint tokens for the push identity;
        // the grant is on this one service account only.
        new gcp.serviceaccount.IAMMember(
          `${name}-push-token-creator`,
          {
            serviceAccountId: pushServiceAccount.name,
            role: 'roles/iam.serviceAccountTokenCreator',
            member: agentMember,
          },
          { parent: this },
        );
      }
      this.pushServiceAccountEmail = pushEmail;
    }

    const plans = planConsumerSubscriptions(args.topicPrefix, consumer.name, consumer.eventTypes);
    const grants = new Map(planDeadLetterSubscriberGrants(plans, agentMember).map((g) => [g.resource, g]));
    const subscriptions = new Map<RouteKey, gcp.pubsub.Subscription>();
    const deployedFilters: pulumi.Output<{ subscription: string; filter: string }>[] = [];
    for (const plan of plans) {
      const subscriptionArgs: gcp.pubsub.SubscriptionArgs = {
        project: args.project,
        name: plan.name,
        topic: plan.topic,
        ackDeadlineSeconds: consumer.ackDeadlineSeconds,
        messageRetentionDuration: seconds(DEFAULT_SUBSCRIPTION_RETENTION_SECONDS),
        expirationPolicy: { ttl: '' },
        retryPolicy: {
          minimumBackoff: seconds(retry.minimumBackoffSeconds),
          maximumBackoff: seconds(retry.maximumBackoffSeconds),
        },
        deadLetterPolicy: {
          deadLetterTopic: pulumi.interpolate`projects/${args.project}/topics/${plan.deadLetterTopic}`,
          maxDeliveryAttempts: retry.maxDeliveryAttempts,
        },
        enableExactlyOnceDelivery: consumer.exactlyOnce,
        labels: { ...args.labels, consumer: args.consumer, route: plan.slug },
      };
      if (consumer.filter !== undefined) subscriptionArgs.filter = consumer.filter;
      if (consumer.push !== undefined && pushEmail !== undefined) {
        const oidcToken: gcp.types.input.pubsub.SubscriptionPushConfigOidcToken = { serviceAccountEmail: pushEmail };
        if (consumer.push.audience !== undefined) oidcToken.audience = consumer.push.audience;
        subscriptionArgs.pushConfig = { pushEndpoint: consumer.push.endpoint, oidcToken };
      }
      // Pulumi diffs an ignored property against the value in the state, and still uses the
      // program's value when it creates the resource
      // (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/): a filter change never
      // plans a replacement, and the resource's `filter` output stays the deployed filter.
      const subscription = new gcp.pubsub.Subscription(`${name}-${plan.slug}`, subscriptionArgs, {
        ...child,
        ...guardedOptions('subscription', { allowReplacement }, ['filter']),
      });
      replacements.push(
        deployedChange('subscription', subscription, { project: args.project, name: plan.name, topic: plan.topic }),
      );
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
    this.subscriptionIds = pulumi.output(
      Object.fromEntries([...subscriptions].map(([route, sub]) => [route, sub.name])),
    );
    // On create a subscription's outputs are its inputs, so a fresh deploy always passes; later,
    // `filter` is the deployed filter (from the state, also in `pulumi preview`), and a different
    // configured one is refused. The RunError fails the run like any error in the program, and
    // Pulumi prints a RunError as its message alone.
    this.deployedFilters = pulumi.all(deployedFilters).apply((deployed) => {
      const problem = filterChangeProblem(consumer.name, consumer.filter ?? '', deployed);
      if (problem !== undefined) throw new pulumi.RunError(problem);
      return deployed.map((d) => d.filter);
    });
    if (!allowReplacement) refuseReplacements(replacements);
    this.registerOutputs({
      subscriptionIds: this.subscriptionIds,
      pushServiceAccountEmail: this.pushServiceAccountEmail,
    });
  }
}

/**
 * A push endpoint that is an output of another resource is known only once that resource exists, so
 * it is checked then: an `http://` URL fails the update with one line (a RunError, printed as its
 * message alone), as a written one fails at once. The check is not part of the subscription's input,
 * where Pulumi would wrap the message in the path of the property it was serializing.
 */
function checkEndpoint(name: string, endpoint: pulumi.Input<string>): void {
  if (!pulumi.Output.isInstance(endpoint)) return;
  endpoint.apply((url) => {
    if (!httpsUrl(url))
      throw new pulumi.RunError(
        `EventSubscription ${name}: push.endpoint must be an https:// URL (got ${JSON.stringify(url)})`,
      );
  });
}

/** The same checks the deployment's `subscriptions` get, so a consumer is valid here exactly when it is there. */
function validateArgs(name: string, args: EventSubscriptionArgs): { consumer: ConsumerSettings; retry: RetryPolicy } {
  const unknown = unknownArgumentProblem(args, EVENT_SUBSCRIPTION_ARGUMENTS);
  if (unknown !== undefined) throw new Error(`EventSubscription ${name}: ${unknown}.`);
  try {
    const consumer = resolveConsumer(
      {
        name: args.consumer,
        eventTypes: args.eventTypes,
        push: args.push,
        filter: args.filter,
        ackDeadlineSeconds: args.ackDeadlineSeconds,
        exactlyOnce: args.exactlyOnce,
      },
      '',
    );
    return { consumer, retry: resolveRetryPolicy(args) };
  } catch (error) {
    if (error instanceof SettingError) {
      const what = error.key === 'subscriptions' ? error.problem.replace(/^name /, 'consumer ') : error.message;
      throw new Error(`EventSubscription ${name}: ${what}`, { cause: error });
    }
    throw error;
  }
}
