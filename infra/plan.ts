/**
 * Pure planning for the Pulumi program: every cloud name, every grant, every API, decided here from
 * settings and the catalog's topology, with GCP's limits enforced. Components only turn these plans
 * into resources, so everything a reviewer cares about is unit-tested without a Pulumi runtime.
 */
import { createHash } from 'node:crypto';
import { ROUTE_KEYS, routeSlug, type RouteKey } from '../functions/catalog.ts';
import { planSubscription, type RoutePlan, type SubscriptionPlan } from '../functions/topology.ts';
import type { Settings } from './settings.ts';

function shortHash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/**
 * Fits `<base>-<suffix>` into `max` characters. When it is too long, the base is cut and a short
 * hash of the full name keeps distinct inputs distinct. The result never ends in `-`.
 */
export function fitName(base: string, suffix: string, max: number): string {
  const full = `${base}-${suffix}`;
  if (full.length <= max) return full;
  const hash = shortHash(full, 4);
  const room = max - suffix.length - hash.length - 2;
  if (room < 1) throw new Error(`cannot fit ${JSON.stringify(full)} into ${max} characters`);
  const cut = base.slice(0, room).replace(/-+$/, '');
  return `${cut}-${hash}-${suffix}`;
}

// Service account ids: 6-30 characters, lowercase letters, digits and hyphens, starting with a
// letter and ending with a letter or digit.
export const SERVICE_ACCOUNT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/;

/** A service account id `<prefix>-<purpose>`, shortened with a hash when longer than 30. */
export function serviceAccountIdFor(prefix: string, purpose: string): string {
  let id = fitName(prefix, purpose, 30);
  if (id.length < 6) id = `${id}-sa`.slice(0, 30);
  if (!SERVICE_ACCOUNT_ID.test(id)) throw new Error(`planned service account id ${JSON.stringify(id)} is invalid`);
  return id;
}

// Cloud Functions (2nd gen) names: letters, digits, hyphens; start with a letter; at most 63.
export const FUNCTION_NAME = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
// Secret ids: letters, digits, `-` and `_`, at most 255. Artifact Registry repository ids: lowercase
// letters, digits and hyphens, start with a letter, at most 63.
export const REPOSITORY_ID = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Names of everything the deployment creates besides the topology (which the catalog names). */
export interface ResourceNames {
  functionName: string;
  secretId: string;
  /** The secret holding `jwtReceiverSecret`, when it is set. */
  receiverSecretId: string;
  repositoryId: string;
  runtimeServiceAccountId: string;
  buildServiceAccountId: string;
  /** Log-based metrics (Cloud Logging metric names; `/` groups them in the console). */
  deliveriesMetric: string;
  verificationFailuresMetric: string;
  publishLatencyMetric: string;
}

export function planNames(prefix: string): ResourceNames {
  return {
    functionName: fitName(prefix, 'webhook-receiver', 63),
    secretId: `${prefix}-webhook-signing-secrets`,
    receiverSecretId: `${prefix}-webhook-jwt-receiver-secret`,
    repositoryId: fitName(prefix, 'receiver-builds', 63),
    runtimeServiceAccountId: serviceAccountIdFor(prefix, 'receiver'),
    buildServiceAccountId: serviceAccountIdFor(prefix, 'builder'),
    deliveriesMetric: `${prefix}-webhooks/deliveries`,
    verificationFailuresMetric: `${prefix}-webhooks/verification-failures`,
    publishLatencyMetric: `${prefix}-webhooks/publish-latency`,
  };
}

/**
 * A Google API the deployment calls, what for, and, for one only an optional feature needs, when.
 * An optional feature that needs another API adds its entry here with `when`; `enableApis` then
 * enables it only where that feature is on.
 */
export interface ApiNeed {
  service: string;
  /** What the deployment uses it for, as docs/deploy.md lists it. */
  usedFor: string;
  /** Needed only when this holds; always when omitted. */
  when?: (settings: ApiPlanInput) => boolean;
}

/** What decides which optional APIs are needed (the resolved settings fit). */
export type ApiPlanInput = Pick<Settings, 'subscriptions' | 'alertEmails'>;

