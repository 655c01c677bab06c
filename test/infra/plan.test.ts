import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ROUTE_KEYS, topicPrefixProblem } from '../../functions/catalog.ts';
import { isResourceScopedRole } from '../../policy/policies.ts';
import { filterChangeProblem } from '../../infra/subscription-filter.ts';
import { consumerNameProblem, planRoutes, planSubscription } from '../../functions/topology.ts';
import {
  API_NEEDS,
  consumerSubscriptionPattern,
  cpuForMemory,
  fitName,
  FUNCTION_NAME,
  planApis,
  planBuildGrants,
  planConsumerSubscriptions,
  planDeadLetterPublisherGrants,
  planDeadLetterSubscriberGrants,
  planNames,
  planReceiverRuntimeGrants,
  pushServiceAccountIdFor,
  REQUIRED_APIS,
  REPOSITORY_ID,
  SERVICE_ACCOUNT_ID,
  serviceAccountIdFor,
  type ApiPlanInput,
} from '../../infra/plan.ts';

const PREFIXES = ['g', 'gemini', 'acme-prod', `a${'b'.repeat(62)}`, 'x-y-z-0123456789-long-prefix-that-is-still-valid'];
const TOPIC_ID = /^[a-zA-Z][a-zA-Z0-9\-_.~+%]{2,254}$/;

describe('names respect GCP limits', () => {
  for (const prefix of PREFIXES) {
    it(`for prefix ${JSON.stringify(prefix.slice(0, 20))} (${prefix.length} chars)`, () => {
      assert.equal(topicPrefixProblem(prefix), undefined);
      const names = planNames(prefix);
      for (const id of [names.runtimeServiceAccountId, names.buildServiceAccountId]) {
        assert.match(id, SERVICE_ACCOUNT_ID, id);
        assert.ok(id.length >= 6 && id.length <= 30, id);
      }
      assert.notEqual(names.runtimeServiceAccountId, names.buildServiceAccountId);
      assert.match(names.functionName, FUNCTION_NAME);
      assert.match(names.repositoryId, REPOSITORY_ID);
      assert.ok(names.secretId.length <= 255 && /^[a-zA-Z0-9_-]+$/.test(names.secretId));
      for (const metric of [names.deliveriesMetric, names.verificationFailuresMetric, names.publishLatencyMetric])
        assert.ok(metric.length <= 100, metric);
      for (const route of planRoutes(prefix)) {
        for (const id of [route.topic, route.deadLetterTopic, route.deadLetterSubscription]) {
          assert.match(id, TOPIC_ID);
          assert.ok(!id.startsWith('goog'));
        }
      }
      for (const consumer of ['a', 'billing', `c${'d'.repeat(29)}`]) {
        const id = pushServiceAccountIdFor(prefix, consumer);
        assert.match(id, SERVICE_ACCOUNT_ID, id);
        for (const sub of planConsumerSubscriptions(prefix, consumer, ROUTE_KEYS)) {
          assert.match(sub.name, TOPIC_ID);
        }
      }
    });
  }

  it('keeps distinct long names distinct when shortening', () => {
    const long = 'p'.repeat(40);
    assert.notEqual(fitName(`${long}a`, 'receiver', 30), fitName(`${long}b`, 'receiver', 30));
    assert.equal(fitName('gemini', 'receiver', 30), 'gemini-receiver');
    assert.equal(serviceAccountIdFor('gemini', 'receiver'), 'gemini-receiver');
    assert.equal(pushServiceAccountIdFor('gemini', 'billing'), 'gemini-push-billing');
  });

  it('picks enough CPU for the memory', () => {
    assert.deepEqual([256, 4096, 8192, 16384, 32768].map(cpuForMemory), ['1', '1', '2', '4', '8']);
  });
});

describe('grant plans', () => {
  const routes = planRoutes('gemini');
  const agent = 'serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com';
  const all = [
    ...planDeadLetterPublisherGrants(routes, agent),
    ...planDeadLetterSubscriberGrants([{ name: 'gemini-batch-failed-billing' }], agent),
    ...planReceiverRuntimeGrants(
      routes,
      'gemini-webhook-signing-secrets',
      'serviceAccount:r@p.iam.gserviceaccount.com',
    ),
    ...planBuildGrants('p', 'bucket', 'repo', 'serviceAccount:b@p.iam.gserviceaccount.com'),
  ];

  it('never plans a Pub/Sub or Secret Manager role at project level', () => {
    for (const grant of all) {
      if (grant.scope === 'project') assert.ok(!isResourceScopedRole(grant.role), grant.role);
    }
    assert.deepEqual(
      all.filter((g) => g.scope === 'project').map((g) => g.role),
      ['roles/logging.logWriter', 'roles/storage.objectAdmin'],
    );
    // The storage grant reaches only the buckets Cloud Functions copies sources into.
    const storage = all.find((g) => g.scope === 'project' && g.role === 'roles/storage.objectAdmin');
    assert.match(
      storage?.condition?.expression ?? '',
      /^resource\.name\.startsWith\("projects\/_\/buckets\/gcf-v2-sources-"\)$/,
    );
  });

  it('lets the service agent publish to every dead-letter topic', () => {
    const grants = planDeadLetterPublisherGrants(routes, agent);
    assert.deepEqual(
      grants.map((g) => g.resource),
      routes.map((r) => r.deadLetterTopic),
    );
    assert.ok(grants.every((g) => g.scope === 'topic' && g.role === 'roles/pubsub.publisher' && g.member === agent));
  });

  it(
    'lets the runtime identity publish to each event topic (not dead-letter topics) ' + 'and list and read one secret',
    () => {
      const grants = planReceiverRuntimeGrants(routes, 's', 'm');
      assert.deepEqual(
        grants.filter((g) => g.scope === 'topic').map((g) => g.resource),
        routes.map((r) => r.topic),
      );
      assert.deepEqual(
        grants.filter((g) => g.scope !== 'topic'),
        [
          { scope: 'secret', resource: 's', role: 'roles/secretmanager.viewer', member: 'm' },
          { scope: 'secret', resource: 's', role: 'roles/secretmanager.secretAccessor', member: 'm' },
        ],
      );
      assert.equal(grants.length, ROUTE_KEYS.length + 2);
    },
  );

  it('adds only accessor on the receiver secret, when there is one', () => {
    const without = planReceiverRuntimeGrants(routes, 's', 'm');
    const withSecret = planReceiverRuntimeGrants(routes, 's', 'm', 'r');
    assert.deepEqual(withSecret.slice(0, without.length), without);
    assert.deepEqual(withSecret.slice(without.length), [
      { scope: 'secret', resource: 'r', role: 'roles/secretmanager.secretAccessor', member: 'm' },
    ]);
    assert.notEqual(planNames('gemini').receiverSecretId, planNames('gemini').secretId);
  });
});

