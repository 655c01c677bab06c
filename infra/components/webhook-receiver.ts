import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import type { RouteKey } from '../../functions/catalog.ts';
import { RECEIVER_TUNABLES, type ReceiverTunable, type ReceiverTunables } from '../../functions/config.ts';
import { planRoutes } from '../../functions/topology.ts';
import {
  buildReceiverSource,
  receiverSource,
  ENTRY_POINT,
  FUNCTION_RUNTIME,
  type BuildSourceOptions,
  type SourceArchive,
} from '../archive.ts';
import type { Replacement } from '../replacement.ts';
import type { Ingress, PublicInvoker, ReceiverSizing, Scheme } from '../settings.ts';
import { memoryMiB } from '../settings.ts';
import { cpuForMemory, planBuildGrants, planNames, planReceiverRuntimeGrants, type Grant } from '../plan.ts';
import { inheritedDependsOn } from './options.ts';
import { joinedIds, propagationWait } from './propagation-wait.ts';
import { deployedChange, guardedOptions } from './replacement-guard.ts';
import type { JwtReceiverSecret } from './jwt-receiver-secret.ts';
import type { SigningSecrets } from './signing-secrets.ts';

export interface WebhookReceiverArgs {
  project: string;
  region: string;
  /** Topic prefix (`WEBHOOK_TOPIC_PREFIX`); the receiver derives topic names from the catalog with it. */
  topicPrefix: string;
  /** The event topics the receiver publishes to, per route. Its identity may publish to these only. */
  topics: ReadonlyMap<RouteKey, gcp.pubsub.Topic>;
  /** The secret holding the Standard Webhooks keys; its identity may read this secret only. */
  signingSecrets: SigningSecrets;
  /**
   * The secret holding `jwtReceiverSecret`, when set: put into the environment as
   * `WEBHOOK_JWT_RECEIVER_SECRET` by Cloud Run, read by the receiver's identity (this secret only).
   */
  receiverSecret?: JwtReceiverSecret;
  /** Accepted signature schemes (`WEBHOOK_SCHEMES`). */
  schemes: readonly Scheme[];
  /** JWKS for dynamic (JWT) webhooks (`WEBHOOK_JWKS_URL`). */
  jwksUrl: string;
  /** Required `aud` of JWT deliveries, when set (`WEBHOOK_JWT_AUDIENCE`). */
  jwtAudience?: string;
  /** Required `iss` of JWT deliveries, when set (`WEBHOOK_JWT_ISSUER`). */
  jwtIssuer?: string;
  /** Refuse JWT deliveries whose body is not bound to the token (`WEBHOOK_JWT_REQUIRE_BODY_BINDING`). */
  jwtRequireBodyBinding: boolean;
  /** Accept JWT deliveries without an audience check (`WEBHOOK_JWT_ALLOW_ANY_AUDIENCE`). */
  jwtAllowAnyAudience?: boolean;
  sizing: ReceiverSizing;
  /** Numeric knobs of the receiver, each set as its environment variable (RECEIVER_TUNABLES). */
  tunables: ReceiverTunables;
  /**
   * `allUsers`: anyone may invoke (Gemini must reach the URL without credentials). `none`: no
   * invoker binding; for organisations whose domain-restricted sharing forbids allUsers
   * (docs/deploy.md, "If your organisation forbids allUsers").
   */
  publicInvoker: PublicInvoker;
  /**
   * Who may reach the URL (the function API's ingress setting). Default `ALLOW_ALL`: Gemini calls from
   * the internet, so anything else needs a load balancer in front.
   */
  ingress?: Ingress;
  /** Let a change replace the function, and so change its URL (a new name, region or project). Default false. */
  allowReplacement?: boolean;
  /** Where the receiver's sources and the lockfile live; defaults to this repository's. */
  source?: BuildSourceOptions;
  /** How long to wait after the build identity's grants before the build (one number and a unit, e.g. `120s`). */
  buildGrantsWait: pulumi.Input<string>;
  labels?: Record<string, string>;
}

/**
 * The webhook receiver: a Cloud Run function (2nd gen) built from a content-addressed source
 * archive, running as its own service account that may publish to the event topics and read the
 * signing secret, and nothing more; built by its own build service account.
 */
