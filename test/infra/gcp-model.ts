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
  ignoreChanges: string[];
  action: Action;
  /** Registration order, from 0. */
  order: number;
}

export interface ModelOptions {
  /** Project the provider defaults to when a resource names none. */
  project: string;
  /** The state of the previous run; a fresh project when absent. */
  prior?: readonly PriorResource[];
  /** Throw like Google (default), or only record the violation (to test the rules themselves). */
  onViolation?: 'throw' | 'record';
}

export const TYPES = {
  service: 'gcp:projects/service:Service',
  serviceIdentity: 'gcp:projects/serviceIdentity:ServiceIdentity',
  sleep: 'time:index/sleep:Sleep',
  subscription: 'gcp:pubsub/subscription:Subscription',
  metric: 'gcp:logging/metric:Metric',
  alertPolicy: 'gcp:monitoring/alertPolicy:AlertPolicy',
  function: 'gcp:cloudfunctionsv2/function:Function',
  account: 'gcp:serviceaccount/account:Account',
  bucket: 'gcp:storage/bucket:Bucket',
} as const;

const FRESH: ReadonlySet<Action> = new Set(['create', 'replace']);

/** Service agents: `service-<project number>@<service>.iam.gserviceaccount.com` (https://cloud.google.com/iam/docs/service-agents). */
const SERVICE_AGENT_MEMBER = /^serviceAccount:(service-\d+@[a-z0-9-]+\.iam\.gserviceaccount\.com)$/;
const USER_METRIC = /logging\.googleapis\.com\/user\/([A-Za-z0-9_./-]+?)(?=["\\])/g;

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

export class GcpModel {
  readonly records: ModelRecord[] = [];
  readonly violations: string[] = [];
  readonly #byUrn = new Map<string, ModelRecord>();
  readonly #prior: Map<string, PriorResource>;
  readonly #options: ModelOptions;

  constructor(options: ModelOptions) {
    this.#options = options;
    this.#prior = new Map((options.prior ?? []).map((r) => [r.urn, r]));
  }

  /** The state this run leaves, to give the next run as its prior. */
  state(): PriorResource[] {
    return this.records.map(({ urn, type, name, id, inputs, state }) => ({
      urn,
      type,
      name,
      id,
      inputs: plain(inputs),
      state: plain(state),
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
    ignoreChanges: string[];
    aliases: string[];
    secretInputs: string[];
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
      `the program calls ${token}; invokes cannot wait for API enablement ` +
      'or a service agent, take the value from a resource instead';
    this.violations.push(problem);
    throw new Error(problem);
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

  /** The outputs Google computes, for the types whose outputs the program reads. */
  #computed(record: ModelRecord): Record<string, any> {
    const inputs = record.inputs;
    const project: string = inputs['project'] ?? this.#options.project;
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
      default:
        return {};
    }
  }

  /** The ways Google Cloud would fail this registration. */
  *#problems(record: ModelRecord, prior: PriorResource | undefined): Generator<string> {
    yield* this.#serviceAgentGrants(record);
    yield* this.#apiEnablement(record);
    yield* this.#userMetrics(record);
    yield* this.#buildGrants(record);
    yield* this.#immutableFilter(record, prior);
  }

  /** A fresh Sleep that `record` waits for and that itself follows every one of `waitedFor`. */
  #sleepBetween(record: ModelRecord, waitedFor: readonly ModelRecord[]): ModelRecord | undefined {
    const deps = this.dependenciesOf(record.urn);
    return this.sleeping().find((sleep) => deps.has(sleep.urn) && waitedFor.every((w) => this.follows(sleep, w)));
  }

  /**
   * Google creates a service agent "at some point after you activate and use the API", and "if a
   * service agent hasn't been created yet, then you can't grant roles to the service agent"
   * (https://cloud.google.com/iam/docs/create-service-agents). So a grant to an agent needs the
   * agent's ServiceIdentity registered before it, and must depend on it.
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
      const identity = this.records.find(
        (r) => r.type === TYPES.serviceIdentity && r.state['member'] === member && r.order < record.order,
      );
      if (identity === undefined || !this.follows(record, identity)) {
        yield (
          `${record.name}: Error 400: Service account ${agent} does not exist ` +
          '(no ServiceIdentity for it was registered before this grant and among its dependencies)'
        );
      }
    }
  }

  /**
   * Service Usage reports an API enabled before every Google system serves it: calls right after
   * fail with "If you enabled this API recently, wait a few minutes for the action to propagate to
   * our systems and retry" (https://github.com/hashicorp/terraform-provider-google/issues/4142,
   * https://github.com/hashicorp/terraform-provider-google/issues/2129). So while an API is being
   * enabled in this run, every other resource must wait for a Sleep that follows the enablement.
   */
  *#apiEnablement(record: ModelRecord): Generator<string> {
    if (record.action === 'same' || !record.type.startsWith('gcp:') || record.type === TYPES.service) return;
    const enabling = this.records.filter((r) => r.type === TYPES.service && FRESH.has(r.action));
    if (enabling.length === 0) return;
    if (this.#sleepBetween(record, enabling) === undefined) {
      yield (
        `${record.name}: Error 403: ${record.type.split(':')[1]?.split('/')[0]} API ` +
        `has not been used in project ${MODEL_PROJECT_NUMBER} before or it is disabled. ` +
        'If you enabled this API recently, wait a few minutes for the action to propagate to our systems and retry ' +
        `(no Sleep after the ${enabling.length} APIs enabled in this run among its dependencies)`
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
        `${record.name}: Error 404: Cannot find metric(s) that match type = ` +
        `"logging.googleapis.com/user/${metricName}". If a metric was created recently, ` +
        'it could take up to 10 minutes to become available';
      if (metric === undefined) yield `${notFound} (no such metric registered)`;
      else if (FRESH.has(metric.action) && this.#sleepBetween(record, [metric]) === undefined)
        yield `${notFound} (no Sleep after the metric among the policy's dependencies)`;
    }
  }

  /**
   * A grant reaches Cloud Build only after a while; building at once fails to fetch the source
   * (https://github.com/hashicorp/terraform-provider-google/issues/20571; the provider's own tests
   * wait for it, https://github.com/GoogleCloudPlatform/magic-modules/pull/11909). A function built
   * in this run must wait for a Sleep that follows its build identity's new grants and the APIs
   * enabled in this run.
   */
  *#buildGrants(record: ModelRecord): Generator<string> {
    if (record.type !== TYPES.function || record.action === 'same') return;
    const email = /serviceAccounts\/([^/]+)$/.exec(String(record.inputs['buildConfig']?.serviceAccount ?? ''))?.[1];
    if (email === undefined) {
      yield `${record.name}: the function names no build service account; the model expects a dedicated build identity`;
      return;
    }
    const grants = this.records.filter((r) => r.custom && r.inputs['member'] === `serviceAccount:${email}`);
    if (grants.length === 0)
      yield `${record.name}: the build identity ${email} holds no grant, so Cloud Build cannot fetch the source`;
    const fresh = [...grants, ...this.records.filter((r) => r.type === TYPES.service)].filter((r) =>
      FRESH.has(r.action),
    );
    if (fresh.length > 0 && this.#sleepBetween(record, fresh) === undefined) {
      const region = String(record.inputs['location']);
      yield (
        `${record.name}: Build failed: Access to bucket gcf-v2-sources-${MODEL_PROJECT_NUMBER}-${region} denied. ` +
        `You must grant Storage Object Viewer permission to ${email} ` +
        `(no Sleep after the ${fresh.length} grants and APIs new in this run among its dependencies)`
      );
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
        `${record.name}: replacing subscription ${String(record.inputs['name'])} to change its filter ` +
        `from ${JSON.stringify(before)} to ${JSON.stringify(after)} deletes its unacknowledged messages`
      );
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
    { urn: string; dependencies: string[]; ignoreChanges: string[]; aliases: string[]; secretInputs: string[] }
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
    pending.set(`${type}::${name}`, {
      urn,
      dependencies: (req.getDependenciesList() as string[]).map((dependency) => modelUrn.get(dependency) ?? dependency),
      ignoreChanges: req.getIgnorechangesList(),
      aliases,
      secretInputs: secretKeys(req.getObject()?.toJavaScript() ?? {}),
    });
    return register(req, callback);
  };
  return model;
}
