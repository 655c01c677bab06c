/**
 * The whole deployment under Pulumi mocks, with the full-featured fixture config: asserts the
 * least-privilege, retry and monitoring invariants on the inputs the program really passes.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { ROUTE_KEYS } from '../../functions/catalog.ts';
import { planRoutes, TOPOLOGY_DEFAULTS } from '../../functions/topology.ts';
import { buildReceiverSource, DEFAULT_SOURCE_OPTIONS } from '../../infra/archive.ts';
import { planNames, REQUIRED_APIS } from '../../infra/plan.ts';
import {
  DEPLOYMENT,
  fixtureArgs,
  fixtureSettings,
  installMocks,
  named,
  ofType,
  PROJECT,
  recorded,
  resolve,
  settled,
  SECRET_NEW,
  SECRET_OLD,
} from './mocks.ts';

await installMocks();

const { GeminiWebhooks } = await import('../../infra/components/gemini-webhooks.ts');
const settings = fixtureSettings();
const webhooks = new GeminiWebhooks(DEPLOYMENT, fixtureArgs());
const prefix = settings.topicPrefix;
const routes = planRoutes(prefix);
const names = planNames(prefix);
/** The logical name of a resource of the deployment. */
const n = (name: string): string => `${DEPLOYMENT}-${name}`;

before(settled);

const TOPIC = 'gcp:pubsub/topic:Topic';
const SUBSCRIPTION = 'gcp:pubsub/subscription:Subscription';
const TOPIC_MEMBER = 'gcp:pubsub/topicIAMMember:TopicIAMMember';
const SUBSCRIPTION_MEMBER = 'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember';
const FUNCTION = 'gcp:cloudfunctionsv2/function:Function';
/** The member the Pub/Sub ServiceIdentity answered with: every agent grant must carry exactly this. */
const agentMember = (): string =>
  named('gcp:projects/serviceIdentity:ServiceIdentity', n('pubsub-service-agent')).state['member'];

describe('the GeminiWebhooks component', () => {
  it('parents every resource it creates, all the way down, so the deployment is one tree', () => {
    const root = 'gemini-webhooks-pubsub:index:GeminiWebhooks';
    const outside = recorded.filter((r) => !r.urn.split('::')[2]!.startsWith(`${root}$`) && r.type !== root);
    assert.deepEqual(
      outside.map((r) => r.urn),
      [],
    );
    assert.ok(recorded.length > 100, `${recorded.length} resources`);
  });

  it(
    'names every resource after the deployment, ' + 'so deployments with their own topic prefixes can share a program',
    () => {
      assert.deepEqual(
        recorded.filter((r) => !r.name.startsWith(DEPLOYMENT)).map((r) => r.name),
        [],
      );
    },
  );
});

describe('event bus', () => {
  it('creates a topic and a dead-letter topic per catalog route, named by the shared topology', () => {
    const topicNames = ofType(TOPIC)
      .map((t) => t.inputs.name)
      .sort();
    const expected = routes.flatMap((r) => [r.topic, r.deadLetterTopic]).sort();
    assert.deepEqual(topicNames, expected);
    assert.equal(routes.length, ROUTE_KEYS.length);
    for (const topic of ofType(TOPIC)) {
      assert.equal(topic.inputs.messageRetentionDuration, `${TOPOLOGY_DEFAULTS.topicRetentionSeconds}s`);
      assert.match(topic.inputs.name, /^[a-zA-Z][a-zA-Z0-9\-_.~+%]{2,254}$/);
      assert.ok(!topic.inputs.name.startsWith('goog'));
    }
  });

  it('gives every dead-letter topic a subscription of its own with long retention that never expires', () => {
    for (const route of routes) {
      const subs = ofType(SUBSCRIPTION).filter((s) => s.inputs.topic === route.deadLetterTopic);
      assert.equal(subs.length, 1, `dead-letter topic ${route.deadLetterTopic} has one subscription`);
      const sub = subs[0]!;
      assert.equal(sub.inputs.name, route.deadLetterSubscription);
      assert.equal(sub.inputs.messageRetentionDuration, `${TOPOLOGY_DEFAULTS.deadLetterRetentionSeconds}s`);
      assert.equal(sub.inputs.retainAckedMessages, true);
      assert.deepEqual(sub.inputs.expirationPolicy, { ttl: '' });
    }
  });

  it('lets the Pub/Sub service agent publish to each dead-letter topic, on that topic only', () => {
    for (const route of routes) {
      const grants = ofType(TOPIC_MEMBER).filter((g) => g.inputs.topic === route.deadLetterTopic);
      assert.deepEqual(
        grants.map((g) => [g.inputs.role, g.inputs.member]),
        [['roles/pubsub.publisher', agentMember()]],
      );
    }
  });
});

