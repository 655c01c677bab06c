/**
 * A small model of a Google Cloud project behind Pulumi's mocks. A mock answers every registration
 * at once and accepts anything; Google Cloud does not. This model answers like the mock (inputs
 * back as outputs, plus the few outputs Google computes) but fails a registration the way Google
 * would fail the API call behind it, each rule citing the public source it models. It also keeps a
 * prior state, so a second run of the program is an update: it applies `ignoreChanges` the way the
 * Pulumi engine does, tells create, update, replace and no-change apart, and so knows whether a
 * Sleep would sleep.
 *
 * `setMocks` is per process, and a Pulumi program runs once per `pulumi up`; a fresh deploy and the
 * update after it are therefore two processes (see run-program.ts), the second given the state the
 * first recorded. URNs are the engine's (the whole chain of parent types), and a resource finds its
 * prior state through its aliases the way the engine does, so a program that moves resources can be
 * shown to update a stack in place.
 */
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import * as pulumi from '@pulumi/pulumi';

export const MODEL_PROJECT_NUMBER = '123456789012';

/**
 * Every rule of the model: an id that starts each violation (`[id] ...`), what Google Cloud (or the
 * Pulumi engine, or a provider) does, and the public source. test/infra/mutations.ts holds, per rule, a
 * mistake in the program that the rule must catch; a rule without one fails that suite.
 */
export const RULES = {
  'api-enabled': {
    what: 'a resource is created only after the API it calls is enabled and the enablement has propagated',
    source:
      'https://github.com/hashicorp/terraform-provider-google/issues/4142, ' +
      'https://github.com/hashicorp/terraform-provider-google/issues/2129, ' +
      'https://cloud.google.com/functions/docs/create-deploy-gcloud (the APIs a function needs)',
  },
  'service-agent-exists': {
    what: "a grant to a service agent takes its member from the agent's ServiceIdentity, so runs after it exists",
    source: 'https://cloud.google.com/iam/docs/create-service-agents',
  },
  'service-agent-delay': {
    what: 'a service agent created in this run is granted roles only after a wait',
    source:
      'https://github.com/hashicorp/terraform-provider-google/issues/21931, ' +
      'https://cloud.google.com/iam/docs/service-accounts-create (wait 60 seconds or more before using a new account)',
  },
  'service-agent-role': {
    what: 'a service agent created on request holds the role Google would have granted it',
    source: 'https://cloud.google.com/iam/docs/create-service-agents, https://cloud.google.com/iam/docs/service-agents',
  },
  'log-metric-propagation': {
    what: 'an alert policy on a new log-based metric waits up to 10 minutes after it',
    source: 'https://github.com/hashicorp/terraform-provider-google/issues/11102',
  },
  'build-identity-roles': {
    what: "the function's build service account holds each role Google lists, on the resource it is needed on",
    source: 'https://cloud.google.com/run/docs/configuring/services/build-service-account',
  },
  'build-grant-propagation': {
    what: "the build waits for its identity's new grants to propagate (typically 2 minutes)",
    source:
      'https://cloud.google.com/iam/docs/access-change-propagation, ' +
      'https://github.com/hashicorp/terraform-provider-google/issues/20571',
  },
  'sleep-duration': {
    what: "a Sleep's createDuration is one number and one unit, as terraform-provider-time validates it",
    source: 'https://github.com/hashicorp/terraform-provider-time/blob/main/internal/provider/resource_time_sleep.go',
  },
  'subscription-topics': {
    what: 'a subscription is created after its topic and its dead-letter topic exist',
    source:
      'https://cloud.google.com/pubsub/docs/create-subscription, https://cloud.google.com/pubsub/docs/handling-failures',
  },
  'immutable-filter': {
    what: "a subscription's filter cannot change; a new filter replaces it and deletes its backlog",
    source: 'https://cloud.google.com/pubsub/docs/subscription-message-filter',
  },
  'data-replacement': {
    what: 'replacing a topic, subscription, secret or function loses messages, secrets or the registered URL',
    source:
      'https://cloud.google.com/pubsub/docs/delete-topic, https://cloud.google.com/pubsub/docs/subscription-message-filter, ' +
      'https://cloud.google.com/functions/docs/calling/http',
  },
  'no-invokes': {
    what: 'data-source calls run before any wait and cannot be ordered after one',
    source: 'https://www.pulumi.com/docs/iac/concepts/resources/functions/',
  },
  'secret-env-access': {
    what:
      "a function's secret environment variable names a version that exists, readable by its runtime identity " +
      'through a grant made before the revision',
    source:
      'https://cloud.google.com/run/docs/configuring/services/secrets, ' +
      'https://cloud.google.com/functions/docs/configuring/secrets',
  },
  'org-domain-restricted-sharing': {
    what: 'Domain Restricted Sharing refuses allUsers and allAuthenticatedUsers in any IAM policy',
    source: 'https://cloud.google.com/resource-manager/docs/organization-policy/restricting-domains',
  },
  'org-allowed-ingress': {
    what: 'run.allowedIngress / cloudfunctions.allowedIngressSettings refuse an ingress they do not list',
    source: 'https://cloud.google.com/functions/docs/networking/network-settings#ingress_settings',
  },
  'org-resource-locations': {
    what: 'gcp.resourceLocations refuses resources, and automatic (global) secret replication, outside its regions',
    source:
      'https://cloud.google.com/resource-manager/docs/organization-policy/defining-locations, ' +
      'https://cloud.google.com/secret-manager/docs/choosing-replication',
  },
} as const;
export type RuleId = keyof typeof RULES;

/** Lower bounds of the waits, each from the rule's source, in milliseconds. */
export const WAIT_LOWER_BOUNDS_MS = {
  // A user in #2129 found 30 seconds enough; Google's own error asks to "wait a few minutes".
  apiEnablement: 30_000,
  // "Typically 2 minutes" (IAM access change propagation); the provider's tests wait 120 s (magic-modules#11909).
  buildGrants: 120_000,
  // "It could take up to 10 minutes to become available" (Cloud Monitoring's own error, #11102).
  logMetrics: 600_000,
  // "Wait for 60 seconds or more before you use the service account" (service-accounts-create).
  serviceAgent: 60_000,
} as const;