describe('push identities', () => {
  it('stay distinct for long consumer names that share a start', () => {
    const a = pushServiceAccountIdFor('gemini', `${'c'.repeat(25)}-aaaa`);
    const b = pushServiceAccountIdFor('gemini', `${'c'.repeat(25)}-bbbb`);
    assert.notEqual(a, b);
    assert.notEqual(
      pushServiceAccountIdFor('prod', 'x'.repeat(30)),
      pushServiceAccountIdFor('staging', 'x'.repeat(30)),
    );
  });
});

describe('consumer subscription pattern (monitoring filters)', () => {
  it(
    'matches every subscription the consumers can hold and nothing else, ' + 'at a size that does not grow per route',
    () => {
      const consumers = ['billing', 'analytics', 'audit', 'search', 'ops', 'ml', 'reporting', 'archive'];
      const pattern = new RegExp(`^${consumerSubscriptionPattern('gemini', consumers)}$`);
      for (const consumer of consumers) {
        for (const route of ROUTE_KEYS)
          assert.ok(pattern.test(planSubscription('gemini', route, consumer).name), `${route} ${consumer}`);
      }
      for (const route of planRoutes('gemini')) {
        assert.ok(!pattern.test(route.deadLetterSubscription), route.deadLetterSubscription);
        assert.ok(!pattern.test(planSubscription('gemini', route.route, 'local').name));
      }
      assert.ok(consumerSubscriptionPattern('gemini', consumers).length < 400, 'well inside a 2,048-character filter');
    },
  );

  it('refuses "dead-letter" as a consumer name: it would collide with the dead-letter subscriptions', () => {
    assert.match(consumerNameProblem('dead-letter') ?? '', /dead-letter/);
  });
});

describe('filter change refusal', () => {
  const deployed = (filter: string) =>
    ['gemini-batch-failed-billing', 'gemini-batch-succeeded-billing'].map((subscription) => ({ subscription, filter }));

  it('says nothing while every deployed filter is the configured one', () => {
    assert.equal(filterChangeProblem('billing', 'attributes.a = "1"', deployed('attributes.a = "1"')), undefined);
    assert.equal(filterChangeProblem('billing', '', deployed('')), undefined);
  });

  it('names the consumer, a subscription, both filters and the ways forward in one line', () => {
    const problem = filterChangeProblem('billing', '', deployed('attributes.a = "1"'))!;
    assert.match(
      problem,
      /^Consumer "billing": subscription gemini-batch-failed-billing \(and 1 more of its subscriptions\) was created with filter "attributes\.a = \\"1\\"" and the config now asks for no filter;/,
    );
    assert.doesNotMatch(problem, /\n/);
    const one = filterChangeProblem('billing', 'attributes.a = "2"', [
      { subscription: 'gemini-batch-failed-billing', filter: '' },
    ])!;
    assert.match(
      one,
      /subscription gemini-batch-failed-billing was created with no filter and the config now asks for filter "attributes\.a = \\"2\\""/,
    );
  });
});

describe('planApis', () => {
  const settings: ApiPlanInput = { subscriptions: [], alertEmails: [] };

  it('enables every API a deployment always needs, each once', () => {
    assert.deepEqual(planApis(settings), [...REQUIRED_APIS]);
    assert.equal(new Set(API_NEEDS.map((need) => need.service)).size, API_NEEDS.length);
  });

  it("adds an optional feature's API only where that feature is on", () => {
    const needs = [
      ...API_NEEDS,
      { service: 'example.googleapis.com', usedFor: 'alerts', when: (s: ApiPlanInput) => s.alertEmails.length > 0 },
    ];
    assert.ok(!planApis(settings, needs).includes('example.googleapis.com'));
    assert.ok(planApis({ ...settings, alertEmails: ['a@example.com'] }, needs).includes('example.googleapis.com'));
  });
});