describe('consumer subscriptions', () => {
  const consumerSubs = (): typeof recorded =>
    ofType(SUBSCRIPTION).filter((s) => !s.inputs.name.endsWith('-dead-letter'));

  it('creates one subscription per consumer and route, with retry and dead-letter policies to the route', () => {
    const billing = consumerSubs().filter((s) => s.inputs.labels?.consumer === 'billing');
    const analytics = consumerSubs().filter((s) => s.inputs.labels?.consumer === 'analytics');
    assert.deepEqual(billing.map((s) => s.inputs.name).sort(), [
      `${prefix}-batch-failed-billing`,
      `${prefix}-batch-succeeded-billing`,
    ]);
    assert.equal(analytics.length, ROUTE_KEYS.length, 'eventTypes ["*"] subscribes to every route');
    for (const sub of consumerSubs()) {
      const route = routes.find((r) => r.topic === sub.inputs.topic);
      assert.ok(route, `${sub.inputs.name} is on an event topic`);
      assert.deepEqual(sub.inputs.deadLetterPolicy, {
        deadLetterTopic: `projects/${PROJECT}/topics/${route.deadLetterTopic}`,
        maxDeliveryAttempts: TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
      });
      assert.deepEqual(sub.inputs.retryPolicy, { minimumBackoff: '10s', maximumBackoff: '600s' });
      assert.deepEqual(sub.inputs.expirationPolicy, { ttl: '' });
    }
  });

  it('pushes with an OIDC token of a dedicated identity, or pulls exactly once with the filter', () => {
    const billing = consumerSubs().find((s) => s.inputs.name === `${prefix}-batch-succeeded-billing`)!;
    const pushSa = named('gcp:serviceaccount/account:Account', n('consumer-billing-push'));
    assert.equal(billing.inputs.pushConfig.pushEndpoint, 'https://billing.example.com/gemini');
    assert.equal(
      billing.inputs.pushConfig.oidcToken.serviceAccountEmail,
      `${pushSa.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`,
    );
    assert.equal(billing.inputs.enableExactlyOnceDelivery, false);
    const analytics = consumerSubs().find((s) => s.inputs.name === `${prefix}-unrouted-analytics`)!;
    assert.equal(analytics.inputs.pushConfig, undefined);
    assert.equal(analytics.inputs.enableExactlyOnceDelivery, true);
    assert.equal(analytics.inputs.ackDeadlineSeconds, 120);
    assert.equal(analytics.inputs.filter, 'attributes.user_metadata_tenant = "acme"');
  });

  it('lets the Pub/Sub service agent subscribe to each subscription that dead-letters', () => {
    for (const sub of consumerSubs()) {
      const grants = ofType(SUBSCRIPTION_MEMBER).filter((g) => g.inputs.subscription === sub.inputs.name);
      assert.deepEqual(
        grants.map((g) => [g.inputs.role, g.inputs.member]),
        [['roles/pubsub.subscriber', agentMember()]],
        sub.inputs.name,
      );
    }
    assert.equal(ofType(SUBSCRIPTION_MEMBER).length, consumerSubs().length);
  });
});