/** The Google API each resource type calls (`inputs` for the types whose API depends on them). */
const APIS_OF_TYPE: Record<string, (inputs: Record<string, any>) => readonly string[]> = {
  'gcp:projects/service:Service': () => ['serviceusage.googleapis.com'],
  // Service Usage creates the agent, for a service that must be enabled.
  'gcp:projects/serviceIdentity:ServiceIdentity': (inputs) => [
    'serviceusage.googleapis.com',
    String(inputs['service']),
  ],
  'gcp:projects/iAMMember:IAMMember': () => ['cloudresourcemanager.googleapis.com'],
  'gcp:serviceaccount/account:Account': () => ['iam.googleapis.com'],
  'gcp:serviceaccount/iAMMember:IAMMember': () => ['iam.googleapis.com'],
  'gcp:storage/bucket:Bucket': () => ['storage.googleapis.com'],
  'gcp:storage/bucketObject:BucketObject': () => ['storage.googleapis.com'],
  'gcp:storage/bucketIAMMember:BucketIAMMember': () => ['storage.googleapis.com'],
  'gcp:artifactregistry/repository:Repository': () => ['artifactregistry.googleapis.com'],
  'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember': () => ['artifactregistry.googleapis.com'],
  // "Enable the Cloud Functions, Cloud Build, Artifact Registry, Cloud Run, and Logging APIs".
  'gcp:cloudfunctionsv2/function:Function': () => [
    'cloudfunctions.googleapis.com',
    'cloudbuild.googleapis.com',
    'artifactregistry.googleapis.com',
    'run.googleapis.com',
    'logging.googleapis.com',
    'storage.googleapis.com',
  ],
  'gcp:cloudrunv2/serviceIamMember:ServiceIamMember': () => ['run.googleapis.com'],
  'gcp:secretmanager/secret:Secret': () => ['secretmanager.googleapis.com'],
  'gcp:secretmanager/secretVersion:SecretVersion': () => ['secretmanager.googleapis.com'],
  'gcp:secretmanager/secretIamMember:SecretIamMember': () => ['secretmanager.googleapis.com'],
  'gcp:pubsub/topic:Topic': () => ['pubsub.googleapis.com'],
  'gcp:pubsub/subscription:Subscription': () => ['pubsub.googleapis.com'],
  'gcp:pubsub/topicIAMMember:TopicIAMMember': () => ['pubsub.googleapis.com'],
  'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember': () => ['pubsub.googleapis.com'],
  'gcp:logging/metric:Metric': () => ['logging.googleapis.com'],
  'gcp:monitoring/alertPolicy:AlertPolicy': () => ['monitoring.googleapis.com'],
  'gcp:monitoring/notificationChannel:NotificationChannel': () => ['monitoring.googleapis.com'],
  'gcp:monitoring/dashboard:Dashboard': () => ['monitoring.googleapis.com'],
};

/** What docs/deploy.md has the user enable before the first `pulumi up`. */
export const PREREQUISITE_APIS = ['cloudresourcemanager.googleapis.com', 'serviceusage.googleapis.com'] as const;

/** Every API some resource type of the table calls: a project whose platform team enabled everything. */
export const MODEL_APIS: readonly string[] = [
  ...new Set(
    Object.entries(APIS_OF_TYPE).flatMap(([type, apis]) =>
      type === 'gcp:projects/serviceIdentity:ServiceIdentity' ? apis({ service: 'pubsub.googleapis.com' }) : apis({}),
    ),
  ),
].sort();

/** The role Google grants a service agent it creates by itself (https://cloud.google.com/iam/docs/service-agents). */
const SERVICE_AGENT_ROLE: Record<string, string> = { 'pubsub.googleapis.com': 'roles/pubsub.serviceAgent' };

/**
 * Google's list for a Cloud Run functions build service account
 * (https://cloud.google.com/run/docs/configuring/services/build-service-account): Logs Writer, Artifact
 * Registry Writer, Storage Object Admin ("for retrieving the function source from the Cloud Storage
 * bucket"). Each with the roles that contain it, and where it is needed.
 */
const BUILD_ROLES = [
  { role: 'roles/logging.logWriter', covers: ['roles/logging.logWriter', 'roles/logging.admin'], on: 'project' },
  {
    role: 'roles/artifactregistry.writer',
    covers: ['roles/artifactregistry.writer', 'roles/artifactregistry.repoAdmin', 'roles/artifactregistry.admin'],
    on: 'repository',
  },
  { role: 'roles/storage.objectAdmin', covers: ['roles/storage.objectAdmin', 'roles/storage.admin'], on: 'sources' },
] as const;

/** Org policies of a secure-by-default organisation, as the model enforces them. */
export interface OrgPolicies {
  /** iam.allowedPolicyMemberDomains: no allUsers or allAuthenticatedUsers. */
  domainRestrictedSharing?: boolean;
  /** run.allowedIngress / cloudfunctions.allowedIngressSettings: the function API's ingress values allowed. */
  allowedIngress?: readonly string[];
  /** gcp.resourceLocations: the regions allowed (`global` is never among them). */
  resourceLocations?: readonly string[];
}

/** What the engine would do with a resource in this run. */
export type Action = 'create' | 'same' | 'update' | 'replace';

/** One resource as the state records it after a run. */
export interface PriorResource {
  urn: string;
  type: string;
  name: string;
  id: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  protect?: boolean;
}

export interface ModelRecord extends PriorResource {
  custom: boolean;
  /** The URNs this resource may have had before (its aliases, explicit and inherited from its parent). */
  aliases: string[];
  /** The prior resource it was matched with, when that had another URN. */
  aliasedFrom?: string;
  /** Top-level inputs the program sent as Pulumi secrets (encrypted in the state). */
  secretInputs: string[];
  /** Direct dependencies (URNs): explicit dependsOn and the resources its inputs came from. */
  dependencies: string[];
  /** Per input, the resources its value came from (URNs). */
  propertyDependencies: Record<string, string[]>;
  ignoreChanges: string[];
  protect: boolean;
  retainOnDelete: boolean;
  action: Action;
  /** Registration order, from 0. */
  order: number;
}

export interface ModelOptions {
  /** Project the provider defaults to when a resource names none. */
  project: string;
  /** The state of the previous run; a fresh project when absent. */
  prior?: readonly PriorResource[];
  /** APIs the project had before the program ran. Default: the prerequisites of docs/deploy.md. */
  enabledApis?: readonly string[];
  /** Topics that exist outside the program (another stack's), by name. */
  existingTopics?: readonly string[];
  orgPolicies?: OrgPolicies;
  /** Throw like Google (default), or only record the violation (to test the rules themselves). */
  onViolation?: 'throw' | 'record';
}

