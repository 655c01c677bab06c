/**
 * The deployment's invariants as Pulumi policies, usable on this stack and on any program that
 * builds on the components (`pulumi preview --policy-pack policy`). Pure functions of the resource
 * properties, so they are unit-tested with fabricated resources. A value Pulumi does not know yet
 * (preview of a new resource) is skipped rather than reported.
 */
import type {
  ReportViolation,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from '@pulumi/policy';

export const TYPES = {
  projectMember: 'gcp:projects/iAMMember:IAMMember',
  projectBinding: 'gcp:projects/iAMBinding:IAMBinding',
  projectPolicy: 'gcp:projects/iAMPolicy:IAMPolicy',
  runServiceMember: 'gcp:cloudrunv2/serviceIamMember:ServiceIamMember',
  function: 'gcp:cloudfunctionsv2/function:Function',
  topic: 'gcp:pubsub/topic:Topic',
  subscription: 'gcp:pubsub/subscription:Subscription',
  topicMember: 'gcp:pubsub/topicIAMMember:TopicIAMMember',
  subscriptionMember: 'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember',
  secretVersion: 'gcp:secretmanager/secretVersion:SecretVersion',
} as const;

const RESOURCE_SCOPED_ROLE = /^roles\/(pubsub|secretmanager)\./;

/** Roles that must never be granted at project level: they would reach every topic or secret. */
export function isResourceScopedRole(role: string): boolean {
  return RESOURCE_SCOPED_ROLE.test(role);
}
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const SERVICE_AGENT = /^serviceAccount:service-\d+@gcp-sa-[a-z0-9-]+\.iam\.gserviceaccount\.com$/;
const PUBSUB_AGENT = /^serviceAccount:service-\d+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$/;
const DEAD_LETTER = /-dead-letter$/;

type Props = Record<string, any>;

function lastSegment(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.split('/').pop() : undefined;
}

/** Members named by an IAM resource of any shape (member, members, or a policy document). */
export function membersOf(props: Props): string[] {
  const members: string[] = [];
  if (typeof props['member'] === 'string') members.push(props['member']);
  if (Array.isArray(props['members']))
    members.push(...props['members'].filter((m: unknown): m is string => typeof m === 'string'));
  if (typeof props['policyData'] === 'string') {
    try {
      const policy = JSON.parse(props['policyData']) as { bindings?: { members?: string[] }[] };
      for (const binding of policy.bindings ?? []) members.push(...(binding.members ?? []));
    } catch {
      // Unknown during preview or not JSON: nothing to inspect.
    }
  }
  return members;
}

/** Roles granted by an IAM resource of any shape. */
export function rolesOf(props: Props): string[] {
  if (typeof props['role'] === 'string') return [props['role']];
  if (typeof props['policyData'] === 'string') {
    try {
      const policy = JSON.parse(props['policyData']) as { bindings?: { role?: string }[] };
      return (policy.bindings ?? []).map((b) => b.role ?? '').filter((r) => r !== '');
    } catch {
      return [];
    }
  }
  return [];
}

export const noProjectLevelPubsubOrSecretGrants: ResourceValidationPolicy = {
  name: 'no-project-level-pubsub-or-secret-manager-grants',
  description:
    'Pub/Sub and Secret Manager roles are granted on single topics, subscriptions and secrets, never on the project.',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (![TYPES.projectMember, TYPES.projectBinding, TYPES.projectPolicy].includes(args.type as never)) return;
    // A service agent's own role (roles/pubsub.serviceAgent) is project-wide by design: Google grants it
    // so to every agent it creates itself, and one created on request needs it granted
    // (https://cloud.google.com/iam/docs/create-service-agents).
    const toAgentsOnly = membersOf(args.props).every((m) => SERVICE_AGENT.test(m));
    for (const role of rolesOf(args.props)) {
      if (toAgentsOnly && role.endsWith('.serviceAgent')) continue;
      if (isResourceScopedRole(role))
        report(`${role} is granted project-wide; grant it on the topic, subscription or secret instead.`);
    }
  },
};

