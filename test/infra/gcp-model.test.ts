/**
 * The model's rules, each on a small program that breaks it and one that keeps it. Violations are
 * recorded rather than thrown here, so that one process can show each of them; every violation starts
 * with its rule's id. The rules' strength against the real program is the mutation suite's subject
 * (test/infra/mutations.ts).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import * as time from '@pulumiverse/time';
import { installGcpModel, MODEL_APIS, MODEL_PROJECT_NUMBER, RULES, serviceAccountHost, TYPES } from './gcp-model.ts';
import { registered, resolve } from './mocks.ts';

const PROJECT = 'acme-webhooks';
const urnOf = (type: string, name: string): string => `urn:pulumi:test::gemini-webhooks-pubsub::${type}::${name}`;
const subscriptionState = (name: string, filter: string) => ({
  urn: urnOf(TYPES.subscription, name),
  type: TYPES.subscription,
  name,
  id: `${name}-1`,
  inputs: { name, topic: 't', filter },
  state: { name, topic: 't', filter },
});
const prior = [
  subscriptionState('kept-filter', 'attributes.a = "1"'),
  subscriptionState('ignored-filter', 'attributes.a = "1"'),
  subscriptionState('renamed', ''),
];
// Secret Manager is the one API this project lacks, for the API rule (last in this file).
const model = await installGcpModel({
  project: PROJECT,
  prior,
  onViolation: 'record',
  enabledApis: MODEL_APIS.filter((api) => api !== 'secretmanager.googleapis.com'),
  existingTopics: ['t'],
});

/** Violations recorded while `program` registers its resources. */
async function violationsOf(program: () => pulumi.Resource[]): Promise<string[]> {
  const before = model.violations.length;
  await registered(...program());
  return model.violations.slice(before);
}