export const TYPES = {
  service: 'gcp:projects/service:Service',
  serviceIdentity: 'gcp:projects/serviceIdentity:ServiceIdentity',
  sleep: 'time:index/sleep:Sleep',
  topic: 'gcp:pubsub/topic:Topic',
  subscription: 'gcp:pubsub/subscription:Subscription',
  metric: 'gcp:logging/metric:Metric',
  alertPolicy: 'gcp:monitoring/alertPolicy:AlertPolicy',
  function: 'gcp:cloudfunctionsv2/function:Function',
  account: 'gcp:serviceaccount/account:Account',
  bucket: 'gcp:storage/bucket:Bucket',
  bucketMember: 'gcp:storage/bucketIAMMember:BucketIAMMember',
  projectMember: 'gcp:projects/iAMMember:IAMMember',
  repositoryMember: 'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember',
  secret: 'gcp:secretmanager/secret:Secret',
  secretVersion: 'gcp:secretmanager/secretVersion:SecretVersion',
  secretMember: 'gcp:secretmanager/secretIamMember:SecretIamMember',
  repository: 'gcp:artifactregistry/repository:Repository',
} as const;

const FRESH: ReadonlySet<Action> = new Set(['create', 'replace']);

/** Service agents: `service-<project number>@<service>.iam.gserviceaccount.com` (https://cloud.google.com/iam/docs/service-agents). */
const SERVICE_AGENT_MEMBER = /^serviceAccount:(service-\d+@[a-z0-9-]+\.iam\.gserviceaccount\.com)$/;
const USER_METRIC = /logging\.googleapis\.com\/user\/([A-Za-z0-9_./-]+?)(?=["\\])/g;
const PUBLIC_MEMBERS = new Set(['allUsers', 'allAuthenticatedUsers']);
const SLEEP_DURATION = /^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a duration terraform-provider-time accepts (the model's own reading, not the program's). */
function sleepMs(text: unknown): number | undefined {
  if (typeof text !== 'string' || !SLEEP_DURATION.test(text)) return undefined;
  const unit = text.endsWith('ms') ? 'ms' : text.slice(-1);
  return Number(text.slice(0, -unit.length)) * UNIT_MS[unit]!;
}

/**
 * Inputs whose change replaces the resource rather than updating it. Names and projects identify a
 * resource in Google Cloud, so a new one is a different resource. Type-specific ones cite their source.
 */
const REPLACED_ON_CHANGE: Record<string, readonly string[]> = {
  // "Arbitrary map of values that, when changed, will run any creation or destroy delays again";
  // a changed createDuration alone does not (https://www.pulumi.com/registry/packages/time/api-docs/sleep/).
  [TYPES.sleep]: ['triggers'],
  // A filter cannot change after creation (https://cloud.google.com/pubsub/docs/subscription-message-filter),
  // nor can message ordering (https://cloud.google.com/pubsub/docs/ordering).
  [TYPES.subscription]: ['name', 'project', 'topic', 'filter', 'enableMessageOrdering'],
  // A secret's replication is fixed when it is created (https://cloud.google.com/secret-manager/docs/choosing-replication).
  [TYPES.secret]: ['secretId', 'project', 'replication'],
};
const IDENTITY_INPUTS = [
  'name',
  'project',
  'accountId',
  'secretId',
  'repositoryId',
  'service',
  'location',
  'topic',
  'subscription',
  'bucket',
];
/** IAM member resources have no update: every input is part of the binding they add. */
const IAM_MEMBER_TYPE = /IAMMember|IamMember/;

function replacedOnChange(type: string): readonly string[] | 'all' {
  if (IAM_MEMBER_TYPE.test(type)) return 'all';
  return REPLACED_ON_CHANGE[type] ?? IDENTITY_INPUTS;
}

function plain<T>(value: T): T {
  return value === undefined ? value : JSON.parse(JSON.stringify(value));
}

function hash(text: string, length: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, length);
}

/** `example.com:my-project` names its accounts `…@my-project.example.com.iam.gserviceaccount.com`. */
export function serviceAccountHost(project: string): string {
  const [domain, id] = project.includes(':') ? (project.split(':') as [string, string]) : [undefined, project];
  return `${domain === undefined ? id : `${id}.${domain}`}.iam.gserviceaccount.com`;
}

/** The last path segment of a topic reference (`projects/p/topics/t` or `t`). */
function topicName(reference: unknown): string | undefined {
  return typeof reference === 'string' && reference !== '' ? reference.split('/').pop() : undefined;
}

/**
 * Whether an IAM condition holds for a resource name. The model reads `resource.name.startsWith("…")`
 * terms joined by `||`, the only form the program writes; any other condition counts as not holding.
 */
function conditionHolds(condition: { expression?: string } | undefined, resourceName: string): boolean {
  if (condition === undefined) return true;
  return String(condition.expression ?? '')
    .split('||')
    .some((term) => {
      const prefix = /^\s*resource\.name\.startsWith\("([^"]*)"\)\s*$/.exec(term)?.[1];
      return prefix !== undefined && resourceName.startsWith(prefix);
    });
}

export class GcpModel {
  readonly records: ModelRecord[] = [];
  readonly violations: string[] = [];
  readonly #byUrn = new Map<string, ModelRecord>();
  readonly #prior: Map<string, PriorResource>;
  readonly #options: ModelOptions;
  readonly #enabledApis: ReadonlySet<string>;

  constructor(options: ModelOptions) {
    this.#options = options;
    this.#prior = new Map((options.prior ?? []).map((r) => [r.urn, r]));
    this.#enabledApis = new Set(options.enabledApis ?? PREREQUISITE_APIS);
  }

  /** The state this run leaves, to give the next run as its prior. */
  state(): PriorResource[] {
    return this.records.map(({ urn, type, name, id, inputs, state, protect }) => ({
      urn,
      type,
      name,
      id,
      inputs: plain(inputs),
      state: plain(state),
      protect,
    }));
  }

  /** Sleeps that sleep in this run: created or replaced. */
  sleeping(): ModelRecord[] {
    return this.records.filter((r) => r.type === TYPES.sleep && FRESH.has(r.action));
  }

