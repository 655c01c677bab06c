import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { routeSlug, type RouteKey } from '../../functions/catalog.ts';
import { planRoutes } from '../../functions/topology.ts';
import { planDeadLetterPublisherGrants, seconds } from '../plan.ts';
import type { Replacement } from '../replacement.ts';
import { inheritedDependsOn } from './options.ts';
import { deployedChange, guardedOptions } from './replacement-guard.ts';

export interface WebhookTopicsArgs {
  /** Project that holds the topics. */
  project: pulumi.Input<string>;
  /** Topic prefix shared with the receiver (`WEBHOOK_TOPIC_PREFIX`). */
  topicPrefix: string;
  /**
   * IAM member of the Pub/Sub service agent: the `member` output of a `gcp.projects.ServiceIdentity`
   * for `pubsub.googleapis.com`, so that the grants wait until the agent exists.
   */
  pubsubServiceAgentMember: pulumi.Input<string>;
  /** How long each event topic keeps messages, so a subscription created later can seek back. */
  topicRetentionSeconds: number;
  /** How long each dead-letter subscription keeps dead letters (MIN_RETENTION_SECONDS to MAX_RETENTION_SECONDS). */
  deadLetterRetentionSeconds: number;
  /**
   * Let a change replace topics and dead-letter subscriptions (a new prefix or project). Default false:
   * the change is refused (`replacements`).
   */
  allowReplacement?: boolean;
  /** Protect topics and dead-letter subscriptions from deletion (Pulumi's `protect`). Default true. */
  protectData?: boolean;
  /** Labels for every topic and subscription. */
  labels?: Record<string, string>;
}

/** The resources of one route: where the receiver publishes and where failed deliveries end up. */
export interface RouteResources {
  route: RouteKey;
  topic: gcp.pubsub.Topic;
  deadLetterTopic: gcp.pubsub.Topic;
  /** The dead-letter topic's own subscription: dead letters wait here for inspection and replay. */
  deadLetterSubscription: gcp.pubsub.Subscription;
  /** roles/pubsub.publisher for the Pub/Sub service agent on the dead-letter topic. */
  deadLetterPublisherGrant: gcp.pubsub.TopicIAMMember;
}

/**
 * The Pub/Sub topology of the event catalog: per route (each event type and `unrouted`) a topic, a
 * dead-letter topic and the dead-letter topic's own long-retention subscription. The Pub/Sub
 * service agent may publish to each dead-letter topic; consumer subscriptions get their grants
 * from {@link EventSubscription}.
 */
export class WebhookTopics extends pulumi.ComponentResource {
  /** Per route, in catalog order. */
  public readonly routes: ReadonlyMap<RouteKey, RouteResources>;
  /** Topic id per route (the names the receiver publishes to). */
  public readonly topicIds: pulumi.Output<Record<string, string>>;
  /** Dead-letter subscription id per route. */
  public readonly deadLetterSubscriptionIds: pulumi.Output<Record<string, string>>;
  /** Per topic and dead-letter subscription, the replacement the config would need (none on a fresh deploy). */
  public readonly replacements: pulumi.Output<Replacement | undefined>[] = [];

  constructor(name: string, args: WebhookTopicsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:WebhookTopics', name, {}, opts);
    const plans = planRoutes(args.topicPrefix);
    const child = { parent: this, dependsOn: inheritedDependsOn(opts) };
    const grants = new Map(
      planDeadLetterPublisherGrants(plans, args.pubsubServiceAgentMember).map((g) => [g.resource, g]),
    );
    const routes = new Map<RouteKey, RouteResources>();
    const labels = { ...args.labels };
    const guard = { allowReplacement: args.allowReplacement ?? false, protect: args.protectData ?? true };
    const guarded = (kind: 'topic' | 'subscription') => ({ ...child, ...guardedOptions(kind, guard) });

    for (const plan of plans) {
      const slug = routeSlug(plan.route);
      const topic = new gcp.pubsub.Topic(
        `${name}-${slug}`,
        {
          project: args.project,
          name: plan.topic,
          messageRetentionDuration: seconds(args.topicRetentionSeconds),
          labels: { ...labels, route: slug },
        },
        guarded('topic'),
      );
      const deadLetterTopic = new gcp.pubsub.Topic(
        `${name}-${slug}-dead-letter`,
        {
          project: args.project,
          name: plan.deadLetterTopic,
          messageRetentionDuration: seconds(args.topicRetentionSeconds),
          labels: { ...labels, route: slug, role: 'dead-letter' },
        },
        guarded('topic'),
      );
      const deadLetterSubscription = new gcp.pubsub.Subscription(
        `${name}-${slug}-dead-letter`,
        {
          project: args.project,
          name: plan.deadLetterSubscription,
          topic: deadLetterTopic.name,
          messageRetentionDuration: seconds(args.deadLetterRetentionSeconds),
          retainAckedMessages: true,
          ackDeadlineSeconds: 60,
          // Subscriptions expire after 31 idle days by default; a dead-letter queue is idle by design.
          expirationPolicy: { ttl: '' },
          labels: { ...labels, route: slug, role: 'dead-letter' },
        },
        guarded('subscription'),
      );
      this.replacements.push(
        deployedChange('topic', topic, { project: args.project, name: plan.topic }),
        deployedChange('topic', deadLetterTopic, { project: args.project, name: plan.deadLetterTopic }),
        deployedChange('subscription', deadLetterSubscription, {
          project: args.project,
          name: plan.deadLetterSubscription,
          topic: plan.deadLetterTopic,
        }),
      );
      const grant = grants.get(plan.deadLetterTopic);
      if (grant === undefined) throw new Error(`no publisher grant planned for ${plan.deadLetterTopic}`);
      const deadLetterPublisherGrant = new gcp.pubsub.TopicIAMMember(
        `${name}-${slug}-dead-letter-publisher`,
        {
          project: args.project,
          topic: deadLetterTopic.name,
          role: grant.role,
          member: grant.member,
        },
        { parent: this },
      );
      routes.set(plan.route, {
        route: plan.route,
        topic,
        deadLetterTopic,
        deadLetterSubscription,
        deadLetterPublisherGrant,
      });
    }

    this.routes = routes;
    this.topicIds = pulumi.output(Object.fromEntries([...routes].map(([route, r]) => [route, r.topic.name])));
    this.deadLetterSubscriptionIds = pulumi.output(
      Object.fromEntries([...routes].map(([route, r]) => [route, r.deadLetterSubscription.name])),
    );
    this.registerOutputs({ topicIds: this.topicIds, deadLetterSubscriptionIds: this.deadLetterSubscriptionIds });
  }
}