export const API_NEEDS: readonly ApiNeed[] = [
  { service: 'artifactregistry.googleapis.com', usedFor: "Artifact Registry: the receiver's images" },
  { service: 'cloudbuild.googleapis.com', usedFor: 'Cloud Build: builds the receiver from its source archive' },
  { service: 'cloudfunctions.googleapis.com', usedFor: 'Cloud Functions: the receiver' },
  {
    service: 'cloudresourcemanager.googleapis.com',
    usedFor: "Resource Manager: project-level grants and the project's number",
  },
  { service: 'iam.googleapis.com', usedFor: 'IAM: service accounts' },
  { service: 'logging.googleapis.com', usedFor: 'Cloud Logging: log-based metrics' },
  { service: 'monitoring.googleapis.com', usedFor: 'Cloud Monitoring: alert policies, channels, the dashboard' },
  { service: 'pubsub.googleapis.com', usedFor: 'Pub/Sub: topics and subscriptions' },
  { service: 'run.googleapis.com', usedFor: "Cloud Run: the receiver's service" },
  { service: 'secretmanager.googleapis.com', usedFor: 'Secret Manager: the signing secrets' },
  { service: 'storage.googleapis.com', usedFor: "Cloud Storage: the receiver's source archive" },
];

/** The APIs a deployment with these settings needs, each once, sorted. */
export function planApis(settings: ApiPlanInput, needs: readonly ApiNeed[] = API_NEEDS): string[] {
  const services = needs.filter((need) => need.when?.(settings) ?? true).map((need) => need.service);
  return [...new Set(services)].sort();
}

/** The APIs every deployment needs, whatever its optional features. */
export const REQUIRED_APIS: readonly string[] = API_NEEDS.filter((need) => need.when === undefined)
  .map((need) => need.service)
  .sort();

/** One subscription of a consumer on one route. */
export interface ConsumerSubscriptionPlan extends SubscriptionPlan {
  consumer: string;
  /** Resource-name suffix, e.g. `batch-succeeded`. */
  slug: string;
}

export function planConsumerSubscriptions(
  prefix: string,
  consumer: string,
  routes: readonly RouteKey[],
): ConsumerSubscriptionPlan[] {
  return routes.map((route) => ({ ...planSubscription(prefix, route, consumer), consumer, slug: routeSlug(route) }));
}

/**
 * A service account id for a consumer's push identity: `<prefix>-push-<consumer>` when that fits in
 * 30 characters, else `push-<start of consumer>-<hash of prefix and consumer>`.
 */
export function pushServiceAccountIdFor(prefix: string, consumer: string): string {
  const readable = `${prefix}-push-${consumer}`;
  if (SERVICE_ACCOUNT_ID.test(readable)) return readable;
  const hash = shortHash(`${prefix}\0${consumer}`, 6);
  const id = `${`push-${consumer}`.slice(0, 30 - hash.length - 1).replace(/-+$/, '')}-${hash}`;
  if (!SERVICE_ACCOUNT_ID.test(id)) throw new Error(`planned service account id ${JSON.stringify(id)} is invalid`);
  return id;
}

/**
 * One IAM grant, always on a single resource. `scope` says which kind: the program never plans a
 * project-level grant of a Pub/Sub or Secret Manager role (tests and the policy pack check that).
 * `M` is the member's type: a string in tests, a Pulumi input where an email is only known later.
 */
export interface Grant<M = string> {
  scope: 'topic' | 'subscription' | 'secret' | 'bucket' | 'repository' | 'service-account' | 'run-service' | 'project';
  /** Name of the resource the grant is on (topic id, subscription id, secret id, ...). */
  resource: string;
  role: string;
  member: M;
  /** An IAM condition narrowing a grant that cannot be made on one resource. */
  condition?: { title: string; expression: string };
}

/**
 * Cloud Functions (2nd gen) copies the uploaded source into a bucket of its own,
 * `gcf-v2-sources-<project number>-<region>`, which it creates on the first deploy, and Cloud
 * Build reads it from there as the build identity. The bucket does not exist before then, so the
 * grant is made on the project, conditioned on that bucket name.
 */
export const FUNCTION_SOURCES_BUCKET_CONDITION = {
  title: 'gcf-v2-sources buckets only',
  expression: 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")',
} as const;

/** The Pub/Sub service agent may publish to every dead-letter topic. */
export function planDeadLetterPublisherGrants<M>(routes: readonly RoutePlan[], serviceAgentMember: M): Grant<M>[] {
  return routes.map((route) => ({
    scope: 'topic',
    resource: route.deadLetterTopic,
    role: 'roles/pubsub.publisher',
    member: serviceAgentMember,
  }));
}