  /** Every resource `urn` depends on, directly or through others. */
  dependenciesOf(urn: string): Set<string> {
    const seen = new Set<string>();
    const queue = [...(this.#byUrn.get(urn)?.dependencies ?? [])];
    while (queue.length > 0) {
      const next = queue.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(...(this.#byUrn.get(next)?.dependencies ?? []));
    }
    return seen;
  }

  follows(later: ModelRecord, earlier: ModelRecord): boolean {
    return this.dependenciesOf(later.urn).has(earlier.urn);
  }

  /** Registers one resource: decides the action, checks the rules, answers with id and outputs. */
  register(args: {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    inputs: Record<string, any>;
    dependencies: string[];
    propertyDependencies: Record<string, string[]>;
    ignoreChanges: string[];
    aliases: string[];
    secretInputs: string[];
    protect: boolean;
    retainOnDelete: boolean;
  }): { id: string; state: Record<string, any> } {
    const aliasedFrom = this.#prior.has(args.urn) ? undefined : args.aliases.find((urn) => this.#prior.has(urn));
    const prior = this.#prior.get(aliasedFrom ?? args.urn);
    const goal = this.#goal(args.inputs, args.ignoreChanges, prior);
    const action = this.#action(args.type, goal, prior);
    const record: ModelRecord = {
      ...args,
      ...(aliasedFrom === undefined ? {} : { aliasedFrom }),
      inputs: goal,
      action,
      order: this.records.length,
      id: '',
      state: {},
    };
    if (prior !== undefined && action !== 'replace' && action !== 'create') record.id = prior.id;
    else record.id = args.custom ? `${args.name}-${hash(`${args.urn}\0${JSON.stringify(plain(goal))}`, 8)}` : '';
    record.state = action === 'same' && prior !== undefined ? prior.state : { ...goal, ...this.#computed(record) };
    this.records.push(record);
    this.#byUrn.set(record.urn, record);
    if (args.custom) {
      for (const problem of this.#problems(record, prior)) this.#violate(problem);
    }
    return { id: record.id, state: record.state };
  }

  /** Invokes run before any wait and cannot be ordered after one; the program makes none. */
  call(token: string): never {
    const problem =
      `[no-invokes] the program calls ${token}; invokes cannot wait for API enablement ` +
      'or a service agent, take the value from a resource instead';
    this.violations.push(problem);
    throw new Error(problem);
  }

  /**
   * The rules that look at the whole run once every registration is in. Violations are recorded,
   * never thrown: the run is over.
   */
  finish(): string[] {
    const found = [...this.#serviceAgentRoles()];
    this.violations.push(...found);
    return found;
  }

  #violate(problem: string): void {
    this.violations.push(problem);
    if ((this.#options.onViolation ?? 'throw') === 'throw') throw new Error(problem);
  }

  /**
   * The engine uses the old value of an ignored property, from the state, for the diff and for the
   * update, and the program's value when there is no old one (creation)
   * (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/).
   */
  #goal(inputs: Record<string, any>, ignoreChanges: string[], prior: PriorResource | undefined): Record<string, any> {
    const goal = plain(inputs);
    if (prior === undefined) return goal;
    for (const key of ignoreChanges) {
      if (!/^[A-Za-z0-9_]+$/.test(key)) throw new Error(`the model handles top-level ignoreChanges only, not ${key}`);
      if (key in prior.inputs) goal[key] = prior.inputs[key];
      else delete goal[key];
    }
    return goal;
  }

  #action(type: string, goal: Record<string, any>, prior: PriorResource | undefined): Action {
    if (prior === undefined) return 'create';
    if (isDeepStrictEqual(goal, prior.inputs)) return 'same';
    const keys = replacedOnChange(type);
    const replaced = keys === 'all' || keys.some((key) => !isDeepStrictEqual(goal[key], prior.inputs[key]));
    return replaced ? 'replace' : 'update';
  }

  #project(record: ModelRecord): string {
    return record.inputs['project'] ?? this.#options.project;
  }

  /** The outputs Google computes, for the types whose outputs the program reads. */
  #computed(record: ModelRecord): Record<string, any> {
    const inputs = record.inputs;
    const project = this.#project(record);
    switch (record.type) {
      case TYPES.account: {
        const email = `${inputs['accountId']}@${serviceAccountHost(project)}`;
        // A re-created account keeps its email and gets a new unique id.
        const uniqueId = BigInt(`0x${hash(record.id, 15)}`)
          .toString()
          .padStart(21, '1')
          .slice(0, 21);
        return {
          email,
          member: `serviceAccount:${email}`,
          name: `projects/${project}/serviceAccounts/${email}`,
          uniqueId,
        };
      }
      case TYPES.serviceIdentity: {
        // Service agents are named for the project number and the service
        // (https://cloud.google.com/iam/docs/service-agents).
        const service = String(inputs['service']).split('.')[0];
        const email = `service-${MODEL_PROJECT_NUMBER}@gcp-sa-${service}.iam.gserviceaccount.com`;
        return { email, member: `serviceAccount:${email}` };
      }
      case TYPES.function:
        return {
          url: `https://${inputs['name']}-${hash(record.id, 10)}-${inputs['location']}.a.run.app`,
          serviceConfig: {
            ...inputs['serviceConfig'],
            service: `projects/${project}/locations/${inputs['location']}/services/${inputs['name']}`,
          },
        };
      case TYPES.bucket:
        return { name: inputs['name'] ?? `${record.name}-${hash(record.id, 7)}` };
      case TYPES.secretVersion: {
        // Secret Manager numbers a secret's versions from 1, in the order they are added.
        const earlier = this.records.filter(
          (r) => r.type === TYPES.secretVersion && r.inputs['secret'] === inputs['secret'] && r.order < record.order,
        );
        return { version: String(earlier.length + 1) };
      }
      default:
        return {};
    }
  }

  /** The ways Google Cloud would fail this registration. */
  *#problems(record: ModelRecord, prior: PriorResource | undefined): Generator<string> {
    yield* this.#sleepDuration(record);
    yield* this.#apiEnablement(record);
    yield* this.#serviceAgentGrants(record);
    yield* this.#userMetrics(record);
    yield* this.#buildIdentity(record);
    yield* this.#secretEnvironment(record);
    yield* this.#subscriptionTopics(record);
    yield* this.#immutableFilter(record, prior);
    yield* this.#dataReplacement(record, prior);
    yield* this.#orgPolicies(record);
  }

  /**
   * A fresh Sleep that `record` waits for, that itself follows every one of `waitedFor`, and that sleeps
   * at least `minMs`. `short` is such a Sleep that sleeps less, when there is no good one.
   */
  #sleepBetween(
    record: ModelRecord,
    waitedFor: readonly ModelRecord[],
    minMs: number,
  ): { sleep?: ModelRecord; short?: ModelRecord } {
    const deps = this.dependenciesOf(record.urn);
    const between = this.sleeping().filter(
      (sleep) => deps.has(sleep.urn) && waitedFor.every((w) => this.follows(sleep, w)),
    );
    const sleep = between.find((s) => (sleepMs(s.inputs['createDuration']) ?? -1) >= minMs);
    return sleep !== undefined ? { sleep } : between.length > 0 ? { short: between[0]! } : {};
  }

  /** Why no good Sleep was found, for a violation's parenthesis. */
  #noSleep(found: { short?: ModelRecord }, after: string, minMs: number): string {
    if (found.short !== undefined)
      return (
        `(the Sleep ${found.short.name} after ${after} waits ${String(found.short.inputs['createDuration'])}, ` +
        `less than the ${minMs / 1000} s the source gives)`
      );
    return `(no Sleep after ${after} among its dependencies)`;
  }

  /**
   * terraform-provider-time validates `create_duration` with `^[0-9]+(\.[0-9]+)?(ms|s|m|h)$`
   * (resource_time_sleep.go); `1m30s`, `0` or `.5s` fail the deploy.
   */
  *#sleepDuration(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.sleep || record.action === 'same') return;
    const duration = record.inputs['createDuration'];
    if (sleepMs(duration) === undefined) {
      yield (
        `[sleep-duration] ${record.name}: Invalid Attribute Value Match: Attribute create_duration must be a number ` +
        'immediately followed by ms (milliseconds), s (seconds), m (minutes), or h (hours) ' +
        `(got ${JSON.stringify(duration)})`
      );
    }
  }

