/**
 * The mistakes the Google Cloud model (gcp-model.ts) must catch: one or more per rule, each a small
 * edit of a copy of the program (infra/ and functions/) and the run that shows it. The first six are
 * the ones issue 18 found passing every rule; the others are the mistakes the rules were written for.
 * mutation-suite.ts applies each to its own copy and requires the run to violate the named rule, and
 * requires every rule of the model to have a mutation here.
 */
import type { RuleId } from './gcp-model.ts';

/** The Pub/Sub agent's email in the model's project, as a mistaken program would write it out. */
const AGENT = 'service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com';

/** The runs a mutation can be shown on (mutation-suite.ts defines them). */
export type Scenario =
  'fresh-full' | 'fresh-minimal' | 'prefix-change' | 'filter-change' | 'subscription-alone' | 'org-policies';

export interface Edit {
  /** Path inside the package, e.g. `infra/plan.ts`. */
  file: string;
  /** Text that must occur exactly once in the file. */
  find: string;
  replace: string;
}

export interface Mutation {
  id: string;
  /** The mistake, in words. */
  mistake: string;
  rule: RuleId;
  scenario: Scenario;
  edits: Edit[];
}

export const MUTATIONS: readonly Mutation[] = [
  // The six of issue 18.
  {
    id: 'service-identity-before-apis',
    mistake: 'the Pub/Sub ServiceIdentity is created without waiting for API enablement',
    rule: 'api-enabled',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/gemini-webhooks.ts',
        find: "{ ...child, dependsOn: afterApis, aliases: formerly('pubsub-service-agent') }",
        replace: "{ ...child, aliases: formerly('pubsub-service-agent') }",
      },
    ],
  },
  {
    id: 'build-sources-grant-viewer',
    mistake: "the build identity's gcf-v2-sources grant is Storage Object Viewer, not Google's Object Admin",
    rule: 'build-identity-roles',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/plan.ts',
        find: "role: 'roles/storage.objectAdmin',",
        replace: "role: 'roles/storage.objectViewer',",
      },
    ],
  },
  {
    id: 'builder-logs-only',
    mistake: 'the builder is left with logWriter only',
    rule: 'build-identity-roles',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: 'names.repositoryId, buildMember).map(',
        replace: 'names.repositoryId, buildMember).slice(0, 1).map(',
      },
    ],
  },
  {
    id: 'log-metrics-wait-zero',
    mistake: 'logMetricsWait defaults to 0s',
    rule: 'log-metric-propagation',
    scenario: 'fresh-full',
    edits: [{ file: 'infra/setting-table.ts', find: "default: '10m',", replace: "default: '0s'," }],
  },
  {
    id: 'run-api-dropped',
    mistake: 'run.googleapis.com is dropped from the required APIs',
    rule: 'api-enabled',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/plan.ts',
        find: "  { service: 'run.googleapis.com', usedFor: \"Cloud Run: the receiver's service\" },\n",
        replace: '',
      },
    ],
  },
  {
    id: 'consumers-not-after-topics',
    mistake: 'consumer subscriptions are no longer ordered after their topics',
    rule: 'subscription-topics',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/gemini-webhooks.ts',
        find: 'dependsOn: [topics, ...afterApis],',
        replace: 'dependsOn: afterApis,',
      },
    ],
  },
  {
    id: 'consumer-grant-hard-coded-agent',
    mistake: 'the consumer grants name the Pub/Sub agent by a hard-coded member',
    rule: 'service-agent-exists',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/event-subscription.ts',
        find: 'subscription: subscription.name,\n          role: grant.role,\n          member: grant.member,',
        replace:
          'subscription: subscription.name,\n          role: grant.role,\n          member: `serviceAccount:' +
          AGENT +
          '`,',
      },
    ],
  },
  // The mistakes each rule was written for.
  {
    id: 'topics-before-apis',
    mistake: 'the topics do not wait for the APIs',
    rule: 'api-enabled',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/gemini-webhooks.ts',
        find: "{ ...child, dependsOn: afterApis, aliases: formerly('bus', 'gemini-webhooks:pubsub:EventBus') }",
        replace: "{ ...child, aliases: formerly('bus', 'gemini-webhooks:pubsub:EventBus') }",
      },
    ],
  },
  {
    id: 'api-wait-too-short',
    mistake: 'apiEnablementWait defaults to 10s',
    rule: 'api-enabled',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/setting-table.ts',
        find: "default: '60s',\n    description: 'Wait after enabling the APIs",
        replace: "default: '10s',\n    description: 'Wait after enabling the APIs",
      },
    ],
  },
  {
    id: 'go-duration-accepted',
    mistake: 'the waits are checked as Go durations, and one is written 2m0s',
    rule: 'sleep-duration',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/durations.ts',
        find: 'export const SLEEP_DURATION = /^[0-9]+(\\.[0-9]+)?(ms|s|m|h)$/;',
        replace: 'export const SLEEP_DURATION = /^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$/;',
      },
      {
        file: 'infra/durations.ts',
        find:
          "  const unit = text.endsWith('ms') ? 'ms' : text.slice(-1);\n" +
          '  return Number(text.slice(0, -unit.length)) * UNIT_MS[unit]!;',
        replace: '  return 120_000;',
      },
      { file: 'infra/setting-table.ts', find: "default: '120s',", replace: "default: '2m0s'," },
    ],
  },
  {
    id: 'dead-letter-grant-hard-coded-agent',
    mistake: 'the dead-letter publisher grants build the agent member from a string',
    rule: 'service-agent-exists',
    scenario: 'fresh-minimal',
    edits: [
      {
        file: 'infra/components/webhook-topics.ts',
        find: 'topic: deadLetterTopic.name,\n          role: grant.role,\n          member: grant.member,',
        replace:
          'topic: deadLetterTopic.name,\n          role: grant.role,\n          member: `serviceAccount:' +
          AGENT +
          '`,',
      },
    ],
  },
  {
    id: 'agent-member-without-wait',
    mistake: 'the agent member is handed out right after the ServiceIdentity, without the wait (#21931)',
    rule: 'service-agent-delay',
    scenario: 'fresh-minimal',
    edits: [
      {
        file: 'infra/components/service-agent.ts',
        find: 'const member = pulumi.all([identity.member, usable.id]).apply(([agentMember]) => agentMember);',
        replace: 'const member = identity.member;',
      },
    ],
  },
  {
    id: 'agent-role-missing',
    mistake: 'the agent created on request is not granted roles/pubsub.serviceAgent',
    rule: 'service-agent-role',
    scenario: 'subscription-alone',
    edits: [
      {
        file: 'infra/components/service-agent.ts',
        find: "role: 'roles/pubsub.serviceAgent', member",
        replace: "role: 'roles/pubsub.subscriber', member",
      },
    ],
  },
  {
    id: 'alert-not-after-metric-wait',
    mistake: 'the alert on rejected deliveries does not wait for the log-based metrics',
    rule: 'log-metric-propagation',
    scenario: 'fresh-minimal',
    edits: [{ file: 'infra/components/monitoring.ts', find: '[this.logMetricsPropagation],', replace: '[],' }],
  },
  {
    id: 'build-not-after-grants-wait',
    mistake: 'the function is built without waiting for its identity grants',
    rule: 'build-grant-propagation',
    scenario: 'fresh-minimal',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: '          this.buildGrantsPropagation,\n          ...args.signingSecrets.versions.values(),',
        replace: '          ...this.buildGrants,\n          ...args.signingSecrets.versions.values(),',
      },
    ],
  },
  {
    id: 'build-grants-wait-too-short',
    mistake: 'buildGrantsWait defaults to 60s, below IAM propagation',
    rule: 'build-grant-propagation',
    scenario: 'fresh-full',
    edits: [{ file: 'infra/setting-table.ts', find: "default: '120s',", replace: "default: '60s'," }],
  },
  {
    id: 'dead-letter-subscription-topic-by-name',
    mistake: "the dead-letter subscriptions name their topic as a string, not from the Topic's output",
    rule: 'subscription-topics',
    scenario: 'fresh-minimal',
    edits: [
      {
        file: 'infra/components/webhook-topics.ts',
        find: 'name: plan.deadLetterSubscription,\n          topic: deadLetterTopic.name,',
        replace: 'name: plan.deadLetterSubscription,\n          topic: plan.deadLetterTopic,',
      },
    ],
  },
  {
    id: 'filter-not-ignored',
    mistake: 'consumer subscriptions do not ignore changes to their filter, so a new one replaces them',
    rule: 'immutable-filter',
    scenario: 'filter-change',
    edits: [
      {
        file: 'infra/components/event-subscription.ts',
        find: "guardedOptions('subscription', { allowReplacement }, ['filter'])",
        replace: "guardedOptions('subscription', { allowReplacement })",
      },
    ],
  },
  {
    id: 'identity-not-guarded',
    mistake: 'topics, subscriptions, the secret and the function do not keep their deployed identity',
    rule: 'data-replacement',
    scenario: 'prefix-change',
    edits: [
      {
        file: 'infra/components/replacement-guard.ts',
        find: '...(guard.allowReplacement ? [] : REPLACING_INPUTS[kind])',
        replace: '...(guard.allowReplacement ? [] : [])',
      },
    ],
  },
  {
    id: 'invoke-for-project-number',
    mistake: 'the receiver looks its project up with a data source',
    rule: 'no-invokes',
    scenario: 'fresh-minimal',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: 'const locationName = `projects/${args.project}/locations/${args.region}`;',
        replace:
          'void gcp.organizations.getProject({ projectId: args.project }).catch(() => undefined);\n' +
          '    const locationName = `projects/${args.project}/locations/${args.region}`;',
      },
    ],
  },
  {
    id: 'public-invoker-ignored',
    mistake: 'the allUsers invoker is granted whatever publicInvoker says',
    rule: 'org-domain-restricted-sharing',
    scenario: 'org-policies',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: "if (args.publicInvoker === 'allUsers') {",
        replace: 'if (args.publicInvoker !== undefined) {',
      },
    ],
  },
  {
    id: 'ingress-ignored',
    mistake: 'the function ignores the ingress setting',
    rule: 'org-allowed-ingress',
    scenario: 'org-policies',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: "ingressSettings: args.ingress ?? 'ALLOW_ALL',",
        replace: "ingressSettings: 'ALLOW_ALL',",
      },
    ],
  },
  {
    id: 'receiver-secret-grant-on-signing-secret',
    mistake: "the runtime identity's accessor grant for the receiver secret is made on the signing secret",
    rule: 'secret-env-access',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: 'secretId: args.receiverSecret.secret.secretId,',
        replace: 'secretId: args.signingSecrets.secret.secretId,',
      },
    ],
  },
  {
    id: 'function-not-after-runtime-grants',
    mistake: "the function is deployed without waiting for its runtime identity's grants",
    rule: 'secret-env-access',
    scenario: 'fresh-full',
    edits: [
      {
        file: 'infra/components/webhook-receiver.ts',
        find: '          ...runtimeGrants,\n',
        replace: '',
      },
    ],
  },
  {
    id: 'replication-ignored',
    mistake: 'the secret ignores the replication setting',
    rule: 'org-resource-locations',
    scenario: 'org-policies',
    edits: [
      {
        file: 'infra/components/signing-secrets.ts',
        find: "replicationPolicy(args.replication ?? { kind: 'automatic' })",
        replace: "replicationPolicy({ kind: 'automatic' })",
      },
    ],
  },
];
