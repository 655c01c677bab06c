/**
 * The whole program against the Google Cloud model (gcp-model.ts): a first `pulumi up` on a fresh
 * project, then an update that changes nothing, for the full fixture config and for the minimal
 * first-deploy config; then the updates that must or must not wait again, and a consumer filter
 * change, which the program must refuse before anything is replaced. Each run is a process of its
 * own, as each `pulumi up` is; the second run of a pair gets the state the first one left.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import { DEFAULT_TOPIC_PREFIX, ROUTE_KEYS, type RouteKey } from '../../functions/catalog.ts';
import { planRoutes } from '../../functions/topology.ts';
import { DEFAULTS } from '../../infra/settings.ts';
import type { RawConfig } from '../../infra/stack-config.ts';
import { MODEL_APIS, TYPES, type ModelRecord, type PriorResource } from './gcp-model.ts';
import { DEPLOYMENT, fixtureConfig, PROJECT } from './mocks.ts';
import { runProgram, type ProgramResult } from './run-program.ts';

/** The full-featured config of the mock tests (every feature on). */
const FULL: RawConfig = fixtureConfig();
/** What a new user deploys first: APIs managed elsewhere, no consumers, no secret yet, no alert emails. */
const MINIMAL: RawConfig = { 'gcp:project': PROJECT, enableApis: 'false' };
/** Where a platform team enabled every API before the first deploy (MINIMAL's `enableApis: false`). */
const PLATFORM_APIS = MODEL_APIS;

const TOPIC = 'gcp:pubsub/topic:Topic';
const API_WAIT = `${DEPLOYMENT}-apis-propagation`;
const BUILD_WAIT = `${DEPLOYMENT}-receiver-build-grants-propagation`;
const METRICS_WAIT = `${DEPLOYMENT}-monitoring-log-metrics-propagation`;
const AGENT_WAIT = `${DEPLOYMENT}-pubsub-service-agent-propagation`;

function byName(result: ProgramResult, type: string, name: string): ModelRecord {
  const found = result.records.find((r) => r.type === type && r.name === name);
  assert.ok(found, `no ${type} ${name}`);
  return found;
}