  /**
   * A resource calls its APIs (the table above): each must be enabled before the run (`enabledApis`)
   * or by a Service of the program. Service Usage reports an API enabled before every Google system
   * serves it; calls right after fail with "If you enabled this API recently, wait a few minutes for the
   * action to propagate to our systems and retry" (#4142, #2129). So an API enabled in this run needs a
   * Sleep between its Service and the resource.
   */
  *#apiEnablement(record: ModelRecord): Generator<string> {
    if (record.action === 'same' || !record.type.startsWith('gcp:')) return;
    const apisOf = APIS_OF_TYPE[record.type];
    if (apisOf === undefined) {
      yield `[api-enabled] ${record.name}: the model knows no API for ${record.type}; add the type to its table`;
      return;
    }
    for (const api of apisOf(record.inputs)) {
      if (this.#enabledApis.has(api)) continue;
      const forbidden =
        `[api-enabled] ${record.name}: Error 403: ${api} has not been used in project ${MODEL_PROJECT_NUMBER} ` +
        'before or it is disabled. If you enabled this API recently, wait a few minutes for the action to ' +
        'propagate to our systems and retry';
      const service = this.records.find((r) => r.type === TYPES.service && r.inputs['service'] === api);
      if (service === undefined) {
        yield `${forbidden} (no Service enables ${api}, and the project did not have it)`;
        continue;
      }
      if (!FRESH.has(service.action)) continue;
      const found = this.#sleepBetween(record, [service], WAIT_LOWER_BOUNDS_MS.apiEnablement);
      if (found.sleep === undefined)
        yield `${forbidden} ${this.#noSleep(found, `enabling ${api}`, WAIT_LOWER_BOUNDS_MS.apiEnablement)}`;
    }
  }