const agent = `serviceAccount:service-${MODEL_PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;

describe('the rules', () => {
  it('each cite a public source', () => {
    for (const [id, rule] of Object.entries(RULES)) assert.match(rule.source, /https:\/\//, id);
  });
});

describe('service agents', () => {
  it('refuses a grant to an agent no ServiceIdentity was registered for', async () => {
    const found = await violationsOf(() => [
      new gcp.pubsub.TopicIAMMember('string-built', { topic: 't', role: 'roles/pubsub.publisher', member: agent }),
    ]);
    assert.deepEqual(found.length, 1);
    assert.match(
      found[0]!,
      /^\[service-agent-exists\] .*Service account service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com does not exist/,
    );
  });

  const identity = new gcp.projects.ServiceIdentity('pubsub', { project: PROJECT, service: 'pubsub.googleapis.com' });

  it('refuses a grant whose member is written out, even ordered after the agent', async () => {
    const found = await violationsOf(() => [
      new gcp.pubsub.TopicIAMMember(
        'hard-coded',
        { topic: 't', role: 'roles/pubsub.publisher', member: agent },
        { dependsOn: [identity] },
      ),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^\[service-agent-exists\] .*not taken from the ServiceIdentity's output/);
  });

  it('refuses a grant right after the agent was created, and accepts one after a wait', async () => {
    assert.equal(await resolve(identity.member), agent);
    const early = await violationsOf(() => [
      new gcp.pubsub.TopicIAMMember('at-once', { topic: 't', role: 'roles/pubsub.publisher', member: identity.member }),
    ]);
    assert.equal(early.length, 1);
    assert.match(early[0]!, /^\[service-agent-delay\] /);
    const wait = new time.Sleep(
      'after-agent',
      { createDuration: '60s', triggers: { agent: identity.id } },
      { dependsOn: [identity] },
    );
    const member = pulumi.all([identity.member, wait.id]).apply(([m]) => m);
    assert.deepEqual(
      await violationsOf(() => [
        new gcp.pubsub.TopicIAMMember('after-wait', { topic: 't', role: 'roles/pubsub.publisher', member }),
      ]),
      [],
    );
  });
});

describe('log-based metrics', () => {
  const policy = (name: string, opts: pulumi.CustomResourceOptions): gcp.monitoring.AlertPolicy =>
    new gcp.monitoring.AlertPolicy(
      name,
      {
        combiner: 'OR',
        displayName: name,
        conditions: [
          {
            displayName: 'c',
            conditionThreshold: {
              filter: 'metric.type="logging.googleapis.com/user/app/errors" AND resource.type="cloud_run_revision"',
              comparison: 'COMPARISON_GT',
              duration: '0s',
            },
          },
        ],
      },
      opts,
    );

  it('refuses an alert policy on a new metric that does not wait 10 minutes after it', async () => {
    const metric = new gcp.logging.Metric('errors', {
      name: 'app/errors',
      filter: 'severity>=ERROR',
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64' },
    });
    const found = await violationsOf(() => [policy('too-early', { dependsOn: [metric] })]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^\[log-metric-propagation\] .*Cannot find metric\(s\) that match type = "logging\.googleapis\.com\/user\/app\/errors"\. If a metric was created recently, it could take up to 10 minutes/,
    );
    const short = new time.Sleep(
      'short-after-metric',
      { createDuration: '5m', triggers: { metric: metric.id } },
      { dependsOn: [metric] },
    );
    const tooShort = await violationsOf(() => [policy('short-wait', { dependsOn: [short] })]);
    assert.match(tooShort[0] ?? '', /waits 5m, less than the 600 s the source gives/);
    const wait = new time.Sleep(
      'after-metric',
      { createDuration: '10m', triggers: { metric: metric.id } },
      { dependsOn: [metric] },
    );
    assert.deepEqual(await violationsOf(() => [policy('after-wait', { dependsOn: [wait] })]), []);
  });
});

describe('Sleep durations', () => {
  it("refuses what terraform-provider-time's pattern refuses", async () => {
    for (const duration of ['1m30s', '0', '.5s', '100us']) {
      const found = await violationsOf(() => [new time.Sleep(`sleep-${duration}`, { createDuration: duration })]);
      assert.equal(found.length, 1, duration);
      assert.match(found[0]!, /^\[sleep-duration\] .*must be a number immediately followed by ms/);
    }
    assert.deepEqual(await violationsOf(() => [new time.Sleep('sleep-ok', { createDuration: '1.5m' })]), []);
  });
});

describe('the build identity', () => {
  const fn = (
    name: string,
    email: pulumi.Input<string>,
    opts: pulumi.CustomResourceOptions,
  ): gcp.cloudfunctionsv2.Function =>
    new gcp.cloudfunctionsv2.Function(
      name,
      {
        location: 'europe-west1',
        name,
        buildConfig: {
          runtime: 'nodejs22',
          entryPoint: 'f',
          serviceAccount: pulumi.interpolate`projects/${PROJECT}/serviceAccounts/${email}`,
          dockerRepository: `projects/${PROJECT}/locations/europe-west1/repositories/builds`,
        },
      },
      opts,
    );
  const builder = new gcp.serviceaccount.Account('builder', { project: PROJECT, accountId: 'builder' });
  const logs = new gcp.projects.IAMMember('builder-logs', {
    project: PROJECT,
    role: 'roles/logging.logWriter',
    member: builder.member,
  });
  const images = new gcp.artifactregistry.RepositoryIamMember('builder-images', {
    project: PROJECT,
    location: 'europe-west1',
    repository: 'builds',
    role: 'roles/artifactregistry.writer',
    member: builder.member,
  });
  const sources = (role: string, name: string): gcp.projects.IAMMember =>
    new gcp.projects.IAMMember(name, {
      project: PROJECT,
      role,
      member: builder.member,
      condition: { title: 'sources', expression: 'resource.name.startsWith("projects/_/buckets/gcf-v2-sources-")' },
    });

  it('refuses a build identity without one of the roles Google lists, on its target', async () => {
    const viewer = sources('roles/storage.objectViewer', 'builder-sources-viewer');
    const found = await violationsOf(() => [fn('viewer-only', builder.email, { dependsOn: [logs, images, viewer] })]);
    assert.ok(found.length >= 1);
    assert.match(
      found[0]!,
      /^\[build-identity-roles\] .*lacks roles\/storage\.objectAdmin on bucket gcf-v2-sources-\d+-europe-west1/,
    );
  });

  it("refuses a build right after the identity's grants, and accepts one after a 120 s wait", async () => {
    const admin = sources('roles/storage.objectAdmin', 'builder-sources');
    const found = await violationsOf(() => [fn('too-early', builder.email, { dependsOn: [logs, images, admin] })]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^\[build-grant-propagation\] .*Access to bucket gcf-v2-sources-\d+-europe-west1 denied\. You must grant Storage Object Viewer permission to builder@acme-webhooks\.iam\.gserviceaccount\.com/,
    );
    const wait = new time.Sleep(
      'after-grants',
      { createDuration: '120s', triggers: { grant: admin.id } },
      { dependsOn: [logs, images, admin] },
    );
    assert.deepEqual(await violationsOf(() => [fn('after-wait', builder.email, { dependsOn: [wait] })]), []);
  });
});

describe('secret environment variables', () => {
  // Secret Manager is not enabled in this model's project: only this rule's violations are looked at.
  const ofRule = (found: string[]): string[] => found.filter((v) => v.startsWith('[secret-env-access] '));
  const runtime = 'runtime@acme-webhooks.iam.gserviceaccount.com';
  let secret: gcp.secretmanager.Secret;
  before(async () => {
    secret = new gcp.secretmanager.Secret('env-secret', { secretId: 'env-secret', replication: { auto: {} } });
    await registered(secret);
  });
  const withSecretEnv = (name: string, version: pulumi.Input<string>, opts: pulumi.CustomResourceOptions) =>
    new gcp.cloudfunctionsv2.Function(
      name,
      {
        location: 'europe-west1',
        name,
        serviceConfig: {
          serviceAccountEmail: runtime,
          secretEnvironmentVariables: [{ key: 'K', projectId: PROJECT, secret: secret.secretId, version }],
        },
      },
      opts,
    );
  const grant = (name: string, secretId: pulumi.Input<string>): gcp.secretmanager.SecretIamMember =>
    new gcp.secretmanager.SecretIamMember(name, {
      secretId,
      role: 'roles/secretmanager.secretAccessor',
      member: `serviceAccount:${runtime}`,
    });

  it('refuses a version no resource created, read by an identity without a grant', async () => {
    const found = ofRule(await violationsOf(() => [withSecretEnv('no-access', '1', { dependsOn: [secret] })]));
    assert.equal(found.length, 2, found.join('\n'));
    assert.match(found[0]!, /Permission denied on secret: projects\/acme-webhooks\/secrets\/env-secret\/versions\/1 /);
    assert.match(found[1]!, /Secret projects\/acme-webhooks\/secrets\/env-secret\/versions\/1 was not found/);
  });

  it('refuses a grant on another secret, and one made in this run that the function does not wait for', async () => {
    const version = new gcp.secretmanager.SecretVersion('env-secret-v', { secret: secret.id, secretData: 'x' });
    const other = grant('grant-on-other-secret', 'other-secret');
    const onOther = ofRule(
      await violationsOf(() => [withSecretEnv('grant-elsewhere', version.version, { dependsOn: [other] })]),
    );
    assert.equal(onOther.length, 1, onOther.join('\n'));
    assert.match(onOther[0]!, /Permission denied .* \(no such grant registered\)$/);
    const onSecret = grant('grant-on-secret', secret.secretId);
    await registered(onSecret);
    const early = ofRule(await violationsOf(() => [withSecretEnv('not-waiting', version.version, {})]));
    assert.equal(early.length, 1, early.join('\n'));
    assert.match(early[0]!, /the grant grant-on-secret is new in this run and the function does not wait for it/);
    assert.deepEqual(
      ofRule(await violationsOf(() => [withSecretEnv('after-grant', version.version, { dependsOn: [onSecret] })])),
      [],
    );
  });
});

describe('subscriptions', () => {
  it('refuses a subscription on a topic created in this run that it does not depend on', async () => {
    const topic = new gcp.pubsub.Topic('events', { name: 'events' });
    const deadLetters = new gcp.pubsub.Topic('events-dl', { name: 'events-dl' });
    await registered(topic, deadLetters);
    const found = await violationsOf(() => [
      new gcp.pubsub.Subscription('unordered', {
        name: 'unordered',
        topic: 'events',
        deadLetterPolicy: { deadLetterTopic: `projects/${PROJECT}/topics/events-dl` },
      }),
    ]);
    assert.equal(found.length, 2);
    assert.ok(found.every((v) => /^\[subscription-topics\] /.test(v)));
    assert.deepEqual(
      await violationsOf(() => [
        new gcp.pubsub.Subscription('ordered', {
          name: 'ordered',
          topic: topic.name,
          deadLetterPolicy: { deadLetterTopic: pulumi.interpolate`projects/${PROJECT}/topics/${deadLetters.name}` },
        }),
      ]),
      [],
    );
  });

  it('refuses a changed filter, which replaces the subscription and deletes its backlog', async () => {
    const found = await violationsOf(() => [
      new gcp.pubsub.Subscription('kept-filter', { name: 'kept-filter', topic: 't', filter: 'attributes.a = "2"' }),
    ]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^\[immutable-filter\] .*replacing subscription kept-filter to change its filter .* deletes its unacknowledged messages/,
    );
  });

  it('keeps the deployed filter when the program ignores changes to it, as the engine does', async () => {
    const subscription = new gcp.pubsub.Subscription(
      'ignored-filter',
      { name: 'ignored-filter', topic: 't', filter: 'attributes.a = "2"' },
      { ignoreChanges: ['filter'] },
    );
    assert.deepEqual(await violationsOf(() => [subscription]), []);
    assert.equal(await resolve(subscription.filter), 'attributes.a = "1"');
  });

  it('refuses a replacement that deletes a backlog', async () => {
    const found = await violationsOf(() => [new gcp.pubsub.Subscription('renamed', { name: 'renamed-2', topic: 't' })]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /^\[data-replacement\] renamed: replacing Subscription renamed \(changed: name[a-z, ]*\) deletes its unacknowledged messages/,
    );
  });
});

describe('invokes', () => {
  it('refuses a data-source call, which no wait can order', async () => {
    const before = model.violations.length;
    await assert.rejects(gcp.organizations.getProject({ projectId: PROJECT }));
    assert.match(
      model.violations.slice(before).join('\n'),
      /^\[no-invokes\] the program calls gcp:organizations\/getProject:getProject/,
    );
  });
});

describe('domain-scoped projects', () => {
  it('names service accounts with the domain after the project', () => {
    assert.equal(serviceAccountHost('example.com:acme-webhooks'), 'acme-webhooks.example.com.iam.gserviceaccount.com');
    assert.equal(serviceAccountHost('acme-webhooks'), 'acme-webhooks.iam.gserviceaccount.com');
  });
});

// Last: the project lacks Secret Manager; once it is enabled in this run, later secrets must wait.
describe('API enablement', () => {
  it('refuses an API nobody enabled, then one enabled in this run before a wait; accepts one after it', async () => {
    const missing = await violationsOf(() => [
      new gcp.secretmanager.Secret('no-api', { secretId: 'a', replication: { auto: {} } }),
    ]);
    assert.match(
      missing[0] ?? '',
      /^\[api-enabled\] .*secretmanager\.googleapis\.com has not been used .*\(no Service enables/,
    );
    const api = new gcp.projects.Service('api-secrets', { project: PROJECT, service: 'secretmanager.googleapis.com' });
    const found = await violationsOf(() => [
      new gcp.secretmanager.Secret('too-early', { secretId: 'b', replication: { auto: {} } }, { dependsOn: [api] }),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^\[api-enabled\] .*If you enabled this API recently, wait a few minutes/);
    const wait = new time.Sleep(
      'after-apis',
      { createDuration: '60s', triggers: { api: api.id } },
      { dependsOn: [api] },
    );
    assert.deepEqual(
      await violationsOf(() => [
        new gcp.secretmanager.Secret('after-wait', { secretId: 'c', replication: { auto: {} } }, { dependsOn: [wait] }),
      ]),
      [],
    );
  });
});