/** The Pub/Sub service agent may pull from (and so forward dead letters of) each consumer subscription. */
export function planDeadLetterSubscriberGrants<M>(
  subscriptions: readonly { name: string }[],
  serviceAgentMember: M,
): Grant<M>[] {
  return subscriptions.map((sub) => ({
    scope: 'subscription',
    resource: sub.name,
    role: 'roles/pubsub.subscriber',
    member: serviceAgentMember,
  }));
}

/**
 * The receiver's runtime identity: publish to each event topic, read the signing secret and, when
 * `jwtReceiverSecret` is set, the receiver secret. Nothing else.
 */
export function planReceiverRuntimeGrants<M>(
  routes: readonly RoutePlan[],
  secretId: string,
  runtimeMember: M,
  receiverSecretId?: string,
): Grant<M>[] {
  return [
    ...routes.map((route): Grant<M> => ({
      scope: 'topic',
      resource: route.topic,
      role: 'roles/pubsub.publisher',
      member: runtimeMember,
    })),
    // The receiver lists the secret's enabled versions (every one is a current signing secret)
    // and reads each: listing needs the viewer role, reading the accessor role; both on this
    // secret only.
    { scope: 'secret', resource: secretId, role: 'roles/secretmanager.viewer', member: runtimeMember },
    { scope: 'secret', resource: secretId, role: 'roles/secretmanager.secretAccessor', member: runtimeMember },
    // Cloud Run reads the receiver secret into the environment as the runtime identity when it starts
    // a revision (https://cloud.google.com/run/docs/configuring/services/secrets): accessor, this secret only.
    ...(receiverSecretId === undefined
      ? []
      : [
          {
            scope: 'secret',
            resource: receiverSecretId,
            role: 'roles/secretmanager.secretAccessor',
            member: runtimeMember,
          } satisfies Grant<M>,
        ]),
  ];
}

/**
 * What Cloud Build needs to build the function as the dedicated build identity. Google lists Logs
 * Writer, Artifact Registry Writer and Storage Object Admin ("for retrieving the function source from
 * the Cloud Storage bucket") for a function's build service account
 * (https://cloud.google.com/run/docs/configuring/services/build-service-account). Each is granted on
 * the narrowest resource that works: build logs on the project (Cloud Logging has no narrower
 * resource), Storage Object Admin on the Cloud Functions copy of the source through a project grant
 * conditioned on those buckets' names (they do not exist before the first deploy), the image push on
 * the function's own repository. Reading the uploaded archive from our own bucket needs only a viewer.
 */
export function planBuildGrants<M>(project: string, bucket: string, repositoryId: string, buildMember: M): Grant<M>[] {
  return [
    { scope: 'project', resource: project, role: 'roles/logging.logWriter', member: buildMember },
    {
      scope: 'project',
      resource: project,
      role: 'roles/storage.objectAdmin',
      member: buildMember,
      condition: FUNCTION_SOURCES_BUCKET_CONDITION,
    },
    { scope: 'bucket', resource: bucket, role: 'roles/storage.objectViewer', member: buildMember },
    { scope: 'repository', resource: repositoryId, role: 'roles/artifactregistry.writer', member: buildMember },
  ];
}

/** Cloud Run CPU for a memory size: concurrency > 1 needs at least one CPU; more memory needs more. */
export function cpuForMemory(mib: number): string {
  if (mib <= 4096) return '1';
  if (mib <= 8192) return '2';
  if (mib <= 16384) return '4';
  return '8';
}

export function seconds(value: number): string {
  return `${value}s`;
}

/**
 * An RE2 pattern matching every subscription these consumers can hold, `<prefix>-<route>-<consumer>`,
 * for monitoring filters. Listing the subscriptions one by one instead grows by a name per route
 * and consumer and soon passes Cloud Monitoring's filter length limit; a route a consumer does not
 * subscribe to matches nothing, since no such subscription exists.
 */
export function consumerSubscriptionPattern(prefix: string, consumers: readonly string[]): string {
  if (consumers.length === 0) throw new Error('consumerSubscriptionPattern needs at least one consumer');
  const slugs = ROUTE_KEYS.map(routeSlug).join('|');
  return `${prefix}-(${slugs})-(${[...consumers].sort().join('|')})`;
}