  /**
   * Google creates a service agent "at some point after you activate and use the API", and "if a
   * service agent hasn't been created yet, then you can't grant roles to the service agent"
   * (https://cloud.google.com/iam/docs/create-service-agents). So a grant to an agent takes its member
   * from the agent's ServiceIdentity (the member input's value comes from it), which also orders the
   * grant after it. And an agent created in this run is not usable at once: Error 400 "does not exist"
   * right after creation (terraform-provider-google#21931), so a Sleep must come between.
   */
  *#serviceAgentGrants(record: ModelRecord): Generator<string> {
    if (record.action === 'same') return;
    const members = [
      record.inputs['member'],
      ...(Array.isArray(record.inputs['members']) ? record.inputs['members'] : []),
    ];
    for (const member of members) {
      const agent = typeof member === 'string' ? SERVICE_AGENT_MEMBER.exec(member)?.[1] : undefined;
      if (agent === undefined) continue;
      const doesNotExist = `${record.name}: Error 400: Service account ${agent} does not exist`;
      const identities = this.records.filter(
        (r) => r.type === TYPES.serviceIdentity && r.state['member'] === member && r.order < record.order,
      );
      if (identities.length === 0) {
        yield `[service-agent-exists] ${doesNotExist} (no ServiceIdentity for it was registered before this grant)`;
        continue;
      }
      // The resources the member's value came from: the ServiceIdentity must be one of them.
      const from = new Set([
        ...(record.propertyDependencies['member'] ?? []),
        ...(record.propertyDependencies['members'] ?? []),
      ]);
      const identity = identities.find((r) => from.has(r.urn));
      if (identity === undefined) {
        yield `[service-agent-exists] ${doesNotExist} (the member is not taken from the ServiceIdentity's output)`;
        continue;
      }
      if (FRESH.has(identity.action)) {
        const bound = WAIT_LOWER_BOUNDS_MS.serviceAgent;
        const found = this.#sleepBetween(record, [identity], bound);
        if (found.sleep === undefined)
          yield `[service-agent-delay] ${doesNotExist} ${this.#noSleep(found, `creating ${identity.name}`, bound)}`;
      }
    }
  }

  /**
   * "After you trigger service agent creation, you must grant the service agents the roles that they are
   * typically granted automatically ... service agents that are created at a user's request aren't
   * automatically granted roles" (https://cloud.google.com/iam/docs/create-service-agents).
   */
  *#serviceAgentRoles(): Generator<string> {
    for (const identity of this.records.filter((r) => r.type === TYPES.serviceIdentity)) {
      const role = SERVICE_AGENT_ROLE[String(identity.inputs['service'])];
      if (role === undefined) {
        const service = String(identity.inputs['service']);
        yield `[service-agent-role] ${identity.name}: the model knows no usual role of the ${service} agent`;
        continue;
      }
      const granted = this.records.some(
        (r) =>
          r.type === TYPES.projectMember &&
          r.inputs['role'] === role &&
          r.inputs['member'] === identity.state['member'] &&
          r.inputs['condition'] === undefined,
      );
      if (!granted)
        yield (
          `[service-agent-role] ${identity.name}: the agent ${String(identity.state['email'])}, ` +
          'if created on request, ' +
          `does not hold ${role}, which Google grants only to agents it creates itself`
        );
    }
  }

  /**
   * Cloud Monitoring learns of a new log-based metric up to 10 minutes after it is created
   * (https://github.com/hashicorp/terraform-provider-google/issues/11102): an alert policy on a
   * metric created in this run must wait for a Sleep that follows that metric.
   */
  *#userMetrics(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.alertPolicy || record.action === 'same') return;
    for (const [, metricName] of JSON.stringify(record.inputs).matchAll(USER_METRIC)) {
      const metric = this.records.find((r) => r.type === TYPES.metric && r.inputs['name'] === metricName);
      const notFound =
        `[log-metric-propagation] ${record.name}: Error 404: Cannot find metric(s) that match type = ` +
        `"logging.googleapis.com/user/${metricName}". If a metric was created recently, ` +
        'it could take up to 10 minutes to become available';
      if (metric === undefined) {
        yield `${notFound} (no such metric registered)`;
        continue;
      }
      if (!FRESH.has(metric.action)) continue;
      const found = this.#sleepBetween(record, [metric], WAIT_LOWER_BOUNDS_MS.logMetrics);
      if (found.sleep === undefined)
        yield `${notFound} ${this.#noSleep(found, `the metric ${metric.name}`, WAIT_LOWER_BOUNDS_MS.logMetrics)}`;
    }
  }

  /**
   * Cloud Build builds the function as its build service account, which needs each role of Google's
   * list on the resource it uses it on: build logs (project), the image repository, and the bucket
   * Cloud Functions copies the source to, `gcf-v2-sources-<project number>-<region>`. A grant reaches
   * Cloud Build only after IAM propagation, "typically 2 minutes"
   * (https://cloud.google.com/iam/docs/access-change-propagation; the build then fails to fetch its
   * source, https://github.com/hashicorp/terraform-provider-google/issues/20571): a function built in
   * this run waits for a Sleep after its identity's new grants and the APIs enabled for it.
   */
  *#buildIdentity(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.function || record.action === 'same') return;
    const email = /serviceAccounts\/([^/]+)$/.exec(String(record.inputs['buildConfig']?.serviceAccount ?? ''))?.[1];
    if (email === undefined) {
      yield (
        `[build-identity-roles] ${record.name}: the function names no build service account; ` +
        'the model expects a dedicated build identity'
      );
      return;
    }
    const project = this.#project(record);
    const region = String(record.inputs['location']);
    const member = `serviceAccount:${email}`;
    const repository = /^projects\/[^/]+\/locations\/([^/]+)\/repositories\/([^/]+)$/.exec(
      String(record.inputs['buildConfig']?.dockerRepository ?? ''),
    );
    const sourcesBucket = `gcf-v2-sources-${MODEL_PROJECT_NUMBER}-${region}`;
    const grants = this.records.filter((r) => r.custom && r.inputs['member'] === member);
    const used: ModelRecord[] = [];
    for (const need of BUILD_ROLES) {
      const holds = (r: ModelRecord): boolean => {
        if (!(need.covers as readonly string[]).includes(String(r.inputs['role']))) return false;
        const projectWide =
          r.type === TYPES.projectMember && (r.inputs['project'] ?? this.#options.project) === project;
        if (need.on === 'project') return projectWide && r.inputs['condition'] === undefined;
        if (need.on === 'repository') {
          if (projectWide) return r.inputs['condition'] === undefined;
          return (
            r.type === TYPES.repositoryMember &&
            repository !== null &&
            r.inputs['repository'] === repository[2] &&
            r.inputs['location'] === repository[1]
          );
        }
        if (projectWide)
          return conditionHolds(r.inputs['condition'], `projects/_/buckets/${sourcesBucket}/objects/source.zip`);
        return r.type === TYPES.bucketMember && r.inputs['bucket'] === sourcesBucket;
      };
      const grant = grants.find(holds);
      if (grant === undefined) {
        const where =
          need.on === 'project'
            ? `project ${project}`
            : need.on === 'repository'
              ? `repository ${repository?.[2] ?? '(none)'}`
              : `bucket ${sourcesBucket}`;
        yield (
          `[build-identity-roles] ${record.name}: Build failed: the build service account ${email} ` +
          `lacks ${need.role} ` +
          `on ${where}, which Google lists for a function's build identity`
        );
      } else used.push(grant);
    }
    const apis = this.records.filter(
      (r) =>
        r.type === TYPES.service &&
        (APIS_OF_TYPE[TYPES.function]!({}) as string[]).includes(String(r.inputs['service'])),
    );
    const fresh = [...used, ...apis].filter((r) => FRESH.has(r.action));
    if (fresh.length === 0) return;
    const found = this.#sleepBetween(record, fresh, WAIT_LOWER_BOUNDS_MS.buildGrants);
    if (found.sleep === undefined) {
      yield (
        `[build-grant-propagation] ${record.name}: Build failed: Access to bucket ${sourcesBucket} denied. ` +
        `You must grant Storage Object Viewer permission to ${email} ` +
        this.#noSleep(found, `the ${fresh.length} grants and APIs new in this run`, WAIT_LOWER_BOUNDS_MS.buildGrants)
      );
    }
  }

  /**
   * Cloud Run reads a secret environment variable's version as the revision's service identity when it
   * creates the revision, and fails the deploy otherwise: "Permission denied on secret ... for Revision
   * service account ... The service account used must be granted the 'Secret Manager Secret Accessor'
   * role (roles/secretmanager.secretAccessor) at the secret, project or higher level"
   * (https://cloud.google.com/run/docs/configuring/services/secrets; Cloud Functions 2nd gen passes
   * its `secretEnvironmentVariables` on, https://cloud.google.com/functions/docs/configuring/secrets).
   * So the version must exist and the grant be in place before the function is deployed: a grant or a
   * version new in this run must be among its dependencies.
   */
  *#secretEnvironment(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.function || record.action === 'same') return;
    const config = record.inputs['serviceConfig'] ?? {};
    const email = String(config.serviceAccountEmail ?? '');
    const member = `serviceAccount:${email}`;
    const project = this.#project(record);
    const lastSegment = (value: unknown): string => (typeof value === 'string' ? (value.split('/').pop() ?? '') : '');
    for (const variable of (config.secretEnvironmentVariables ?? []) as Record<string, unknown>[]) {
      const secretId = lastSegment(variable['secret']);
      const path = `projects/${project}/secrets/${secretId}/versions/${String(variable['version'])}`;
      const denied =
        `[secret-env-access] ${record.name}: Error 400: spec.template.spec.containers[0].env ` +
        `${String(variable['key'])}: Permission denied on secret: ${path} for Revision service account ${email}. ` +
        "The service account used must be granted the 'Secret Manager Secret Accessor' role " +
        '(roles/secretmanager.secretAccessor) at the secret, project or higher level';
      const grant = this.records.find(
        (r) =>
          r.inputs['member'] === member &&
          r.inputs['role'] === 'roles/secretmanager.secretAccessor' &&
          ((r.type === TYPES.secretMember && lastSegment(r.inputs['secretId']) === secretId) ||
            (r.type === TYPES.projectMember && r.inputs['condition'] === undefined)),
      );
      if (grant === undefined) yield `${denied} (no such grant registered)`;
      else if (FRESH.has(grant.action) && !this.follows(record, grant))
        yield `${denied} (the grant ${grant.name} is new in this run and the function does not wait for it)`;

      const notFound =
        `[secret-env-access] ${record.name}: Error 404: spec.template.spec.containers[0].env ` +
        `${String(variable['key'])}: Secret ${path} was not found`;
      const secret = this.records.find((r) => r.type === TYPES.secret && r.inputs['secretId'] === secretId);
      const versions = this.records.filter(
        (r) =>
          r.type === TYPES.secretVersion &&
          secret !== undefined &&
          (r.inputs['secret'] === secret.id || lastSegment(r.inputs['secret']) === secretId),
      );
      const version =
        variable['version'] === 'latest'
          ? versions.at(-1)
          : versions.find((r) => r.state['version'] === String(variable['version']));
      if (version === undefined) yield `${notFound} (no such version registered)`;
      else if (FRESH.has(version.action) && !this.follows(record, version))
        yield `${notFound} (the version ${version.name} is new in this run and the function does not wait for it)`;
    }
  }

  /**
   * Pub/Sub creates a subscription only on a topic that exists (NOT_FOUND otherwise,
   * https://cloud.google.com/pubsub/docs/create-subscription), and forwards dead letters only to a
   * dead-letter topic that exists (https://cloud.google.com/pubsub/docs/handling-failures). A topic
   * of the program exists once its Topic is registered and the subscription depends on it.
   */
  *#subscriptionTopics(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.subscription || !FRESH.has(record.action)) return;
    const references = [
      ['topic', record.inputs['topic']],
      ['dead-letter topic', record.inputs['deadLetterPolicy']?.deadLetterTopic],
    ] as const;
    for (const [what, reference] of references) {
      const name = topicName(reference);
      if (name === undefined) continue;
      if ((this.#options.existingTopics ?? []).includes(name)) continue;
      const topic = this.records.find((r) => r.type === TYPES.topic && r.inputs['name'] === name);
      const missing =
        `[subscription-topics] ${record.name}: Error 404: Resource not found (resource=${name}): ` +
        `the ${what} of subscription ${String(record.inputs['name'])}`;
      if (topic === undefined) yield `${missing} is no topic registered before it`;
      else if (FRESH.has(topic.action) && !this.follows(record, topic))
        yield `${missing} is created in this run, and the subscription does not depend on it`;
    }
  }

  /**
   * A subscription's filter is immutable (https://cloud.google.com/pubsub/docs/subscription-message-filter):
   * the provider replaces the subscription, and the replacement deletes its unacknowledged messages.
   */
  *#immutableFilter(record: ModelRecord, prior: PriorResource | undefined): Generator<string> {
    if (record.type !== TYPES.subscription || prior === undefined) return;
    const before = prior.inputs['filter'] ?? '';
    const after = record.inputs['filter'] ?? '';
    if (before !== after) {
      yield (
        `[immutable-filter] ${record.name}: replacing subscription ${String(record.inputs['name'])} ` +
        'to change its filter ' +
        `from ${JSON.stringify(before)} to ${JSON.stringify(after)} deletes its unacknowledged messages`
      );
    }
  }

  /**
   * What a replacement loses: a topic's retained messages, and its subscriptions in other stacks, which
   * Pub/Sub leaves on `_deleted-topic_` (https://cloud.google.com/pubsub/docs/delete-topic); a
   * subscription's backlog; the secret's versions; the function's URL, which Gemini has registered
   * (https://cloud.google.com/functions/docs/calling/http: the URL carries the name and region).
   */
  *#dataReplacement(record: ModelRecord, prior: PriorResource | undefined): Generator<string> {
    if (record.action !== 'replace' || prior === undefined) return;
    if (record.type === TYPES.subscription && (prior.inputs['filter'] ?? '') !== (record.inputs['filter'] ?? ''))
      return;
    const loss: Record<string, string> = {
      [TYPES.topic]: 'deletes its retained messages and leaves subscriptions of other stacks on _deleted-topic_',
      [TYPES.subscription]: 'deletes its unacknowledged messages',
      [TYPES.secret]: 'deletes every version of the secret',
      [TYPES.function]: 'gives the receiver a new URL, so the one registered with Gemini goes stale',
    };
    const what = loss[record.type];
    if (what === undefined) return;
    const changed = Object.keys({ ...prior.inputs, ...record.inputs }).filter(
      (key) => !isDeepStrictEqual(prior.inputs[key], record.inputs[key]),
    );
    const resource = String(prior.inputs['name'] ?? prior.inputs['secretId']);
    yield (
      `[data-replacement] ${record.name}: replacing ${record.type.split(':').pop()} ${resource} ` +
      `(changed: ${changed.join(', ')}) ${what}`
    );
  }

  /** The org policies of a secure-by-default organisation, when the model is given them. */
  *#orgPolicies(record: ModelRecord): Generator<string> {
    const policies = this.#options.orgPolicies;
    if (policies === undefined || record.action === 'same') return;
    if (policies.domainRestrictedSharing) {
      const members = [
        record.inputs['member'],
        ...(Array.isArray(record.inputs['members']) ? record.inputs['members'] : []),
      ];
      const open = members.filter((m) => PUBLIC_MEMBERS.has(m));
      if (open.length > 0)
        yield (
          `[org-domain-restricted-sharing] ${record.name}: Error 400: One or more users named in the policy do not ` +
          `belong to a permitted customer (${open.join(', ')}; constraints/iam.allowedPolicyMemberDomains)`
        );
    }
    if (policies.allowedIngress !== undefined && record.type === TYPES.function) {
      const ingress = record.inputs['serviceConfig']?.ingressSettings ?? 'ALLOW_ALL';
      if (!policies.allowedIngress.includes(ingress))
        yield (
          `[org-allowed-ingress] ${record.name}: Error 400: ingress ${ingress} ` +
          'violates constraints/cloudfunctions.allowedIngressSettings ' +
          `(allowed: ${policies.allowedIngress.join(', ')})`
        );
    }
    if (policies.resourceLocations !== undefined) {
      const allowed = policies.resourceLocations;
      const refuse = (where: string): string =>
        `[org-resource-locations] ${record.name}: Error 400: location ${where} ` +
        'violates constraints/gcp.resourceLocations ' +
        `(allowed: ${allowed.join(', ')})`;
      if (record.type === TYPES.secret) {
        const replication = record.inputs['replication'] ?? {};
        if (replication.auto !== undefined) yield refuse('global (automatic replication)');
        for (const replica of replication.userManaged?.replicas ?? [])
          if (!allowed.includes(replica.location)) yield refuse(String(replica.location));
      }
      const location = record.inputs['location'];
      if (
        [TYPES.function, TYPES.bucket, TYPES.repository].includes(record.type as never) &&
        typeof location === 'string'
      ) {
        if (!allowed.includes(location.toLowerCase())) yield refuse(location);
      }
    }
  }
}

