/**
 * The whole deployment as one component: topics and dead-letter topics, the signing secret, the
 * receiver, IAM, consumer subscriptions and monitoring, from the same settings this project's stack
 * config takes. `infra/index.ts` is one user of it; any Pulumi program is another, in TypeScript
 * directly or, through `pulumi package add`, in Python, Go, .NET, Java or YAML.
 *
 * ```ts
 * import { GeminiWebhooks } from 'gemini-webhooks-pubsub';
 *
 * const webhooks = new GeminiWebhooks('gemini', { project: 'my-project', region: 'europe-west1' });
 * export const receiverUrl = webhooks.receiverUrl;
 * ```
 */
import * as pulumi from '@pulumi/pulumi';
import { planRoutes } from '../../functions/topology.ts';
import { unknownArgumentProblem } from '../argument-names.ts';
import { planApis, planNames } from '../plan.ts';
import { resolveSettings, SettingError, type GeminiWebhooksArgs } from '../settings.ts';
import { SETTING_KEYS } from '../setting-table.ts';
import { EventSubscription } from './event-subscription.ts';
import { Monitoring } from './monitoring.ts';
import { JwtReceiverSecret } from './jwt-receiver-secret.ts';
import { RequiredApis } from './required-apis.ts';
import { refuseReplacements } from './replacement-guard.ts';
import { pubsubServiceAgent as createPubsubServiceAgent } from './service-agent.ts';
import { SigningSecrets } from './signing-secrets.ts';
import { WebhookReceiver } from './webhook-receiver.ts';
import { WebhookTopics } from './webhook-topics.ts';

export type { Consumer, GeminiWebhooksArgs, PushDelivery } from '../settings.ts';

const LABELS = { app: 'gemini-webhooks-pubsub' };

/** The arguments GeminiWebhooks takes: the stack settings, `gcp:project` and `gcp:region` as `project` and `region`. */
export const GEMINI_WEBHOOKS_ARGUMENTS: readonly string[] = SETTING_KEYS;

/**
 * Where each child lived before this component existed, when the deployment was this project's own
 * program and every child sat at the root of the stack. An alias to it lets a stack deployed before
 * update in place: Pulumi matches the old resources to the new ones instead of replacing them
 * (https://www.pulumi.com/docs/iac/concepts/options/aliases/); each child's own children inherit the
 * alias, since their names start with their parent's.
 */
function formerly(name: string, type?: string): pulumi.Alias[] {
  return [{ name, ...(type === undefined ? {} : { type }), parent: pulumi.rootStackResource }];
}

/**
 * Verified Gemini API webhooks as durable Pub/Sub events: a Cloud Run function checks each delivery's
 * signature and publishes the exact bytes to one topic per event type, answering 2xx only once Pub/Sub
 * has the message.
 */
export class GeminiWebhooks extends pulumi.ComponentResource {
  /** The HTTPS endpoint to register with Gemini. */
  public readonly receiverUrl: pulumi.Output<string>;
  /** Prefix of every topic and subscription. */
  public readonly topicPrefix: pulumi.Output<string>;
  /** Topic id per event type (and `unrouted`). */
  public readonly topics: pulumi.Output<Record<string, string>>;
  /** Dead-letter subscription id per event type: where undeliverable events wait for replay. */
  public readonly deadLetterSubscriptions: pulumi.Output<Record<string, string>>;
  /** Subscription ids per consumer, then per event type. */
  public readonly consumerSubscriptions: pulumi.Output<Record<string, Record<string, string>>>;
  /** `projects/<project>/secrets/<id>`: the secret holding the signing keys (never their values). */
  public readonly signingSecretId: pulumi.Output<string>;
  /** Fingerprints of the stored signing secrets, newest first: they name the versions, not the secrets. */
  public readonly signingSecretFingerprints: pulumi.Output<string[]>;
  /** Email of the receiver's runtime service account. */
  public readonly receiverServiceAccount: pulumi.Output<string>;
  /** Id of the Cloud Monitoring dashboard. */
  public readonly dashboardId: pulumi.Output<string>;
  /** What to do next: register the URL with Gemini, store its secret. */
  public readonly nextStep: pulumi.Output<string>;

