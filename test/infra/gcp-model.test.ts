/**
 * The model's rules, each on a small program that breaks it and one that keeps it: a model that
 * accepted everything would let first-deploy.test.ts pass for nothing. Violations are recorded
 * rather than thrown here, so that one process can show each of them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import * as time from '@pulumiverse/time';
import { installGcpModel, MODEL_PROJECT_NUMBER, serviceAccountHost, TYPES } from './gcp-model.ts';
import { registered, resolve } from './mocks.ts';

const PROJECT = 'acme-webhooks';
const urnOf = (type: string, name: string): string => `urn:pulumi:test::gemini-webhooks-pubsub::${type}::${name}`;
const prior = [
  {
    urn: urnOf(TYPES.subscription, 'kept-filter'),
    type: TYPES.subscription,
    name: 'kept-filter',
    id: 'kept-filter-1',
    inputs: { name: 'kept', topic: 't', filter: 'attributes.a = "1"' },
    state: { name: 'kept', topic: 't', filter: 'attributes.a = "1"' },
  },
  {
    urn: urnOf(TYPES.subscription, 'ignored-filter'),
    type: TYPES.subscription,
    name: 'ignored-filter',
    id: 'ignored-filter-1',
    inputs: { name: 'ignored', topic: 't', filter: 'attributes.a = "1"' },
    state: { name: 'ignored', topic: 't', filter: 'attributes.a = "1"' },
  },
];
const model = await installGcpModel({ project: PROJECT, prior, onViolation: 'record' });

/** Violations recorded while `program` registers its resources. */
async function violationsOf(program: () => pulumi.Resource[]): Promise<string[]> {
  const before = model.violations.length;
  await registered(...program());
  return model.violations.slice(before);
}

const agent = `serviceAccount:service-${MODEL_PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com`;

describe('service agents', () => {
  it('refuses a grant to an agent whose ServiceIdentity it does not depend on', async () => {
    const found = await violationsOf(() => [
      new gcp.pubsub.TopicIAMMember('string-built', { topic: 't', role: 'roles/pubsub.publisher', member: agent }),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /Service account service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com does not exist/);
  });

  it('accepts a grant whose member is the ServiceIdentity output', async () => {
    const identity = new gcp.projects.ServiceIdentity('pubsub', { project: PROJECT, service: 'pubsub.googleapis.com' });
    assert.equal(await resolve(identity.member), agent);
    assert.deepEqual(
      await violationsOf(() => [
        new gcp.pubsub.TopicIAMMember('from-identity', {
          topic: 't',
          role: 'roles/pubsub.publisher',
          member: identity.member,
        }),
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

  it('refuses an alert policy on a new metric that does not wait after it', async () => {
    const metric = new gcp.logging.Metric('errors', {
      name: 'app/errors',
      filter: 'severity>=ERROR',
      metricDescriptor: { metricKind: 'DELTA', valueType: 'INT64' },
    });
    const found = await violationsOf(() => [policy('too-early', { dependsOn: [metric] })]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /Cannot find metric\(s\) that match type = "logging\.googleapis\.com\/user\/app\/errors"\. If a metric was created recently, it could take up to 10 minutes/,
    );
    const wait = new time.Sleep('after-metric', { createDuration: '10m', triggers: { metric: metric.id } });
    assert.deepEqual(await violationsOf(() => [policy('after-wait', { dependsOn: [wait] })]), []);
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
        },
      },
      opts,
    );

  it("refuses a build right after the identity's grants, and accepts one after a wait", async () => {
    const builder = new gcp.serviceaccount.Account('builder', { project: PROJECT, accountId: 'builder' });
    const grant = new gcp.projects.IAMMember('builder-logs', {
      project: PROJECT,
      role: 'roles/logging.logWriter',
      member: builder.member,
    });
    const found = await violationsOf(() => [fn('too-early', builder.email, { dependsOn: [grant] })]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /Access to bucket gcf-v2-sources-\d+-europe-west1 denied\. You must grant Storage Object Viewer permission to builder@acme-webhooks\.iam\.gserviceaccount\.com/,
    );
    const wait = new time.Sleep('after-grants', { createDuration: '120s', triggers: { grant: grant.id } });
    assert.deepEqual(await violationsOf(() => [fn('after-wait', builder.email, { dependsOn: [wait] })]), []);
  });
});

describe('subscription filters', () => {
  it('refuses a changed filter, which replaces the subscription and deletes its backlog', async () => {
    const found = await violationsOf(() => [
      new gcp.pubsub.Subscription('kept-filter', { name: 'kept', topic: 't', filter: 'attributes.a = "2"' }),
    ]);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /replacing subscription kept to change its filter .* deletes its unacknowledged messages/);
  });

  it('keeps the deployed filter when the program ignores changes to it, as the engine does', async () => {
    const subscription = new gcp.pubsub.Subscription(
      'ignored-filter',
      { name: 'ignored', topic: 't', filter: 'attributes.a = "2"' },
      { ignoreChanges: ['filter'] },
    );
    assert.deepEqual(await violationsOf(() => [subscription]), []);
    assert.equal(await resolve(subscription.filter), 'attributes.a = "1"');
  });
});

describe('invokes', () => {
  it('refuses a data-source call, which no wait can order', async () => {
    const before = model.violations.length;
    await assert.rejects(gcp.organizations.getProject({ projectId: PROJECT }));
    assert.match(
      model.violations.slice(before).join('\n'),
      /calls gcp:organizations\/getProject:getProject; invokes cannot wait/,
    );
  });
});

describe('domain-scoped projects', () => {
  it('names service accounts with the domain after the project', () => {
    assert.equal(serviceAccountHost('example.com:acme-webhooks'), 'acme-webhooks.example.com.iam.gserviceaccount.com');
    assert.equal(serviceAccountHost('acme-webhooks'), 'acme-webhooks.iam.gserviceaccount.com');
  });
});

// Last: once an API is enabled in this run, every later resource must wait for it.
describe('API enablement', () => {
  it('refuses a call to an API enabled in this run before a wait, and accepts one after it', async () => {
    const api = new gcp.projects.Service('api-pubsub', { project: PROJECT, service: 'pubsub.googleapis.com' });
    const found = await violationsOf(() => [
      new gcp.pubsub.Topic('too-early', { name: 'too-early' }, { dependsOn: [api] }),
    ]);
    assert.equal(found.length, 1);
    assert.match(
      found[0]!,
      /If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry/,
    );
    const wait = new time.Sleep('after-apis', { createDuration: '60s', triggers: { api: api.id } });
    assert.deepEqual(
      await violationsOf(() => [new gcp.pubsub.Topic('after-wait', { name: 'after-wait' }, { dependsOn: [wait] })]),
      [],
    );
  });
});
