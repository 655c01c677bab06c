/**
 * Builds the whole deployment from validated settings. `index.ts` calls it with the stack's config;
 * the mock tests call it with fixture settings and a fixture source directory.
 */
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { BuildSourceOptions } from './archive.ts';
import type { Settings } from './config.ts';
import { EventBus } from './components/eventBus.ts';
import { EventSubscription } from './components/eventSubscription.ts';
import { Monitoring } from './components/monitoring.ts';
import { Receiver } from './components/receiver.ts';
import { RequiredApis } from './components/requiredApis.ts';
import { pubsubServiceIdentity } from './components/serviceAgent.ts';
import { SigningSecrets } from './components/signingSecrets.ts';
import { planRoutes } from '../functions/topology.ts';
import { planNames } from './plan.ts';

export interface StackOptions {
  /** Receiver sources; defaults to this repository's `functions/` and lockfile. */
  source?: BuildSourceOptions;
}

export interface StackOutputs {
  receiverUrl: pulumi.Output<string>;
  topicPrefix: string;
  /** Topic id per route (event type, or `unrouted`). */
  topics: Record<string, pulumi.Output<string>>;
  /** Dead-letter subscription id per route. */
  deadLetterSubscriptions: Record<string, pulumi.Output<string>>;
  /** Consumer subscription ids, per consumer and route. */
  consumerSubscriptions: Record<string, Record<string, pulumi.Output<string>>>;
  /** `projects/<project>/secrets/<id>`: the secret the signing keys live in (never their values). */
  signingSecretId: pulumi.Output<string>;
  /** Fingerprints of the enabled signing-secret versions, newest first (not the secrets). */
  signingSecretFingerprints: string[];
  receiverServiceAccount: pulumi.Output<string>;
  dashboardId: pulumi.Output<string>;
  nextStep: pulumi.Output<string>;
}

/** The components (for tests and for programs that embed the deployment) and the outputs. */
export interface Stack {
  apis?: RequiredApis;
  /** The Pub/Sub service agent; every grant to it takes its member from here. */
  pubsubServiceAgent: gcp.projects.ServiceIdentity;
  bus: EventBus;
  secrets: SigningSecrets;
  receiver: Receiver;
  consumers: EventSubscription[];
  monitoring: Monitoring;
  outputs: StackOutputs;
}

const LABELS = { app: 'gemini-webhooks-pubsub' };

export function createStack(settings: Settings, options: StackOptions = {}): Stack {
  const project = settings.project;
  const prefix = settings.topicPrefix;
  // Order on a fresh project: APIs, then (after their wait) everything else in parallel. The build
  // identity's wait and the log metrics' wait overlap with each other and with the function build.
  const apis = settings.enableApis
    ? new RequiredApis('apis', { project, wait: settings.waits.apiEnablement })
    : undefined;
  const afterApis = apis === undefined ? {} : { dependsOn: [apis.ready] };

  const pubsubServiceAgent = pubsubServiceIdentity('pubsub-service-agent', project, afterApis);

  const bus = new EventBus(
    'bus',
    {
      project,
      topicPrefix: prefix,
      pubsubServiceAgentMember: pubsubServiceAgent.member,
      topicRetentionSeconds: settings.topicRetentionSeconds,
      deadLetterRetentionSeconds: settings.deadLetterRetentionSeconds,
      labels: LABELS,
    },
    afterApis,
  );

  const secrets = new SigningSecrets(
    'signing-secrets',
    {
      project,
      secretId: planNames(prefix).secretId,
      secrets: settings.signingSecrets.map((secret) => ({ id: secret.fingerprint, value: secret.reveal() })),
      labels: LABELS,
    },
    afterApis,
  );

  const receiver = new Receiver(
    'receiver',
    {
      project,
      region: settings.region,
      topicPrefix: prefix,
      topics: new Map([...bus.routes].map(([route, r]) => [route, r.topic] as const)),
      signingSecrets: secrets,
      schemes: settings.schemes,
      jwksUrl: settings.jwksUrl,
      ...(settings.jwtAudience === undefined ? {} : { jwtAudience: settings.jwtAudience }),
      ...(settings.jwtIssuer === undefined ? {} : { jwtIssuer: settings.jwtIssuer }),
      jwtRequireBodyBinding: settings.jwtRequireBodyBinding,
      jwtAllowAnyAudience: settings.jwtAllowAnyAudience,
      sizing: settings.receiver,
      tunables: settings.tunables,
      publicInvoker: settings.publicInvoker,
      ...(options.source === undefined ? {} : { source: options.source }),
      buildGrantsWait: settings.waits.buildGrants,
      labels: LABELS,
    },
    afterApis,
  );

  const consumerSubscriptions: Record<string, Record<string, pulumi.Output<string>>> = {};
  const consumers: EventSubscription[] = [];
  for (const consumer of settings.subscriptions) {
    const subscription = new EventSubscription(
      `consumer-${consumer.name}`,
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
        labels: LABELS,
      },
      { dependsOn: [bus, ...(apis === undefined ? [] : [apis.ready])] },
    );
    consumerSubscriptions[consumer.name] = subscription.subscriptionNames;
    consumers.push(subscription);
  }

  const monitoring = new Monitoring(
    'monitoring',
    {
      project,
      topicPrefix: prefix,
      deadLetterSubscriptions: planRoutes(prefix).map((route) => route.deadLetterSubscription),
      consumers: settings.subscriptions.map((consumer) => consumer.name),
      alertEmails: settings.alertEmails,
      logMetricsWait: settings.waits.logMetrics,
    },
    afterApis,
  );

  const nextStep =
    settings.signingSecrets.length === 0
      ? pulumi.interpolate`Register ${receiver.url} with Gemini and store its signing secret: GEMINI_API_KEY=<key> npx gemini-webhooks webhooks create && pulumi up. Until then the receiver refuses static-signature deliveries and Gemini retries them.`
      : pulumi.interpolate`Register ${receiver.url} with Gemini if you have not yet (npx gemini-webhooks webhooks create); deliveries are published to the ${prefix}-* topics (README, "Subscribe a service").`;

  const outputs: StackOutputs = {
    receiverUrl: receiver.url,
    topicPrefix: prefix,
    topics: bus.topicNames,
    deadLetterSubscriptions: bus.deadLetterSubscriptionNames,
    consumerSubscriptions,
    signingSecretId: secrets.secretResourceName,
    signingSecretFingerprints: settings.signingSecrets.map((s) => s.fingerprint),
    receiverServiceAccount: receiver.runtimeServiceAccount.email,
    dashboardId: monitoring.dashboard.id,
    nextStep,
  };
  return {
    ...(apis === undefined ? {} : { apis }),
    pubsubServiceAgent,
    bus,
    secrets,
    receiver,
    consumers,
    monitoring,
    outputs,
  };
}