export const publicAccessOnlyOnReceiver: ResourceValidationPolicy = {
  name: 'public-access-only-to-invoke-the-receiver',
  description:
    'allUsers/allAuthenticatedUsers may only hold roles/run.invoker on a Cloud Run service (the webhook receiver).',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    const open = membersOf(args.props).filter((m) => PUBLIC_MEMBERS.has(m));
    if (open.length === 0) return;
    const roles = rolesOf(args.props);
    if (args.type === TYPES.runServiceMember && roles.length === 1 && roles[0] === 'roles/run.invoker') return;
    report(
      `${open.join(', ')} may only be granted roles/run.invoker on the receiver's Cloud Run service, ` +
        `not ${roles.join(', ') || 'this'} on ${args.type}.`,
    );
  },
};

export const receiverRuntimeIsNode22: ResourceValidationPolicy = {
  name: 'functions-run-nodejs-22-or-newer',
  description: 'Cloud Run functions run Node.js 22 or newer.',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.function) return;
    const runtime = args.props['buildConfig']?.runtime;
    if (runtime === undefined) return;
    const major = /^nodejs(\d+)$/.exec(String(runtime))?.[1];
    if (major === undefined || Number(major) < 22) report(`runtime ${String(runtime)} is not nodejs22 or newer.`);
  },
};

export const noSecretsInEnvironment: ResourceValidationPolicy = {
  name: 'no-signing-secrets-in-function-environment',
  description:
    'Signing secrets reach the receiver through Secret Manager, never as environment values; the JWT receiver ' +
    'secret only as a secret environment variable.',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.function) return;
    const env = (args.props['serviceConfig']?.environmentVariables ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(env)) {
      if (typeof value === 'string' && /whsec_/.test(value))
        report(`environment variable ${key} holds a signing secret; store it in Secret Manager.`);
      if (key === 'WEBHOOK_SIGNING_SECRETS')
        report(
          'WEBHOOK_SIGNING_SECRETS is for local development; deployed receivers use WEBHOOK_SIGNING_SECRETS_SECRET.',
        );
      if (
        key === 'WEBHOOK_SIGNING_SECRETS_SECRET' &&
        typeof value === 'string' &&
        !/^projects\/[^/]+\/secrets\/[^/]+$/.test(value)
      ) {
        report('WEBHOOK_SIGNING_SECRETS_SECRET must name a secret (projects/<project>/secrets/<id>).');
      }
      if (key === 'WEBHOOK_JWT_RECEIVER_SECRET')
        report('WEBHOOK_JWT_RECEIVER_SECRET is a secret; deliver it as a secret environment variable.');
    }
    // The receiver reads its signing secrets from Secret Manager itself (rotation without a new revision);
    // the receiver secret is one value read at start, which Cloud Run injects from Secret Manager.
    const secretEnv = (args.props['serviceConfig']?.secretEnvironmentVariables ?? []) as { key?: unknown }[];
    for (const { key } of secretEnv) {
      if (key !== 'WEBHOOK_JWT_RECEIVER_SECRET')
        report(
          `secret environment variable ${String(key)} pins a secret into the revision; ` +
            'the receiver reads its signing secrets from Secret Manager itself.',
        );
    }
  },
};

export const sourceArchiveIsContentAddressed: ResourceValidationPolicy = {
  name: 'function-source-archive-is-content-addressed',
  description:
    "A function's source object name carries a content hash, so code changes redeploy and nothing else does.",
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.function) return;
    const object = args.props['buildConfig']?.source?.storageSource?.object;
    if (typeof object !== 'string') return;
    if (!/-[0-9a-f]{16,}\.zip$/.test(object)) report(`source object ${object} does not carry a content hash.`);
  },
};

export const secretVersionsAreDisabledNotDestroyed: ResourceValidationPolicy = {
  name: 'signing-secret-versions-are-disabled-on-removal',
  description: 'Removing a secret version from the program disables it instead of destroying it.',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.secretVersion) return;
    if (args.props['deletionPolicy'] !== 'DISABLE')
      report(`deletionPolicy is ${String(args.props['deletionPolicy'] ?? 'DELETE (the default)')}; set DISABLE.`);
  },
};