export class WebhookReceiver extends pulumi.ComponentResource {
  public readonly function: gcp.cloudfunctionsv2.Function;
  public readonly runtimeServiceAccount: gcp.serviceaccount.Account;
  public readonly buildServiceAccount: gcp.serviceaccount.Account;
  public readonly sourceBucket: gcp.storage.Bucket;
  public readonly sourceObject: gcp.storage.BucketObject;
  /** The archive that was uploaded (file list and content hash). */
  public readonly archive: SourceArchive;
  /** The HTTPS URL to register with Gemini. */
  public readonly url: pulumi.Output<string>;
  /** Name of the Cloud Run service behind the function, once it is deployed (for its invoker binding). */
  public readonly serviceName: pulumi.Output<string>;
  /** Every grant resource the receiver's identities hold; the function waits for all of them. */
  public readonly grants: pulumi.Resource[];
  /** The build identity's grants, which the build needs to have taken effect. */
  public readonly buildGrants: pulumi.CustomResource[];
  /** The wait between the build identity's grants and the function's build. */
  public readonly buildGrantsPropagation: pulumi.CustomResource;
  /** The replacement the config would need (none on a fresh deploy). */
  public readonly replacement: pulumi.Output<Replacement | undefined>;
  /** The allUsers invoker binding, when enabled. */
  public readonly publicInvokerBinding?: gcp.cloudrunv2.ServiceIamMember;