function dependenciesOf(result: ProgramResult, record: ModelRecord): Set<string> {
  const byUrn = new Map(result.records.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const queue = [...record.dependencies];
  while (queue.length > 0) {
    const next = queue.pop()!;
    if (!seen.has(next)) {
      seen.add(next);
      queue.push(...(byUrn.get(next)?.dependencies ?? []));
    }
  }
  return seen;
}

const sleeping = (result: ProgramResult): string[] =>
  result.records
    .filter((r) => r.type === TYPES.sleep && (r.action === 'create' || r.action === 'replace'))
    .map((r) => r.name)
    .sort();
const changed = (result: ProgramResult): string[] =>
  result.records.filter((r) => r.action !== 'same').map((r) => `${r.action} ${r.name}`);

function assertAccepted(result: ProgramResult): void {
  assert.deepEqual(result.violations, [], 'Google Cloud (the model) refused nothing');
  assert.deepEqual(result.errors, [], 'the program failed with no error');
}

describe('a first deploy with the full config, and the update after it', () => {
  let fresh: ProgramResult;
  let noChange: ProgramResult;
  before(() => {
    fresh = runProgram({ program: 'stack', config: FULL });
    noChange = runProgram({ program: 'stack', config: FULL, prior: fresh.state });
  });

  it('passes every rule of a fresh project', () => {
    assertAccepted(fresh);
    assert.ok(fresh.records.length > 100, `${fresh.records.length} resources`);
  });

  it('waits four times, for the configured durations', () => {
    assert.deepEqual(sleeping(fresh), [API_WAIT, METRICS_WAIT, BUILD_WAIT, AGENT_WAIT].sort());
    assert.equal(byName(fresh, TYPES.sleep, AGENT_WAIT).inputs['createDuration'], DEFAULTS.serviceAgentWait);
    assert.equal(byName(fresh, TYPES.sleep, API_WAIT).inputs['createDuration'], DEFAULTS.apiEnablementWait);
    assert.equal(byName(fresh, TYPES.sleep, BUILD_WAIT).inputs['createDuration'], DEFAULTS.buildGrantsWait);
    assert.equal(byName(fresh, TYPES.sleep, METRICS_WAIT).inputs['createDuration'], DEFAULTS.logMetricsWait);
  });

  it('waits for the APIs before anything else, and runs the log-metric wait alongside the build', () => {
    const apiWait = byName(fresh, TYPES.sleep, API_WAIT);
    for (const record of fresh.records.filter(
      (r) => r.custom && r.type.startsWith('gcp:') && r.type !== TYPES.service,
    )) {
      assert.ok(dependenciesOf(fresh, record).has(apiWait.urn), `${record.name} waits for the APIs`);
    }
    const fn = byName(fresh, TYPES.function, `${DEPLOYMENT}-receiver`);
    const buildWait = byName(fresh, TYPES.sleep, BUILD_WAIT);
    const metricsWait = byName(fresh, TYPES.sleep, METRICS_WAIT);
    for (const [a, b] of [
      [metricsWait, fn],
      [metricsWait, buildWait],
    ] as const) {
      assert.ok(
        !dependenciesOf(fresh, a).has(b.urn) && !dependenciesOf(fresh, b).has(a.urn),
        `${a.name} and ${b.name} run side by side`,
      );
    }
  });

  it("builds each wait's triggers only from the ids and unique ids of what it waits for", () => {
    const identities = new Set(
      fresh.records
        .flatMap((r) => [r.id, r.state['uniqueId']])
        .filter((v): v is string => typeof v === 'string' && v !== ''),
    );
    for (const sleep of fresh.records.filter((r) => r.type === TYPES.sleep)) {
      const values = Object.values(sleep.inputs['triggers'] as Record<string, string>).flatMap((v) => v.split(','));
      assert.ok(values.length > 0, sleep.name);
      for (const value of values)
        assert.ok(identities.has(value), `${sleep.name} trigger ${value} is a resource identity`);
      for (const dependency of values) {
        const waitedFor = fresh.records.find((r) => r.id === dependency || r.state['uniqueId'] === dependency)!;
        assert.ok(dependenciesOf(fresh, sleep).has(waitedFor.urn), `${sleep.name} follows ${waitedFor.name}`);
      }
    }
  });

  it('takes every grant to the Pub/Sub service agent from the ServiceIdentity', () => {
    const identity = byName(fresh, TYPES.serviceIdentity, `${DEPLOYMENT}-pubsub-service-agent`);
    assert.equal(identity.inputs['service'], 'pubsub.googleapis.com');
    const agentGrants = fresh.records.filter(
      (r) => typeof r.inputs['member'] === 'string' && r.inputs['member'].includes('gcp-sa-'),
    );
    // A publisher grant per dead-letter topic, a subscriber grant per consumer subscription, and token
    // creator on the push identity.
    const consumerSubscriptions = fresh.records.filter(
      (r) => r.type === TYPES.subscription && !String(r.inputs['name']).endsWith('-dead-letter'),
    );
    const deadLetterTopics = fresh.records.filter(
      (r) => r.type === 'gcp:pubsub/topic:Topic' && String(r.inputs['name']).endsWith('-dead-letter'),
    );
    // ... and the agent's own role on the project, which an agent created on request lacks.
    assert.equal(agentGrants.length, deadLetterTopics.length + consumerSubscriptions.length + 2);
    for (const grant of agentGrants) {
      assert.equal(grant.inputs['member'], identity.state['member'], grant.name);
      assert.ok(dependenciesOf(fresh, grant).has(identity.urn), `${grant.name} depends on the ServiceIdentity`);
    }
  });

  it('changes nothing and sleeps nowhere on an update that changes nothing', () => {
    assertAccepted(noChange);
    assert.deepEqual(changed(noChange), []);
    assert.deepEqual(sleeping(noChange), []);
    assert.equal(noChange.records.length, fresh.records.length);
  });

  it("does not sleep again when only a wait's duration changes", () => {
    const longer = runProgram({
      program: 'stack',
      config: {
        ...FULL,
        apiEnablementWait: '90s',
        buildGrantsWait: '3m',
        logMetricsWait: '15m',
        serviceAgentWait: '2m',
      },
      prior: fresh.state,
    });
    assertAccepted(longer);
    assert.deepEqual(sleeping(longer), []);
    assert.deepEqual(
      changed(longer).sort(),
      [`update ${API_WAIT}`, `update ${METRICS_WAIT}`, `update ${BUILD_WAIT}`, `update ${AGENT_WAIT}`].sort(),
    );
  });

  it('sleeps again, and only there, when what a wait is for is replaced', () => {
    // A new prefix renames the metrics and the build identity, so both are replaced; the APIs are not.
    // The stack allows it, so Google replaces the topics too: the only thing the model holds against it.
    const renamed = runProgram({
      program: 'stack',
      config: { ...FULL, topicPrefix: 'acme', allowReplacement: 'true' },
      prior: fresh.state,
    });
    assert.deepEqual(renamed.errors, []);
    assert.ok(renamed.violations.length > 0);
    assert.deepEqual(
      renamed.violations.filter((v) => !v.startsWith('[data-replacement] ')),
      [],
      'only the replacements the stack allowed',
    );
    assert.deepEqual(sleeping(renamed), [METRICS_WAIT, BUILD_WAIT].sort());
  });

  /** The refusal of a change that replaces data: one line per component that holds some, nothing replaced. */
  const assertRefused = (run: ProgramResult, setting: RegExp): void => {
    assert.deepEqual(run.violations, [], 'no replacement reached Google Cloud');
    assert.ok(run.errors.length > 0, 'the run failed');
    for (const error of run.errors) {
      assert.doesNotMatch(error, /\n/);
      assert.match(error, setting);
      assert.match(error, /deploy the new one as a second stack/);
      assert.match(error, /pulumi config set allowReplacement true/);
    }
    const guarded = new Set([TYPES.topic, TYPES.subscription, TYPES.secret, TYPES.function]);
    assert.deepEqual(
      run.records.filter((r) => guarded.has(r.type as never) && r.action === 'replace').map((r) => r.name),
      [],
    );
  };

  it('refuses a new topicPrefix, which would replace every topic, subscription, the secret and the URL', () => {
    const run = runProgram({ program: 'stack', config: { ...FULL, topicPrefix: 'acme' }, prior: fresh.state });
    assertRefused(
      run,
      /^Changing topicPrefix would replace (topic|subscription) gemini-[a-z-]+ \(name gemini-[a-z-]+ -> acme-[a-z-]+/,
    );
  });

  it('refuses a new region, which would give the receiver a new URL', () => {
    const run = runProgram({ program: 'stack', config: { ...FULL, 'gcp:region': 'europe-west4' }, prior: fresh.state });
    assertRefused(
      run,
      /^Changing gcp:region would replace function gemini-webhook-receiver \(location europe-west1 -> europe-west4\), losing the URL registered with Gemini/,
    );
  });

  it('refuses a new secretReplication, which would replace the secret and its versions', () => {
    const run = runProgram({
      program: 'stack',
      config: { ...FULL, secretReplication: 'europe-west1' },
      prior: fresh.state,
    });
    assertRefused(
      run,
      /^Changing secretReplication would replace secret gemini-webhook-signing-secrets \(replication automatic -> europe-west1\)/,
    );
  });

  it('protects topics, dead-letter subscriptions and the secret from deletion, unless told not to', () => {
    const dataHolding = (run: ProgramResult): ModelRecord[] =>
      run.records.filter(
        (r) =>
          r.type === TYPES.topic ||
          r.type === TYPES.secret ||
          (r.type === TYPES.subscription && String(r.inputs['name']).endsWith('-dead-letter')),
      );
    assert.equal(dataHolding(fresh).length, 10 * 3 + 1);
    assert.deepEqual(
      dataHolding(fresh)
        .filter((r) => !r.protect)
        .map((r) => r.name),
      [],
    );
    const unprotected = runProgram({ program: 'stack', config: { ...FULL, protectData: 'false' }, prior: fresh.state });
    assertAccepted(unprotected);
    assert.deepEqual(
      dataHolding(unprotected)
        .filter((r) => r.protect)
        .map((r) => r.name),
      [],
    );
  });
});

describe('an organisation with secure-by-default policies', () => {
  const orgPolicies = {
    domainRestrictedSharing: true,
    allowedIngress: ['ALLOW_INTERNAL_AND_GCLB', 'ALLOW_INTERNAL_ONLY'],
    resourceLocations: ['europe-west1', 'europe-west4'],
  };

  it('refuses the defaults: allUsers, ingress all, a global secret', () => {
    const run = runProgram({ program: 'stack', config: FULL, orgPolicies });
    const rules = [...new Set(run.violations.map((v) => /^\[([a-z-]+)\]/.exec(v)?.[1]))].sort();
    assert.deepEqual(rules, ['org-allowed-ingress', 'org-domain-restricted-sharing', 'org-resource-locations']);
  });

  it('deploys with the settings the troubleshooting table gives', () => {
    const run = runProgram({
      program: 'stack',
      config: {
        ...FULL,
        publicInvoker: 'none',
        ingress: 'internal-and-gclb',
        secretReplication: 'europe-west1,europe-west4',
      },
      orgPolicies,
    });
    assertAccepted(run);
    const fn = byName(run, TYPES.function, `${DEPLOYMENT}-receiver`);
    assert.equal(fn.inputs['serviceConfig'].ingressSettings, 'ALLOW_INTERNAL_AND_GCLB');
    const secret = run.records.find((r) => r.type === TYPES.secret)!;
    assert.deepEqual(secret.inputs['replication'], {
      userManaged: { replicas: [{ location: 'europe-west1' }, { location: 'europe-west4' }] },
    });
  });
});

/**
 * The route (catalog type or `unrouted`) each Pub/Sub resource serves, from the topic it is on: a
 * topic by its name, a subscription by its topic, a grant by its topic or its subscription. URN -> route.
 */
function routesOf(records: readonly PriorResource[]): Map<string, RouteKey> {
  const last = (path: unknown): string => String(path).split('/').pop() ?? '';
  const byTopic = new Map<string, RouteKey>();
  for (const plan of planRoutes(DEFAULT_TOPIC_PREFIX)) {
    byTopic.set(plan.topic, plan.route);
    byTopic.set(plan.deadLetterTopic, plan.route);
  }
  const bySubscription = new Map<string, RouteKey>();
  for (const record of records.filter((r) => r.type === TYPES.subscription)) {
    const route = byTopic.get(last(record.inputs['topic']));
    if (route !== undefined) bySubscription.set(String(record.inputs['name']), route);
  }
  const routes = new Map<string, RouteKey>();
  for (const record of records) {
    const route =
      record.type === TOPIC
        ? byTopic.get(String(record.inputs['name']))
        : record.type === TYPES.subscription
          ? bySubscription.get(String(record.inputs['name']))
          : record.inputs['topic'] !== undefined
            ? byTopic.get(last(record.inputs['topic']))
            : record.inputs['subscription'] !== undefined
              ? bySubscription.get(last(record.inputs['subscription']))
              : undefined;
    if (route !== undefined) routes.set(record.urn, route);
  }
  return routes;
}

/**
 * An upgrade from `prior` (a stack of the program before GeminiWebhooks existed) to this program,
 * with the full config: every old resource is found again under its alias and nothing is replaced,
 * deleted or waited for. What the old stack cannot have had is what the catalog gained since it was
 * recorded: the routes it has no topic for get their topics, subscriptions and grants created, and
 * the monitoring that lists every route is updated. Nothing else may change but the receiver's code.
 */
function assertUpgradedInPlace(prior: readonly PriorResource[], upgrade: ProgramResult): void {
  assertAccepted(upgrade);
  const matched = new Set(upgrade.records.map((r) => r.aliasedFrom ?? r.urn));
  assert.deepEqual(
    prior.map((r) => r.urn).filter((urn) => !matched.has(urn)),
    [],
    'no resource of the old stack is left to delete',
  );

  const pinned = new Set(routesOf(prior).values());
  const added = new Set(ROUTE_KEYS.filter((route) => !pinned.has(route)));
  const routes = routesOf(upgrade.records);
  const forAddedRoute = (r: ModelRecord): boolean => {
    const route = routes.get(r.urn);
    return r.custom && route !== undefined && added.has(route);
  };
  // The GeminiWebhooks component itself is new; a component is a grouping, nothing in the cloud.
  // New in the program since: the Pub/Sub agent's usual role, which an agent created on request lacks,
  // and the wait after creating the agent (it sleeps once, on this upgrade; the agent is not replaced).
  assert.deepEqual(
    upgrade.records
      .filter((r) => r.action === 'create' && !forAddedRoute(r))
      .map((r) => `${r.type} ${r.name}`)
      .sort(),
    [
      `gemini-webhooks-pubsub:index:GeminiWebhooks ${DEPLOYMENT}`,
      `${TYPES.projectMember} ${DEPLOYMENT}-pubsub-service-agent-role`,
      `${TYPES.sleep} ${AGENT_WAIT}`,
    ].sort(),
    'no other cloud resource is created anew, except for event types the old stack did not have',
  );
  for (const route of added) {
    const topics = upgrade.records.filter((r) => r.type === TOPIC && routes.get(r.urn) === route);
    assert.deepEqual(
      topics.map((r) => r.action),
      ['create', 'create'],
      `${route}, new since the state was recorded, gets its topic and dead-letter topic`,
    );
  }

  // The source object is named by the content hash of the receiver's code, which has moved on since
  // the state was recorded: a code change replaces that object and updates the function, by design.
  const codeChange = new Set([TYPES.function, 'gcp:storage/bucketObject:BucketObject']);
  const listsRoutes = new Set(added.size === 0 ? [] : [TYPES.alertPolicy, 'gcp:monitoring/dashboard:Dashboard']);
  // Since then the build identity reads function sources as Storage Object Admin, Google's list.
  const buildSources = `${DEPLOYMENT}-receiver-build-reads-function-sources`;
  // Since then the 5xx alert's runbook names one more reason (jwks_refresh_pending): its text, and
  // nothing else of the policy, is updated in place.
  const priorInputs = new Map(prior.map((r) => [r.urn, r.inputs] as const));
  const runbookOnly = (r: ModelRecord): boolean => {
    if (r.action !== 'update' || r.name !== `${DEPLOYMENT}-monitoring-receiver-5xx`) return false;
    const before = priorInputs.get(r.aliasedFrom ?? r.urn) ?? {};
    const { documentation: was, ...rest } = before;
    const { documentation: is, ...now } = r.inputs;
    return isDeepStrictEqual(rest, now) && !isDeepStrictEqual(was, is);
  };
  assert.deepEqual(
    upgrade.records
      .filter((r) => r.custom && r.action !== 'same' && r.action !== 'create')
      .filter((r) => !codeChange.has(r.type) && !forAddedRoute(r))
      .filter((r) => !(r.action === 'update' && listsRoutes.has(r.type)))
      .filter((r) => !runbookOnly(r))
      .map((r) => `${r.action} ${r.name}`)
      .sort(),
    [`replace ${buildSources}`, `replace ${BUILD_WAIT}`].sort(),
  );
  assert.deepEqual(sleeping(upgrade), [AGENT_WAIT, BUILD_WAIT].sort());
}

describe('a stack deployed before the deployment became one component', () => {
  // The state the program left before GeminiWebhooks existed (every component at the root of the
  // stack, under its former type), recorded from that program with the full config (mocks.ts
  // fixtureConfig). It pins that program's resource names, types and parents, which the aliases must
  // match, and the event catalog of that time: nine types and `unrouted`. Types added to the catalog
  // since are new resources of an upgrade, not a failure of it (assertUpgradedInPlace).
  const formerState = JSON.parse(
    readFileSync(path.join(import.meta.dirname, 'fixtures', 'stack-state-before-component.json'), 'utf8'),
  ) as PriorResource[];

  it('is updated in place: every resource it had is found again; only what the program changed since moves', () => {
    assertUpgradedInPlace(formerState, runProgram({ program: 'stack', config: FULL, prior: formerState }));
  });

  it('is updated in place when recorded before an event type existed: that type is simply added', () => {
    // The recorded state without everything of one route is the state of a catalog one type smaller,
    // so this is the upgrade after the catalog grows by a type.
    const dropped: RouteKey = 'interaction.cancelled';
    const routes = routesOf(formerState);
    const smallerCatalog = formerState.filter((r) => routes.get(r.urn) !== dropped);
    assert.ok(formerState.length - smallerCatalog.length >= 7, 'topics, subscriptions and grants of the route');
    const upgrade = runProgram({ program: 'stack', config: FULL, prior: smallerCatalog });
    assertUpgradedInPlace(smallerCatalog, upgrade);
    assert.ok(
      upgrade.records.some((r) => r.action === 'create' && r.type === TOPIC),
      'the route was created',
    );
  });
});

describe('a first deploy with the minimal config, and the update after it', () => {
  let fresh: ProgramResult;
  let noChange: ProgramResult;
  before(() => {
    fresh = runProgram({ program: 'stack', config: MINIMAL, enabledApis: PLATFORM_APIS });
    noChange = runProgram({ program: 'stack', config: MINIMAL, prior: fresh.state, enabledApis: PLATFORM_APIS });
  });

  it('passes every rule of a fresh project, waiting for the build grants and the metrics only', () => {
    assertAccepted(fresh);
    assert.deepEqual(
      fresh.records.filter((r) => r.type === TYPES.service),
      [],
    );
    assert.deepEqual(sleeping(fresh), [METRICS_WAIT, BUILD_WAIT, AGENT_WAIT].sort());
  });

  it('changes nothing and sleeps nowhere on an update that changes nothing', () => {
    assertAccepted(noChange);
    assert.deepEqual(changed(noChange), []);
    assert.deepEqual(sleeping(noChange), []);
  });
});

describe("a consumer's filter", () => {
  let fresh: ProgramResult;
  before(() => {
    fresh = runProgram({ program: 'stack', config: FULL });
  });

  /** The fixture's consumers, with the analytics consumer's filter changed or removed. */
  const withAnalyticsFilter = (filter: string | undefined): RawConfig => {
    const consumers = JSON.parse(FULL['subscriptions'] ?? '[]') as Record<string, unknown>[];
    const changed = consumers.map((consumer) => {
      if (consumer['name'] !== 'analytics') return consumer;
      const edited = { ...consumer, filter };
      if (filter === undefined) delete edited.filter;
      return edited;
    });
    return { ...FULL, subscriptions: JSON.stringify(changed) };
  };

  for (const [label, filter] of [
    ['changed', 'attributes.user_metadata_tenant = "globex"'],
    ['removed', undefined],
  ] as const) {
    it(`${label}, is refused in one line before any subscription is replaced`, () => {
      const run = runProgram({ program: 'stack', config: withAnalyticsFilter(filter), prior: fresh.state });
      assert.deepEqual(run.violations, [], 'no replacement reached Google Cloud');
      assert.equal(run.errors.length, 1, run.errors.join('\n'));
      const [error] = run.errors as [string];
      assert.doesNotMatch(error, /\n/);
      assert.match(
        error,
        /^Consumer "analytics": subscription gemini-[a-z-]+-analytics \(and \d+ more of its subscriptions\) was created with filter "attributes\.user_metadata_tenant = \\"acme\\""/,
      );
      assert.match(error, /delete the subscriptions and every unacknowledged message in them/);
      assert.match(error, /add the new filter as a new consumer, let the old one drain, then remove it/);
      assert.match(error, /remove the consumer in one `pulumi up` and add it back in the next/);
      const subscriptions = run.records.filter((r) => r.type === TYPES.subscription);
      assert.deepEqual(
        subscriptions.filter((r) => r.action !== 'same'),
        [],
        'every subscription is left as it is',
      );
    });
  }

  it('is kept as is on a new consumer, which can take the new filter', () => {
    const config = {
      ...FULL,
      subscriptions: JSON.stringify([
        ...JSON.parse(FULL.subscriptions!),
        { name: 'analytics2', eventTypes: ['*'], filter: 'attributes.user_metadata_tenant = "globex"' },
      ]),
    };
    const run = runProgram({ program: 'stack', config, prior: fresh.state });
    assertAccepted(run);
    assert.ok(
      run.records
        .filter((r) => r.type === TYPES.subscription && r.action === 'create')
        .every((r) => String(r.inputs['name']).endsWith('-analytics2')),
    );
  });
});

describe('a domain-scoped project', () => {
  it('deploys, with the project id as Google writes it in every resource path', () => {
    const project = `example.com:${PROJECT}`;
    const run = runProgram({ program: 'stack', config: { ...FULL, 'gcp:project': project } });
    assertAccepted(run);
    const fn = byName(run, TYPES.function, `${DEPLOYMENT}-receiver`);
    assert.match(fn.inputs['buildConfig'].serviceAccount, new RegExp(`^projects/${project}/serviceAccounts/[^/]+$`));
    assert.equal(
      fn.inputs['buildConfig'].dockerRepository,
      `projects/${project}/locations/europe-west1/repositories/gemini-receiver-builds`,
    );
    assert.equal(
      fn.inputs['serviceConfig'].environmentVariables.WEBHOOK_SIGNING_SECRETS_SECRET,
      `projects/${project}/secrets/gemini-webhook-signing-secrets`,
    );
    for (const subscription of run.records.filter(
      (r) => r.type === TYPES.subscription && r.inputs['deadLetterPolicy'] !== undefined,
    )) {
      assert.match(
        subscription.inputs['deadLetterPolicy'].deadLetterTopic,
        new RegExp(`^projects/${project}/topics/gemini-[a-z-]+-dead-letter$`),
      );
    }
  });
});

describe('EventSubscription on its own', () => {
  it('creates the Pub/Sub service agent it grants to', () => {
    const run = runProgram({
      program: 'subscription',
      // The deployment it subscribes to enabled the APIs.
      enabledApis: MODEL_APIS,
      config: {
        'gcp:project': `example.com:${PROJECT}`,
        subscriptions: JSON.stringify([
          { name: 'billing', eventTypes: ['batch.failed'], push: { endpoint: 'https://billing.example.com/gemini' } },
        ]),
      },
    });
    assertAccepted(run);
    const identity = byName(run, TYPES.serviceIdentity, 'billing-pubsub-agent');
    const grants = run.records.filter((r) => r.inputs['member'] === identity.state['member']);
    assert.deepEqual(grants.map((g) => g.inputs['role']).sort(), [
      'roles/iam.serviceAccountTokenCreator',
      'roles/pubsub.serviceAgent',
      'roles/pubsub.subscriber',
    ]);
    const subscription = run.records.find((r) => r.type === TYPES.subscription)!;
    assert.equal(
      subscription.inputs['deadLetterPolicy'].deadLetterTopic,
      `projects/example.com:${PROJECT}/topics/gemini-batch-failed-dead-letter`,
    );
  });
});