/** The qualified type of a URN: every parent type, then the resource's own, joined by `$`. */
function qualifiedType(urn: string): string {
  return urn.split('::')[2]!;
}

function urnOf(name: string, qualified: string): string {
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${qualified}::${name}`;
}

function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf('::') + 2);
}

/** The signature Pulumi's wire format marks a secret value with. */
const SECRET_SIGNATURE = ['4dabf18193072939515e22adb298388d', '1b47061264138c4ac30d75fd1eb44270'] as const;

function secretKeys(serialized: Record<string, unknown>): string[] {
  return Object.entries(serialized)
    .filter(([, value]) => {
      const marked = value as Record<string, unknown> | null;
      return typeof marked === 'object' && marked !== null && marked[SECRET_SIGNATURE[0]] === SECRET_SIGNATURE[1];
    })
    .map(([key]) => key);
}

interface AliasSpec {
  name: string;
  type: string;
  noParent: boolean;
  /** The alias's parent as the program gave it (a mock URN), or '' for the resource's own parent. */
  parentUrn: string;
}

function aliasSpecs(req: any): AliasSpec[] {
  return (req.getAliasesList() as any[]).map((alias) => {
    if (!alias.hasSpec()) throw new Error('the model handles alias specs only, not alias URNs');
    const spec = alias.getSpec();
    return { name: spec.getName(), type: spec.getType(), noParent: spec.getNoparent(), parentUrn: spec.getParenturn() };
  });
}

/** Installs the model as Pulumi's mocks; returns it for assertions. */
export async function installGcpModel(options: ModelOptions): Promise<GcpModel> {
  const model = new GcpModel(options);
  const pending = new Map<
    string,
    {
      urn: string;
      dependencies: string[];
      propertyDependencies: Record<string, string[]>;
      ignoreChanges: string[];
      aliases: string[];
      secretInputs: string[];
      protect: boolean;
      retainOnDelete: boolean;
    }
  >();
  /** The mock monitor names a resource by its parent's type only; the engine by the whole chain. */
  const modelUrn = new Map<string, string>();
  const aliasesOf = new Map<string, string[]>();
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, any> } {
        const registration = pending.get(`${args.type}::${args.name}`);
        if (registration === undefined) throw new Error(`no registration seen for ${args.type} ${args.name}`);
        return model.register({
          ...registration,
          type: args.type,
          name: args.name,
          custom: args.custom ?? true,
          inputs: args.inputs,
        });
      },
      call(args: pulumi.runtime.MockCallArgs): Record<string, any> {
        return model.call(args.token);
      },
    },
    'gemini-webhooks-pubsub',
    'test',
  );
  // The mock callbacks do not see a registration's options; the request to the monitor does.
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource: (req: any, callback: unknown) => unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req: any, callback: unknown) => {
    const type: string = req.getType();
    const name: string = req.getName();
    const parentMock: string = req.getParent();
    const parent = parentMock === '' ? undefined : (modelUrn.get(parentMock) ?? parentMock);
    const urn = urnOf(name, parent === undefined ? type : `${qualifiedType(parent)}$${type}`);
    const mockUrn = urnOf(name, parentMock === '' ? type : `${qualifiedType(parentMock).split('$').pop()}$${type}`);
    modelUrn.set(mockUrn, urn);

    // Aliases as the engine reads them (https://www.pulumi.com/docs/iac/concepts/options/aliases/):
    // each spec replaces the name, type or parent it gives; and a child inherits every alias of its
    // parent, with the parent's old name in place of the new one where its own name starts with it.
    const explicit = aliasSpecs(req).map((spec) => {
      const aliasParent = spec.noParent
        ? undefined
        : spec.parentUrn === ''
          ? parent
          : (modelUrn.get(spec.parentUrn) ?? spec.parentUrn);
      const aliasType = spec.type === '' ? type : spec.type;
      return urnOf(
        spec.name === '' ? name : spec.name,
        aliasParent === undefined ? aliasType : `${qualifiedType(aliasParent)}$${aliasType}`,
      );
    });
    const inherited: string[] = [];
    if (parent !== undefined) {
      const parentName = nameOf(parent);
      for (const parentAlias of aliasesOf.get(parent) ?? []) {
        for (const own of [urn, ...explicit]) {
          const ownName = nameOf(own);
          const aliasName = ownName.startsWith(parentName)
            ? nameOf(parentAlias) + ownName.slice(parentName.length)
            : ownName;
          inherited.push(urnOf(aliasName, `${qualifiedType(parentAlias)}$${qualifiedType(own).split('$').pop()}`));
        }
      }
    }
    const aliases = [...new Set([...explicit, ...inherited])].filter((alias) => alias !== urn);
    aliasesOf.set(urn, aliases);
    const toModel = (dependency: string): string => modelUrn.get(dependency) ?? dependency;
    const propertyDependencies: Record<string, string[]> = {};
    req.getPropertydependenciesMap().forEach((deps: { getUrnsList(): string[] }, key: string) => {
      propertyDependencies[key] = deps.getUrnsList().map(toModel);
    });
    pending.set(`${type}::${name}`, {
      urn,
      dependencies: (req.getDependenciesList() as string[]).map(toModel),
      propertyDependencies,
      ignoreChanges: req.getIgnorechangesList(),
      aliases,
      secretInputs: secretKeys(req.getObject()?.toJavaScript() ?? {}),
      protect: req.getProtect() === true,
      retainOnDelete: req.getRetainondelete() === true,
    });
    return register(req, callback);
  };
  return model;
}