  constructor(name: string, args: WebhookReceiverArgs, opts?: pulumi.ComponentResourceOptions) {
    super('gemini-webhooks-pubsub:index:WebhookReceiver', name, {}, opts);
    const after = inheritedDependsOn(opts);
    const names = planNames(args.topicPrefix);
    const mib = memoryMiB(args.sizing.memory);
    if (mib === undefined)
      throw new Error(
        `WebhookReceiver ${name}: memory ${JSON.stringify(args.sizing.memory)} is not a quantity like 512Mi`,
      );
    const child = { parent: this, dependsOn: after };

    this.archive = args.source === undefined ? receiverSource() : buildReceiverSource(args.source);

    this.runtimeServiceAccount = new gcp.serviceaccount.Account(
      `${name}-runtime`,
      {
        project: args.project,
        accountId: names.runtimeServiceAccountId,
        displayName: 'Gemini webhooks receiver (runtime)',
        description: 'Publishes verified Gemini webhooks to the event topics and reads the signing secret.',
      },
      child,
    );
    this.buildServiceAccount = new gcp.serviceaccount.Account(
      `${name}-build`,
      {
        project: args.project,
        accountId: names.buildServiceAccountId,
        displayName: 'Gemini webhooks receiver (build)',
        description: 'Cloud Build identity that builds the receiver function.',
      },
      child,
    );

    this.sourceBucket = new gcp.storage.Bucket(
      `${name}-source`,
      {
        project: args.project,
        location: args.region,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: 'enforced',
        forceDestroy: true,
        labels: { ...args.labels },
      },
      child,
    );
    // The object name carries the content hash: new code -> new object -> new build; same code -> no-op.
    this.sourceObject = new gcp.storage.BucketObject(
      `${name}-source`,
      {
        bucket: this.sourceBucket.name,
        name: this.archive.objectName,
        contentType: 'application/zip',
        source: new pulumi.asset.AssetArchive(
          Object.fromEntries([...this.archive.files].map(([file, text]) => [file, new pulumi.asset.StringAsset(text)])),
        ),
      },
      { parent: this },
    );

    const repository = new gcp.artifactregistry.Repository(
      `${name}-builds`,
      {
        project: args.project,
        location: args.region,
        repositoryId: names.repositoryId,
        format: 'DOCKER',
        description: 'Images of the Gemini webhooks receiver, built by Cloud Build.',
        // Keep the last few images for rollbacks; the rest would cost storage forever.
        cleanupPolicies: [
          { id: 'keep-recent', action: 'KEEP', mostRecentVersions: { keepCount: 5 } },
          { id: 'delete-old', action: 'DELETE', condition: { olderThan: `${30 * 24 * 3600}s` } },
        ],
        labels: { ...args.labels },
      },
      child,
    );

    const runtimeMember = pulumi.interpolate`serviceAccount:${this.runtimeServiceAccount.email}`;
    const buildMember = pulumi.interpolate`serviceAccount:${this.buildServiceAccount.email}`;
    const topicByName = new Map(
      planRoutes(args.topicPrefix).map((plan) => [plan.topic, args.topics.get(plan.route)] as const),
    );
    const runtimeGrants = planReceiverRuntimeGrants(
      planRoutes(args.topicPrefix),
      names.secretId,
      runtimeMember,
      args.receiverSecret === undefined ? undefined : names.receiverSecretId,
    ).map((grant) => this.grantRuntime(name, grant, topicByName, args));
    this.buildGrants = planBuildGrants(args.project, '(source bucket)', names.repositoryId, buildMember).map((grant) =>
      this.grantBuild(name, grant, args, repository),
    );
    this.grants = [...runtimeGrants, ...this.buildGrants];

    // A new grant takes a while to reach Cloud Build: IAM changes "typically" propagate in 2 minutes,
    // "potentially 7 minutes or longer" (https://cloud.google.com/iam/docs/access-change-propagation).
    // Building this 2nd gen function at once fails with "Access to bucket gcf-v2-sources-... denied"
    // (https://github.com/hashicorp/terraform-provider-google/issues/20571); the provider's own tests
    // wait 120 seconds too (https://github.com/GoogleCloudPlatform/magic-modules/pull/11909). The
    // identity's unique id changes when the account is re-created, as do the grants' ids.
    this.buildGrantsPropagation = propagationWait(
      `${name}-build-grants-propagation`,
      {
        duration: args.buildGrantsWait,
        triggers: { buildIdentity: this.buildServiceAccount.uniqueId, grants: joinedIds(this.buildGrants) },
        waitFor: this.buildGrants,
      },
      child,
    );

    const env: Record<string, pulumi.Input<string>> = {
      GOOGLE_CLOUD_PROJECT: args.project,
      // Express (inside the Functions Framework) hides stack traces from error answers only in production.
      NODE_ENV: 'production',
      WEBHOOK_SIGNING_SECRETS_SECRET: args.signingSecrets.secretResourceName,
      WEBHOOK_SCHEMES: args.schemes.join(','),
      WEBHOOK_JWKS_URL: args.jwksUrl,
      WEBHOOK_JWT_REQUIRE_BODY_BINDING: String(args.jwtRequireBodyBinding),
      WEBHOOK_JWT_ALLOW_ANY_AUDIENCE: String(args.jwtAllowAnyAudience ?? false),
      WEBHOOK_TOPIC_PREFIX: args.topicPrefix,
    };
    for (const [key, tunable] of Object.entries(RECEIVER_TUNABLES))
      env[tunable.env] = String(args.tunables[key as ReceiverTunable]);
    if (args.jwtAudience !== undefined) env['WEBHOOK_JWT_AUDIENCE'] = args.jwtAudience;
    if (args.jwtIssuer !== undefined) env['WEBHOOK_JWT_ISSUER'] = args.jwtIssuer;

    // The receiver secret by reference only: Cloud Run reads the named version as the runtime identity
    // when it starts the revision, so the value is never an input of the function. Naming the version
    // (not `latest`) makes a new value a new revision, rather than reaching only instances started later.
    const receiverSecret = args.receiverSecret;
    const secretEnvironmentVariables =
      receiverSecret === undefined
        ? undefined
        : [
            {
              key: 'WEBHOOK_JWT_RECEIVER_SECRET',
              projectId: args.project,
              secret: receiverSecret.secret.secretId,
              version: receiverSecret.version.version,
            },
          ];

    // Cloud Build's identity and image repository, as the full resource names the API takes.
    const buildAccount = pulumi.interpolate`projects/${args.project}/serviceAccounts/${this.buildServiceAccount.email}`;
    const locationName = `projects/${args.project}/locations/${args.region}`;
    const imageRepository = pulumi.interpolate`${locationName}/repositories/${repository.repositoryId}`;
    this.function = new gcp.cloudfunctionsv2.Function(
      name,
      {
        project: args.project,
        location: args.region,
        name: names.functionName,
        description: 'Verifies Gemini API webhooks and publishes them to Pub/Sub.',
        buildConfig: {
          runtime: FUNCTION_RUNTIME,
          entryPoint: ENTRY_POINT,
          source: { storageSource: { bucket: this.sourceBucket.name, object: this.sourceObject.name } },
          serviceAccount: buildAccount,
          dockerRepository: imageRepository,
        },
        serviceConfig: {
          serviceAccountEmail: this.runtimeServiceAccount.email,
          minInstanceCount: args.sizing.minInstances,
          maxInstanceCount: args.sizing.maxInstances,
          maxInstanceRequestConcurrency: args.sizing.concurrency,
          availableMemory: args.sizing.memory,
          availableCpu: cpuForMemory(mib),
          timeoutSeconds: args.sizing.timeoutSeconds,
          ingressSettings: args.ingress ?? 'ALLOW_ALL',
          allTrafficOnLatestRevision: true,
          environmentVariables: env,
          ...(secretEnvironmentVariables === undefined ? {} : { secretEnvironmentVariables }),
        },
        labels: { ...args.labels },
      },
      {
        parent: this,
        dependsOn: [
          ...after,
          ...runtimeGrants,
          this.buildGrantsPropagation,
          ...args.signingSecrets.versions.values(),
          ...(receiverSecret === undefined ? [] : [receiverSecret.version]),
        ],
        ...guardedOptions('function', { allowReplacement: args.allowReplacement ?? false }),
      },
    );
    this.replacement = deployedChange('function', this.function, {
      project: args.project,
      name: names.functionName,
      location: args.region,
    });

    this.url = this.function.url;
    // A 2nd gen function runs as a Cloud Run service of the same name.
    this.serviceName = this.function.serviceConfig.apply(
      (config) => lastSegment(config?.service) ?? names.functionName,
    );

    if (args.publicInvoker === 'allUsers') {
      this.publicInvokerBinding = new gcp.cloudrunv2.ServiceIamMember(
        `${name}-public-invoker`,
        {
          project: args.project,
          location: args.region,
          name: this.serviceName,
          role: 'roles/run.invoker',
          member: 'allUsers',
        },
        { parent: this },
      );
    }

    this.registerOutputs({ url: this.url, serviceName: this.serviceName, archiveObject: this.archive.objectName });
  }