  constructor(name: string, args: GeminiWebhooksArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:GeminiWebhooks', name, {}, opts);
    const unknown = unknownArgumentProblem(args, GEMINI_WEBHOOKS_ARGUMENTS);
    if (unknown !== undefined) throw new Error(`GeminiWebhooks ${name}: ${unknown}.`);
    let settings;
    try {
      settings = resolveSettings(args);
    } catch (error) {
      if (error instanceof SettingError) throw new Error(`GeminiWebhooks ${name}: ${error.message}.`, { cause: error });
      throw error;
    }
    const { project, topicPrefix: prefix } = settings;
    const child = { parent: this };

    // Order on a fresh project: APIs, then (after their wait) everything else in parallel. The build
    // identity's wait and the log metrics' wait overlap with each other and with the function build.
    const apis = settings.enableApis
      ? new RequiredApis(
          `${name}-apis`,
          { project, services: planApis(settings), wait: settings.waits.apiEnablement },
          { ...child, aliases: formerly('apis', 'gemini-webhooks:project:RequiredApis') },
        )
      : undefined;
    const afterApis = apis === undefined ? [] : [apis.ready];

    const pubsubServiceAgent = createPubsubServiceAgent(
      `${name}-pubsub-service-agent`,
      { project, wait: settings.waits.serviceAgent },
      { ...child, dependsOn: afterApis, aliases: formerly('pubsub-service-agent') },
    );
    const guard = { allowReplacement: settings.allowReplacement, protectData: settings.protectData };

    const topics = new WebhookTopics(
      `${name}-topics`,
      {
        project,
        topicPrefix: prefix,
        pubsubServiceAgentMember: pubsubServiceAgent.member,
        topicRetentionSeconds: settings.topicRetentionSeconds,
        deadLetterRetentionSeconds: settings.deadLetterRetentionSeconds,
        ...guard,
        labels: LABELS,
      },
      { ...child, dependsOn: afterApis, aliases: formerly('bus', 'gemini-webhooks:pubsub:EventBus') },
    );

    const secrets = new SigningSecrets(
      `${name}-signing-secrets`,
      {
        project,
        secretId: planNames(prefix).secretId,
        secrets: settings.signingSecrets.map((secret) => ({ id: secret.fingerprint, value: secret.reveal() })),
        replication: settings.secretReplication,
        ...guard,
        labels: LABELS,
      },
      {
        ...child,
        dependsOn: afterApis,
        aliases: formerly('signing-secrets', 'gemini-webhooks:secrets:SigningSecrets'),
      },
    );

    const receiverSecret =
      settings.jwtReceiverSecret === undefined
        ? undefined
        : new JwtReceiverSecret(
            `${name}-jwt-receiver-secret`,
            {
              project,
              secretId: planNames(prefix).receiverSecretId,
              value: settings.jwtReceiverSecret.reveal(),
              replication: settings.secretReplication,
              ...guard,
              labels: LABELS,
            },
            { ...child, dependsOn: afterApis },
          );

    const receiver = new WebhookReceiver(
      `${name}-receiver`,
      {
        project,
        region: settings.region,
        topicPrefix: prefix,
        topics: new Map([...topics.routes].map(([route, r]) => [route, r.topic] as const)),
        signingSecrets: secrets,
        ...(receiverSecret === undefined ? {} : { receiverSecret }),
        schemes: settings.schemes,
        jwksUrl: settings.jwksUrl,
        ...(settings.jwtAudience === undefined ? {} : { jwtAudience: settings.jwtAudience }),
        ...(settings.jwtIssuer === undefined ? {} : { jwtIssuer: settings.jwtIssuer }),
        jwtRequireBodyBinding: settings.jwtRequireBodyBinding,
        jwtAllowAnyAudience: settings.jwtAllowAnyAudience,
        sizing: settings.receiver,
        tunables: settings.tunables,
        publicInvoker: settings.publicInvoker,
        ingress: settings.ingress,
        allowReplacement: settings.allowReplacement,
        buildGrantsWait: settings.waits.buildGrants,
        labels: LABELS,
      },
      { ...child, dependsOn: afterApis, aliases: formerly('receiver', 'gemini-webhooks:receiver:Receiver') },
    );

    const consumerSubscriptions: Record<string, pulumi.Output<Record<string, string>>> = {};
    for (const consumer of settings.subscriptions) {
      const subscription = new EventSubscription(
        `${name}-consumer-${consumer.name}`,
        {
          project,
          pubsubServiceAgentMember: pubsubServiceAgent.member,
          topicPrefix: prefix,
          consumer: consumer.name,
          eventTypes: consumer.eventTypes,
          ...(consumer.push === undefined ? {} : { push: consumer.push }),
          ...(consumer.filter === undefined ? {} : { filter: consumer.filter }),
          ackDeadlineSeconds: consumer.ackDeadlineSeconds,
          exactlyOnce: consumer.exactlyOnce,
          maxDeliveryAttempts: settings.maxDeliveryAttempts,
          minimumBackoffSeconds: settings.minimumBackoffSeconds,
          maximumBackoffSeconds: settings.maximumBackoffSeconds,
          allowReplacement: settings.allowReplacement,
          labels: LABELS,
        },
        {
          ...child,
          dependsOn: [topics, ...afterApis],
          aliases: formerly(`consumer-${consumer.name}`, 'gemini-webhooks:pubsub:EventSubscription'),
        },
      );
      consumerSubscriptions[consumer.name] = subscription.subscriptionIds;
    }

    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        project,
        topicPrefix: prefix,
        deadLetterSubscriptions: planRoutes(prefix).map((route) => route.deadLetterSubscription),
        consumers: settings.subscriptions.map((consumer) => consumer.name),
        alertEmails: settings.alertEmails,
        logMetricsWait: settings.waits.logMetrics,
      },
      { ...child, dependsOn: afterApis, aliases: formerly('monitoring', 'gemini-webhooks:monitoring:Monitoring') },
    );

    // A change that would replace the topics, the secret or the function fails the run here, in one
    // line, before anything is replaced (consumers' subscriptions refuse theirs in EventSubscription).
    if (!settings.allowReplacement)
      refuseReplacements([
        ...topics.replacements,
        secrets.replacement,
        ...(receiverSecret === undefined ? [] : [receiverSecret.replacement]),
        receiver.replacement,
      ]);

    this.receiverUrl = receiver.url;
    this.topicPrefix = pulumi.output(prefix);
    this.topics = topics.topicIds;
    this.deadLetterSubscriptions = topics.deadLetterSubscriptionIds;
    this.consumerSubscriptions = pulumi.output(consumerSubscriptions);
    this.signingSecretId = secrets.secretResourceName;
    this.signingSecretFingerprints = pulumi.output(settings.signingSecrets.map((s) => s.fingerprint));
    this.receiverServiceAccount = receiver.runtimeServiceAccount.email;
    this.dashboardId = monitoring.dashboard.id;
    this.nextStep =
      settings.signingSecrets.length === 0
        ? pulumi.concat(
            'Register ',
            receiver.url,
            ' with Gemini and store its signing secret: ',
            'GEMINI_API_KEY=<key> npx gemini-webhooks webhooks create && pulumi up. ',
            'Until then the receiver refuses static-signature deliveries and Gemini retries them.',
          )
        : pulumi.concat(
            'Register ',
            receiver.url,
            ' with Gemini if you have not yet (npx gemini-webhooks webhooks create); ',
            `deliveries are published to the ${prefix}-* topics; prove every hop with: npx gemini-webhooks check.`,
          );

    this.registerOutputs({
      receiverUrl: this.receiverUrl,
      topicPrefix: this.topicPrefix,
      topics: this.topics,
      deadLetterSubscriptions: this.deadLetterSubscriptions,
      consumerSubscriptions: this.consumerSubscriptions,
      signingSecretId: this.signingSecretId,
      signingSecretFingerprints: this.signingSecretFingerprints,
      receiverServiceAccount: this.receiverServiceAccount,
      dashboardId: this.dashboardId,
      nextStep: this.nextStep,
    });
  }
}