export const subscriptionsDeadLetter: ResourceValidationPolicy = {
  name: 'subscriptions-dead-letter-within-5-to-100-attempts',
  description: 'Every subscription on an event topic has a dead-letter policy (5-100 attempts) and a retry policy.',
  enforcementLevel: 'mandatory',
  validateResource: (args: ResourceValidationArgs, report: ReportViolation) => {
    if (args.type !== TYPES.subscription) return;
    const topic = lastSegment(args.props['topic']);
    if (topic === undefined || DEAD_LETTER.test(topic)) return;
    const policy = args.props['deadLetterPolicy'];
    if (policy === undefined || policy === null) {
      report(`subscription ${String(args.props['name'])} has no dead-letter policy.`);
      return;
    }
    const attempts = policy.maxDeliveryAttempts;
    if (typeof attempts === 'number' && (attempts < 5 || attempts > 100))
      report(`maxDeliveryAttempts ${attempts} is outside 5-100.`);
    if (args.props['retryPolicy'] === undefined)
      report(`subscription ${String(args.props['name'])} has no retry policy.`);
  },
};

interface Found {
  type: string;
  props: Props;
  urn: string;
}

export const deadLetterTopicsHaveSubscriptions: StackValidationPolicy = {
  name: 'dead-letter-topics-have-subscriptions',
  description:
    'Every dead-letter topic has a subscription of its own, so dead letters are kept for inspection and replay.',
  enforcementLevel: 'mandatory',
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const resources = args.resources as Found[];
    const subscribed = new Set(
      resources.filter((r) => r.type === TYPES.subscription).map((r) => lastSegment(r.props['topic'])),
    );
    for (const topic of resources.filter((r) => r.type === TYPES.topic)) {
      const name = topic.props['name'];
      if (typeof name === 'string' && DEAD_LETTER.test(name) && !subscribed.has(name))
        report(`dead-letter topic ${name} has no subscription.`, topic.urn);
    }
  },
};

export const pubsubServiceAgentCanDeadLetter: StackValidationPolicy = {
  name: 'pubsub-service-agent-can-dead-letter',
  description:
    'The Pub/Sub service agent is subscriber on each subscription ' +
    'that dead-letters and publisher on its dead-letter topic.',
  enforcementLevel: 'mandatory',
  validateStack: (args: StackValidationArgs, report: ReportViolation) => {
    const resources = args.resources as Found[];
    const agentGrants = (type: string, role: string, field: string): Set<string | undefined> =>
      new Set(
        resources
          .filter((r) => r.type === type && r.props['role'] === role && PUBSUB_AGENT.test(String(r.props['member'])))
          .map((r) => lastSegment(r.props[field])),
      );
    const subscribers = agentGrants(TYPES.subscriptionMember, 'roles/pubsub.subscriber', 'subscription');
    const publishers = agentGrants(TYPES.topicMember, 'roles/pubsub.publisher', 'topic');
    for (const sub of resources.filter((r) => r.type === TYPES.subscription && r.props['deadLetterPolicy'])) {
      const name = lastSegment(sub.props['name']);
      const deadLetterTopic = lastSegment(sub.props['deadLetterPolicy'].deadLetterTopic);
      if (name !== undefined && !subscribers.has(name))
        report(
          `the Pub/Sub service agent is not subscriber on ${name}, so it cannot dead-letter its messages.`,
          sub.urn,
        );
      if (deadLetterTopic !== undefined && !publishers.has(deadLetterTopic))
        report(`the Pub/Sub service agent cannot publish to dead-letter topic ${deadLetterTopic}.`, sub.urn);
    }
  },
};

export const POLICIES = [
  noProjectLevelPubsubOrSecretGrants,
  publicAccessOnlyOnReceiver,
  receiverRuntimeIsNode22,
  noSecretsInEnvironment,
  sourceArchiveIsContentAddressed,
  secretVersionsAreDisabledNotDestroyed,
  subscriptionsDeadLetter,
  deadLetterTopicsHaveSubscriptions,
  pubsubServiceAgentCanDeadLetter,
];