  private grantRuntime(
    name: string,
    grant: Grant<pulumi.Output<string>>,
    topicByName: ReadonlyMap<string, gcp.pubsub.Topic | undefined>,
    args: WebhookReceiverArgs,
  ): pulumi.CustomResource {
    if (grant.scope === 'topic') {
      const topic = topicByName.get(grant.resource);
      if (topic === undefined) throw new Error(`WebhookReceiver ${name}: no topic resource for ${grant.resource}`);
      return new gcp.pubsub.TopicIAMMember(
        `${name}-publishes-to-${grant.resource}`,
        {
          project: args.project,
          topic: topic.name,
          role: grant.role,
          member: grant.member,
        },
        { parent: this },
      );
    }
    if (grant.scope === 'secret' && grant.resource === planNames(args.topicPrefix).receiverSecretId) {
      if (args.receiverSecret === undefined)
        throw new Error(`WebhookReceiver ${name}: a grant on ${grant.resource} but no receiver secret`);
      return new gcp.secretmanager.SecretIamMember(
        `${name}-reads-jwt-receiver-secret`,
        {
          project: args.project,
          secretId: args.receiverSecret.secret.secretId,
          role: grant.role,
          member: grant.member,
        },
        { parent: this },
      );
    }
    if (grant.scope === 'secret') {
      const verb = grant.role === 'roles/secretmanager.viewer' ? 'lists' : 'reads';
      return new gcp.secretmanager.SecretIamMember(
        `${name}-${verb}-signing-secrets`,
        {
          project: args.project,
          secretId: args.signingSecrets.secret.secretId,
          role: grant.role,
          member: grant.member,
        },
        { parent: this },
      );
    }
    throw new Error(`WebhookReceiver ${name}: unexpected runtime grant scope ${grant.scope}`);
  }

  private grantBuild(
    name: string,
    grant: Grant<pulumi.Output<string>>,
    args: WebhookReceiverArgs,
    repository: gcp.artifactregistry.Repository,
  ): pulumi.CustomResource {
    switch (grant.scope) {
      case 'project':
        return grant.condition === undefined
          ? new gcp.projects.IAMMember(
              `${name}-build-writes-logs`,
              { project: args.project, role: grant.role, member: grant.member },
              { parent: this },
            )
          : new gcp.projects.IAMMember(
              `${name}-build-reads-function-sources`,
              {
                project: args.project,
                role: grant.role,
                member: grant.member,
                condition: { title: grant.condition.title, expression: grant.condition.expression },
              },
              { parent: this },
            );
      case 'bucket':
        return new gcp.storage.BucketIAMMember(
          `${name}-build-reads-source`,
          { bucket: this.sourceBucket.name, role: grant.role, member: grant.member },
          { parent: this },
        );
      case 'repository':
        return new gcp.artifactregistry.RepositoryIamMember(
          `${name}-build-pushes-images`,
          {
            project: args.project,
            location: args.region,
            repository: repository.repositoryId,
            role: grant.role,
            member: grant.member,
          },
          { parent: this },
        );
      default:
        throw new Error(`WebhookReceiver ${name}: unexpected build grant scope ${grant.scope}`);
    }
  }
}

function lastSegment(resourceName: string | undefined): string | undefined {
  if (resourceName === undefined || resourceName === '') return undefined;
  return resourceName.split('/').pop();
}