describe('IAM', () => {
  it('grants no Pub/Sub or Secret Manager role project-wide but the agent its own, and nothing authoritative', () => {
    const projectLevel = recorded.filter(
      (r) => r.type.startsWith('gcp:projects/iAM') || r.type.startsWith('gcp:organizations/iAM'),
    );
    // The Pub/Sub service agent's usual role, which Google grants project-wide to agents it creates itself.
    const agentRole = projectLevel.filter((r) => r.inputs.role === 'roles/pubsub.serviceAgent');
    assert.equal(agentRole.length, 1);
    assert.match(agentRole[0]!.inputs.member, /^serviceAccount:service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/);
    assert.equal(agentRole[0]!.retainOnDelete, true, 'the role outlives the stack: Pub/Sub relies on it');
    for (const grant of projectLevel.filter((r) => r !== agentRole[0])) {
      assert.ok(
        !/^roles\/(pubsub|secretmanager)\./.test(grant.inputs.role),
        `${grant.name} grants ${grant.inputs.role} project-wide`,
      );
    }
    assert.deepEqual(
      recorded.filter((r) => /iAMPolicy|IamPolicy|iAMBinding|IamBinding/.test(r.type)).map((r) => r.type),
      [],
    );
  });

  it('grants allUsers only run.invoker on the receiver service', () => {
    const open = recorded.filter(
      (r) =>
        r.inputs.member === 'allUsers' ||
        r.inputs.member === 'allAuthenticatedUsers' ||
        (Array.isArray(r.inputs.members) &&
          r.inputs.members.some((m: string) => m.startsWith('allUsers') || m.startsWith('allAuthenticated'))),
    );
    assert.equal(open.length, 1);
    assert.equal(open[0]!.type, 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember');
    assert.equal(open[0]!.inputs.role, 'roles/run.invoker');
    assert.equal(open[0]!.inputs.name, names.functionName);
    assert.equal(open[0]!.inputs.location, 'europe-west1');
  });

  it('lets the runtime identity publish to each event topic and read the secret, nothing else', () => {
    const runtime = named('gcp:serviceaccount/account:Account', n('receiver-runtime'));
    const member = `serviceAccount:${runtime.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`;
    const held = recorded.filter((r) => r.inputs.member === member);
    const topicGrants = held.filter((r) => r.type === TOPIC_MEMBER);
    assert.deepEqual(topicGrants.map((g) => g.inputs.topic).sort(), routes.map((r) => r.topic).sort());
    assert.ok(topicGrants.every((g) => g.inputs.role === 'roles/pubsub.publisher'));
    const secretGrants = held.filter((r) => r.type === 'gcp:secretmanager/secretIamMember:SecretIamMember');
    assert.deepEqual(
      secretGrants.map((g) => [g.inputs.secretId, g.inputs.role]),
      [
        [names.secretId, 'roles/secretmanager.viewer'],
        [names.secretId, 'roles/secretmanager.secretAccessor'],
      ],
    );
    assert.equal(held.length, topicGrants.length + secretGrants.length);
  });

  it('builds as a dedicated build identity with per-resource storage and registry grants', () => {
    const build = named('gcp:serviceaccount/account:Account', n('receiver-build'));
    const member = `serviceAccount:${build.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`;
    const held = recorded
      .filter((r) => r.inputs.member === member)
      .map((r) => [r.type, r.inputs.role])
      .sort();
    assert.deepEqual(held, [
      ['gcp:artifactregistry/repositoryIamMember:RepositoryIamMember', 'roles/artifactregistry.writer'],
      ['gcp:projects/iAMMember:IAMMember', 'roles/logging.logWriter'],
      ['gcp:projects/iAMMember:IAMMember', 'roles/storage.objectAdmin'],
      ['gcp:storage/bucketIAMMember:BucketIAMMember', 'roles/storage.objectViewer'],
    ]);
    const sources = recorded.find(
      (r) =>
        r.type === 'gcp:projects/iAMMember:IAMMember' &&
        r.inputs.member === member &&
        r.inputs.role === 'roles/storage.objectAdmin',
    );
    assert.equal(
      sources?.inputs.condition?.expression,
      'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")',
    );
    for (const account of ofType('gcp:serviceaccount/account:Account')) {
      assert.match(account.inputs.accountId, /^[a-z][a-z0-9-]{4,28}[a-z0-9]$/);
    }
  });
});

describe('receiver function', () => {
  const fn = (): (typeof recorded)[number] => named(FUNCTION, n('receiver'));

  it('runs Node.js 22+ from the receiveWebhook entry point, built from the hashed archive', () => {
    const { buildConfig } = fn().inputs;
    const major = Number(/^nodejs(\d+)$/.exec(buildConfig.runtime)?.[1]);
    assert.ok(major >= 22, `runtime ${buildConfig.runtime}`);
    assert.equal(buildConfig.entryPoint, 'receiveWebhook');
    const archive = buildReceiverSource(DEFAULT_SOURCE_OPTIONS);
    assert.equal(buildConfig.source.storageSource.object, archive.objectName);
    assert.match(archive.objectName, /^receiver-[0-9a-f]{20}\.zip$/);
    assert.equal(named('gcp:storage/bucketObject:BucketObject', n('receiver-source')).inputs.name, archive.objectName);
    const build = named('gcp:serviceaccount/account:Account', n('receiver-build'));
    assert.equal(
      buildConfig.serviceAccount,
      `projects/${PROJECT}/serviceAccounts/${build.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`,
    );
    assert.equal(
      buildConfig.dockerRepository,
      `projects/${PROJECT}/locations/europe-west1/repositories/${names.repositoryId}`,
    );
  });

  it('runs as the runtime identity with the configured sizing', () => {
    const { serviceConfig, name, location } = fn().inputs;
    const runtime = named('gcp:serviceaccount/account:Account', n('receiver-runtime'));
    assert.equal(name, names.functionName);
    assert.equal(location, 'europe-west1');
    assert.equal(serviceConfig.serviceAccountEmail, `${runtime.inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`);
    assert.equal(serviceConfig.minInstanceCount, 0);
    assert.equal(serviceConfig.maxInstanceCount, 10);
    assert.equal(serviceConfig.maxInstanceRequestConcurrency, 80);
    assert.equal(serviceConfig.availableMemory, '512Mi');
    assert.equal(serviceConfig.availableCpu, '1');
    assert.equal(serviceConfig.timeoutSeconds, 60);
  });

  it('sets the contract environment variables, with the secret by resource name only', () => {
    const env = fn().inputs.serviceConfig.environmentVariables as Record<string, string>;
    assert.deepEqual(env, {
      GOOGLE_CLOUD_PROJECT: PROJECT,
      NODE_ENV: 'production',
      WEBHOOK_SIGNING_SECRETS_SECRET: `projects/${PROJECT}/secrets/${names.secretId}`,
      WEBHOOK_SCHEMES: 'static,jwt',
      WEBHOOK_JWKS_URL: 'https://generativelanguage.googleapis.com/.well-known/jwks.json',
      WEBHOOK_JWT_AUDIENCE: 'https://hooks.example.com',
      WEBHOOK_JWT_REQUIRE_BODY_BINDING: 'false',
      WEBHOOK_JWT_ALLOW_ANY_AUDIENCE: 'false',
      WEBHOOK_TOPIC_PREFIX: prefix,
      WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: '300',
      WEBHOOK_MAX_BODY_BYTES: '1048576',
      WEBHOOK_PUBLISH_TIMEOUT_MS: '5000',
      WEBHOOK_SECRET_REFRESH_SECONDS: '300',
      WEBHOOK_MAX_IN_FLIGHT: '256',
    });
    const text = JSON.stringify(fn().inputs);
    for (const secret of [SECRET_NEW, SECRET_OLD]) {
      assert.ok(
        !text.includes(secret) && !text.includes(secret.slice('whsec_'.length)),
        'no secret value in the function',
      );
    }
    assert.equal(fn().inputs.serviceConfig.secretEnvironmentVariables, undefined);
  });

  it(
    'waits for every grant, for the build grants to take effect, ' + 'and for every secret version before deploying',
    () => {
      const deps = new Set(fn().dependencies);
      const grantsTo = (account: string): typeof recorded => {
        const email = named('gcp:serviceaccount/account:Account', n(account)).state['email'];
        return recorded.filter((r) => r.inputs.member === `serviceAccount:${email}`);
      };
      const runtimeGrants = grantsTo('receiver-runtime');
      const buildGrants = grantsTo('receiver-build');
      assert.equal(runtimeGrants.length, routes.length + 2);
      assert.equal(buildGrants.length, 4);
      for (const grant of runtimeGrants) assert.ok(deps.has(grant.urn), `depends on ${grant.name}`);
      const wait = named('time:index/sleep:Sleep', n('receiver-build-grants-propagation'));
      assert.ok(deps.has(wait.urn), 'depends on the wait after the build grants');
      for (const grant of buildGrants)
        assert.ok(wait.dependencies.includes(grant.urn), `the wait follows ${grant.name}`);
      const versions = ofType('gcp:secretmanager/secretVersion:SecretVersion');
      assert.equal(versions.length, settings.signingSecrets.length);
      for (const version of versions) assert.ok(deps.has(version.urn), `depends on ${version.name}`);
    },
  );
});

describe('signing secrets', () => {
  it(
    'stores one version per configured secret, ' + 'keyed by fingerprint, disabled (not destroyed) on removal',
    async () => {
      const versions = ofType('gcp:secretmanager/secretVersion:SecretVersion');
      assert.deepEqual(
        versions.map((v) => v.name).sort(),
        settings.signingSecrets.map((s) => n(`signing-secrets-${s.fingerprint}`)).sort(),
      );
      for (const version of versions) {
        assert.equal(version.inputs.deletionPolicy, 'DISABLE');
        assert.equal(version.inputs.enabled, true);
      }
      for (const secret of settings.signingSecrets) {
        const version = named(
          'gcp:secretmanager/secretVersion:SecretVersion',
          n(`signing-secrets-${secret.fingerprint}`),
        );
        // The mocks hand a secret input over in Pulumi's wire form: marked, with the value inside.
        assert.equal(version.inputs.secretData.value, secret.reveal());
        assert.deepEqual(
          version.secretInputs,
          ['secretData'],
          'the value reaches the resource as a Pulumi secret only',
        );
      }
      const secret = named('gcp:secretmanager/secret:Secret', n('signing-secrets'));
      assert.equal(secret.inputs.secretId, names.secretId);
    },
  );

  it('keeps secret values out of every stack output', async () => {
    const outputs = await resolve(
      pulumi.output({
        receiverUrl: webhooks.receiverUrl,
        topicPrefix: webhooks.topicPrefix,
        topics: webhooks.topics,
        deadLetterSubscriptions: webhooks.deadLetterSubscriptions,
        consumerSubscriptions: webhooks.consumerSubscriptions,
        signingSecretId: webhooks.signingSecretId,
        signingSecretFingerprints: webhooks.signingSecretFingerprints,
        receiverServiceAccount: webhooks.receiverServiceAccount,
        dashboardId: webhooks.dashboardId,
        nextStep: webhooks.nextStep,
      }),
    );
    const text = JSON.stringify(outputs);
    for (const secret of [SECRET_NEW, SECRET_OLD]) {
      assert.ok(!text.includes(secret.slice('whsec_'.length)));
    }
    assert.equal(outputs['signingSecretId'], `projects/${PROJECT}/secrets/${names.secretId}`);
    assert.match(String(outputs['nextStep']), /https:\/\/.*Gemini|Gemini.*https:\/\//);
    assert.deepEqual(Object.keys(outputs['topics'] as object).sort(), [...ROUTE_KEYS].sort());
  });
});

describe('monitoring', () => {
  it('alerts on dead letters, 5xx, verification failures and consumer lag, to the configured emails', () => {
    const policies = ofType('gcp:monitoring/alertPolicy:AlertPolicy');
    assert.equal(policies.length, 4);
    const filters = policies.map((p) => p.inputs.conditions[0].conditionThreshold.filter as string);
    assert.ok(
      filters.some(
        (f) =>
          f.includes('subscription/num_undelivered_messages') &&
          routes.every((r) => f.includes(r.deadLetterSubscription)),
      ),
    );
    assert.ok(
      filters.some(
        (f) =>
          f.includes('run.googleapis.com/request_count') &&
          f.includes('"5xx"') &&
          f.includes(`service_name="${names.functionName}"`),
      ),
    );
    assert.ok(filters.some((f) => f.includes(`logging.googleapis.com/user/${names.verificationFailuresMetric}`)));
    const lag = filters.find((f) => f.includes('oldest_unacked_message_age'));
    const pattern = new RegExp(`^${/monitoring\.regex\.full_match\("([^"]+)"\)/.exec(lag ?? '')?.[1]}$`);
    assert.ok(
      pattern.test(`${prefix}-batch-failed-billing`) && pattern.test(`${prefix}-interaction-requires-action-analytics`),
      String(pattern),
    );
    assert.ok(
      !pattern.test(`${prefix}-batch-failed-dead-letter`) && !pattern.test(`${prefix}-batch-failed`),
      'not dead-letter or other subscriptions',
    );
    const channel = ofType('gcp:monitoring/notificationChannel:NotificationChannel');
    assert.deepEqual(
      channel.map((c) => c.inputs.labels.email_address),
      ['oncall@example.com'],
    );
    for (const policy of policies) assert.equal(policy.inputs.notificationChannels.length, 1);
  });

  it('counts verification failures from the contract log fields', () => {
    const metric = named('gcp:logging/metric:Metric', n('monitoring-verification-failures'));
    assert.match(metric.inputs.filter, /jsonPayload\.component="gemini-webhooks-receiver"/);
    assert.match(metric.inputs.filter, /jsonPayload\.outcome="rejected"/);
    // Scanner noise (404/405) and size or time limits (408/413) are not verification failures.
    assert.match(metric.inputs.filter, /\(jsonPayload\.status=400 OR jsonPayload\.status=401\)/);
    assert.match(metric.inputs.filter, new RegExp(`resource\\.labels\\.service_name="${names.functionName}"`));
    assert.equal(metric.inputs.labelExtractors.reason, 'EXTRACT(jsonPayload.reason)');
    const latency = named('gcp:logging/metric:Metric', n('monitoring-publish-latency'));
    assert.equal(latency.inputs.valueExtractor, 'EXTRACT(jsonPayload.publishLatencyMs)');
  });

  it('draws deliveries by type, failures by reason, publish latency and dead-letter depth', () => {
    const dashboard = JSON.parse(
      named('gcp:monitoring/dashboard:Dashboard', n('monitoring-dashboard')).inputs.dashboardJson,
    );
    const titles = dashboard.mosaicLayout.tiles.map((t: { widget: { title: string } }) => t.widget.title);
    assert.deepEqual(titles, [
      'Deliveries by event type',
      'Verification failures by reason',
      'Publish latency p99 (ms)',
      'Dead-letter depth',
    ]);
  });
});

describe('required APIs', () => {
  it('enables every API the deployment uses and leaves them on at teardown', () => {
    const services = ofType('gcp:projects/service:Service');
    assert.deepEqual(services.map((s) => s.inputs.service).sort(), [...REQUIRED_APIS].sort());
    assert.ok(services.every((s) => s.inputs.disableOnDestroy === false));
  });
});
