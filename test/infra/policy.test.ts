/**
 * The policy pack: each policy against fabricated resources (violations and clean cases), then the
 * whole pack against the program's own resources under mocks, which must pass it untouched.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';
import {
  deadLetterTopicsHaveSubscriptions,
  noProjectLevelPubsubOrSecretGrants,
  noSecretsInEnvironment,
  POLICIES,
  publicAccessOnlyOnReceiver,
  pubsubServiceAgentCanDeadLetter,
  receiverRuntimeIsNode22,
  secretVersionsAreDisabledNotDestroyed,
  sourceArchiveIsContentAddressed,
  subscriptionsDeadLetter,
  TYPES,
} from '../../policy/policies.ts';
import { DEPLOYMENT, fixtureArgs, installMocks, recorded, settled } from './mocks.ts';

const AGENT = 'serviceAccount:service-1@gcp-sa-pubsub.iam.gserviceaccount.com';

function resource(type: string, props: Record<string, unknown>, name = 'r'): ResourceValidationArgs {
  return { type, props, urn: `urn:pulumi:test::p::${type}::${name}`, name } as unknown as ResourceValidationArgs;
}

async function violationsOf(policy: ResourceValidationPolicy, args: ResourceValidationArgs): Promise<string[]> {
  const found: string[] = [];
  const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
  for (const validate of validations) await validate(args, (message) => found.push(message));
  return found;
}

async function stackViolationsOf(
  policy: StackValidationPolicy,
  resources: ResourceValidationArgs[],
): Promise<string[]> {
  const found: string[] = [];
  await policy.validateStack({ resources } as unknown as StackValidationArgs, (message) => found.push(message));
  return found;
}

describe('resource policies', () => {
  const cases: [ResourceValidationPolicy, ResourceValidationArgs, boolean][] = [
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectMember, { role: 'roles/pubsub.publisher', member: 'user:a@b.c' }),
      true,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectBinding, { role: 'roles/secretmanager.secretAccessor', members: ['user:a@b.c'] }),
      true,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectPolicy, {
        policyData: JSON.stringify({ bindings: [{ role: 'roles/pubsub.editor', members: ['user:a@b.c'] }] }),
      }),
      true,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectMember, { role: 'roles/logging.logWriter', member: 'user:a@b.c' }),
      false,
    ],
    // The Pub/Sub agent's own role is project-wide by Google's design; to anyone else, or another role, it is not.
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectMember, { role: 'roles/pubsub.serviceAgent', member: AGENT }),
      false,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectMember, { role: 'roles/pubsub.serviceAgent', member: 'user:a@b.c' }),
      true,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.projectMember, { role: 'roles/pubsub.subscriber', member: AGENT }),
      true,
    ],
    [
      noProjectLevelPubsubOrSecretGrants,
      resource(TYPES.topicMember, { role: 'roles/pubsub.publisher', member: 'user:a@b.c', topic: 't' }),
      false,
    ],
    [
      publicAccessOnlyOnReceiver,
      resource(TYPES.runServiceMember, { role: 'roles/run.invoker', member: 'allUsers' }),
      false,
    ],
    [
      publicAccessOnlyOnReceiver,
      resource(TYPES.runServiceMember, { role: 'roles/run.admin', member: 'allUsers' }),
      true,
    ],
    [
      publicAccessOnlyOnReceiver,
      resource(TYPES.topicMember, { role: 'roles/pubsub.publisher', member: 'allUsers', topic: 't' }),
      true,
    ],
    [
      publicAccessOnlyOnReceiver,
      resource('gcp:storage/bucketIAMMember:BucketIAMMember', {
        role: 'roles/storage.objectViewer',
        member: 'allAuthenticatedUsers',
      }),
      true,
    ],
    [
      publicAccessOnlyOnReceiver,
      resource(TYPES.topicMember, {
        role: 'roles/pubsub.publisher',
        member: 'serviceAccount:x@y.iam.gserviceaccount.com',
      }),
      false,
    ],
    [receiverRuntimeIsNode22, resource(TYPES.function, { buildConfig: { runtime: 'nodejs20' } }), true],
    [receiverRuntimeIsNode22, resource(TYPES.function, { buildConfig: { runtime: 'python312' } }), true],
    [receiverRuntimeIsNode22, resource(TYPES.function, { buildConfig: { runtime: 'nodejs22' } }), false],
    [receiverRuntimeIsNode22, resource(TYPES.function, { buildConfig: { runtime: 'nodejs24' } }), false],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, { serviceConfig: { environmentVariables: { WEBHOOK_SIGNING_SECRETS: 'whsec_abc' } } }),
      true,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, { serviceConfig: { environmentVariables: { OTHER: 'prefix whsec_abc' } } }),
      true,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, {
        serviceConfig: { environmentVariables: { WEBHOOK_SIGNING_SECRETS_SECRET: 'whsec_abc' } },
      }),
      true,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, {
        serviceConfig: { secretEnvironmentVariables: [{ key: 'K', secret: 's', version: 'latest' }] },
      }),
      true,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, {
        serviceConfig: {
          secretEnvironmentVariables: [{ key: 'WEBHOOK_JWT_RECEIVER_SECRET', secret: 's', version: '1' }],
        },
      }),
      false,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, {
        serviceConfig: { environmentVariables: { WEBHOOK_JWT_RECEIVER_SECRET: 'x'.repeat(32) } },
      }),
      true,
    ],
    [
      noSecretsInEnvironment,
      resource(TYPES.function, {
        serviceConfig: { environmentVariables: { WEBHOOK_SIGNING_SECRETS_SECRET: 'projects/p/secrets/s' } },
      }),
      false,
    ],
    [
      sourceArchiveIsContentAddressed,
      resource(TYPES.function, { buildConfig: { source: { storageSource: { object: 'source.zip' } } } }),
      true,
    ],
    [
      sourceArchiveIsContentAddressed,
      resource(TYPES.function, {
        buildConfig: { source: { storageSource: { object: 'receiver-0123456789abcdef0123.zip' } } },
      }),
      false,
    ],
    [secretVersionsAreDisabledNotDestroyed, resource(TYPES.secretVersion, {}), true],
    [secretVersionsAreDisabledNotDestroyed, resource(TYPES.secretVersion, { deletionPolicy: 'DELETE' }), true],
    [secretVersionsAreDisabledNotDestroyed, resource(TYPES.secretVersion, { deletionPolicy: 'DISABLE' }), false],
    [subscriptionsDeadLetter, resource(TYPES.subscription, { name: 's', topic: 'gemini-batch-failed' }), true],
    [
      subscriptionsDeadLetter,
      resource(TYPES.subscription, {
        name: 's',
        topic: 'gemini-batch-failed',
        deadLetterPolicy: { maxDeliveryAttempts: 200 },
        retryPolicy: {},
      }),
      true,
    ],
    [
      subscriptionsDeadLetter,
      resource(TYPES.subscription, {
        name: 's',
        topic: 'gemini-batch-failed',
        deadLetterPolicy: { maxDeliveryAttempts: 5 },
      }),
      true,
    ],
    [
      subscriptionsDeadLetter,
      resource(TYPES.subscription, {
        name: 's',
        topic: 'projects/p/topics/gemini-batch-failed',
        deadLetterPolicy: { maxDeliveryAttempts: 5 },
        retryPolicy: {},
      }),
      false,
    ],
    [
      subscriptionsDeadLetter,
      resource(TYPES.subscription, { name: 's', topic: 'gemini-batch-failed-dead-letter' }),
      false,
    ],
  ];
  for (const [policy, args, violates] of cases) {
    const props = JSON.stringify(args.props).slice(0, 90);
    it(`${policy.name}: ${args.type.split(':').pop()} ${props} ${violates ? 'violates' : 'passes'}`, async () => {
      const found = await violationsOf(policy, args);
      assert.equal(found.length > 0, violates, found.join('; '));
    });
  }
});

describe('stack policies', () => {
  const topic = (name: string) => resource(TYPES.topic, { name }, name);
  const sub = (name: string, topicName: string, deadLetterTopic?: string) =>
    resource(
      TYPES.subscription,
      {
        name,
        topic: topicName,
        ...(deadLetterTopic === undefined
          ? {}
          : { deadLetterPolicy: { deadLetterTopic: `projects/p/topics/${deadLetterTopic}`, maxDeliveryAttempts: 5 } }),
      },
      name,
    );

  it('reports a dead-letter topic without a subscription', async () => {
    assert.equal((await stackViolationsOf(deadLetterTopicsHaveSubscriptions, [topic('t-dead-letter')])).length, 1);
    assert.deepEqual(
      await stackViolationsOf(deadLetterTopicsHaveSubscriptions, [
        topic('t-dead-letter'),
        sub('t-dead-letter', 'projects/p/topics/t-dead-letter'),
      ]),
      [],
    );
  });

  it('reports missing service-agent grants for a subscription that dead-letters', async () => {
    const resources = [topic('t'), topic('t-dead-letter'), sub('t-billing', 't', 't-dead-letter')];
    assert.equal((await stackViolationsOf(pubsubServiceAgentCanDeadLetter, resources)).length, 2);
    const granted = [
      ...resources,
      resource(TYPES.subscriptionMember, { subscription: 't-billing', role: 'roles/pubsub.subscriber', member: AGENT }),
      resource(TYPES.topicMember, { topic: 't-dead-letter', role: 'roles/pubsub.publisher', member: AGENT }),
    ];
    assert.deepEqual(await stackViolationsOf(pubsubServiceAgentCanDeadLetter, granted), []);
    const wrongMember = [
      ...resources,
      resource(TYPES.subscriptionMember, {
        subscription: 't-billing',
        role: 'roles/pubsub.subscriber',
        member: 'serviceAccount:x@p.iam.gserviceaccount.com',
      }),
      resource(TYPES.topicMember, { topic: 't-dead-letter', role: 'roles/pubsub.publisher', member: AGENT }),
    ];
    assert.equal((await stackViolationsOf(pubsubServiceAgentCanDeadLetter, wrongMember)).length, 1);
  });
});

describe('the program passes its own policy pack', () => {
  it('has no violations across every resource it creates', async () => {
    await installMocks();
    const { GeminiWebhooks } = await import('../../infra/components/gemini-webhooks.ts');
    new GeminiWebhooks(DEPLOYMENT, fixtureArgs());
    await settled();
    const resources = recorded.map((r) => resource(r.type, r.inputs, r.name));
    const violations: string[] = [];
    for (const policy of POLICIES) {
      if ('validateStack' in policy) violations.push(...(await stackViolationsOf(policy, resources)));
      else for (const r of resources) violations.push(...(await violationsOf(policy, r)));
    }
    assert.deepEqual(violations, []);
    assert.ok(resources.length > 60, `checked ${resources.length} resources`);
  });
});
