/**
 * The settings of one deployment: what a user gives (GeminiWebhooksArgs, the same knobs whether they
 * come from this project's stack config or from another Pulumi program), their defaults, and their
 * validation, resolved into Settings. `resolveSettings` is a pure function, so every rule is
 * unit-tested without a Pulumi runtime. A bad value raises a SettingError naming the setting; the
 * stack config reader and the component each turn it into one sentence for their audience.
 * Signing secrets are never echoed, not even in errors.
 */
import { DEFAULT_TOPIC_PREFIX, ROUTE_KEYS, topicPrefixProblem, type RouteKey } from '../functions/catalog.ts';
import {
  DEFAULT_JWKS_URL,
  DEFAULT_SCHEMES,
  JWT_AUDIENCE_REQUIRED,
  RECEIVER_TUNABLES,
  type ReceiverTunable,
  type ReceiverTunables,
} from '../functions/config.ts';
import {
  consumerNameProblem,
  MAX_DELIVERY_ATTEMPTS,
  MAX_RETENTION_SECONDS,
  MIN_DELIVERY_ATTEMPTS,
  MIN_RETENTION_SECONDS,
  TOPOLOGY_DEFAULTS,
} from '../functions/topology.ts';
import type { Scheme } from '../functions/verify/result.ts';
import * as pulumi from '@pulumi/pulumi';
import { isRecord } from '../functions/records.ts';
import { parseGoDuration } from './durations.ts';
import { isProjectId, isServiceAccountEmail } from './gcp-ids.ts';
import { MAX_SIGNING_SECRETS, SigningSecret, signingSecretProblem } from './signing-secret.ts';

export type { Scheme };
export const SCHEMES: readonly Scheme[] = ['static', 'jwt'];

export type PublicInvoker = 'allUsers' | 'none';
export const PUBLIC_INVOKERS: readonly PublicInvoker[] = ['allUsers', 'none'];

/** Push delivery of a consumer's subscriptions. */
export interface PushDelivery {
  /** HTTPS endpoint Pub/Sub pushes each event to. */
  endpoint: pulumi.Input<string>;
  /**
   * Service account whose OIDC token authenticates each push. Omitted: a dedicated one is created for
   * the consumer (grant it access to your endpoint, e.g. roles/run.invoker). An account you pass is yours
   * to manage: in a project created before April 2021 the Pub/Sub service agent also needs
   * roles/iam.serviceAccountTokenCreator on it, which is granted only on an account created here.
   */
  serviceAccountEmail?: pulumi.Input<string>;
  /** `aud` of the OIDC token; Pub/Sub uses the endpoint URL when omitted. */
  audience?: pulumi.Input<string>;
}

/** A service that consumes events: one subscription per event type, with retries and a dead-letter topic. */
export interface Consumer {
  /** Consumer name: 1-30 lowercase letters, digits or '-'; part of every subscription id (`<topic>-<name>`). */
  name: string;
  /** Event types to receive: catalog types, `unrouted`, or `*` for all; one subscription each. */
  eventTypes: string[];
  /** Push delivery with an OIDC token; pull when omitted. */
  push?: PushDelivery;
  /**
   * Pub/Sub filter on message attributes, e.g. `attributes.user_metadata_tenant = "acme"` (at most 256
   * bytes). Fixed once the subscriptions exist: a later change is refused rather than delete their backlog.
   */
  filter?: string;
  /** Seconds the consumer has to acknowledge a message (10-600). Default 60. */
  ackDeadlineSeconds?: number;
  /** Exactly-once delivery; pull subscriptions only. Default false. */
  exactlyOnce?: boolean;
}

/**
 * Everything a deployment can be told. Only `project` is required; every other setting has the default
 * documented on it (the same as this project's `Pulumi.yaml`).
 */
export interface GeminiWebhooksArgs {
  /** Google Cloud project to deploy into; domain-scoped ids such as `example.com:my-project` too. */
  project: string;
  /** Region of the receiver, its source bucket and image repository. Default `us-central1`. */
  region?: string;
  /**
   * The Standard Webhooks signing secrets Gemini issued (`whsec_...`), newest first; at most 5. Each
   * becomes one Secret Manager version, named by a fingerprint of the secret (so the values must be known
   * when the program runs); the values themselves reach resources only as Pulumi secrets. Empty until
   * Gemini has issued the first secret. Default none.
   */
  signingSecrets?: string[];
  /**
   * Signature schemes the receiver accepts: `static` (Standard Webhooks HMAC, project-level webhooks)
   * and/or `jwt` (dynamic, per-request webhooks; needs `jwtAudience` or `jwtAllowAnyAudience`).
   * Default `["static"]`.
   */
  schemes?: string[];
  /** JWKS that verifies dynamic (JWT) webhooks. Default Gemini's. */
  jwksUrl?: string;
  /** The `aud` JWT deliveries must carry; required when `jwt` is enabled, unless `jwtAllowAnyAudience`. */
  jwtAudience?: string;
  /** When set, JWT deliveries must carry this `iss`. */
  jwtIssuer?: string;
  /** Refuse JWT deliveries whose body is not bound to the token (claims or digest). Default false. */
  jwtRequireBodyBinding?: boolean;
  /**
   * Accept JWT deliveries without an audience check; a token Google minted for another Gemini user's
   * webhook would then be accepted too. Default false.
   */
  jwtAllowAnyAudience?: boolean;
  /**
   * Prefix of every topic and subscription (`<prefix>-batch-succeeded`, ...): 1-63 lowercase letters,
   * digits or '-'. Default `gemini`.
   */
  topicPrefix?: string;
  /** Receiver instances kept warm (0-100; 0 scales to zero, 1 avoids cold starts but bills idle time). Default 0. */
  minInstances?: number;
  /** Upper bound on receiver instances (1-1000). Default 10. */
  maxInstances?: number;
  /** Concurrent deliveries per receiver instance (1-1000). Default 80. */
  concurrency?: number;
  /** Memory per receiver instance, 256Mi to 32Gi; CPU follows (1 CPU up to 4Gi). Default `512Mi`. */
  memory?: string;
  /** Request timeout of the receiver in seconds (1-3600). Default 60. */
  timeoutSeconds?: number;
  /** How far `webhook-timestamp` may be from the receiver's clock, either way, in seconds (1-86400). Default 300. */
  timestampToleranceSeconds?: number;
  /** Largest delivery body the receiver accepts, in bytes; larger ones get 413 (1-9000000). Default 1048576. */
  maxBodyBytes?: number;
  /**
   * The receiver answers within this many milliseconds even when Pub/Sub hangs (100-60000, below
   * timeoutSeconds). Default 5000.
   */
  publishTimeoutMs?: number;
  /** How long the receiver caches the signing secrets read from Secret Manager, in seconds (5-86400). Default 300. */
  secretRefreshSeconds?: number;
  /** Deliveries one instance verifies and publishes at once before answering 503 (1-100000). Default 256. */
  maxInFlight?: number;
  /** Deliveries to a consumer before a message moves to the route's dead-letter topic (5-100). Default 5. */
  maxDeliveryAttempts?: number;
  /** Shortest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). Default 10. */
  minimumBackoffSeconds?: number;
  /** Longest wait before Pub/Sub redelivers a nacked message, in seconds (0-600). Default 600. */
  maximumBackoffSeconds?: number;
  /** How long event topics keep messages, so a later subscription can seek back (600-2678400 s). Default 604800. */
  topicRetentionSeconds?: number;
  /** How long dead-letter subscriptions keep dead letters (600-2678400 s). Default 604800. */
  deadLetterRetentionSeconds?: number;
  /** The services that consume events. Default none. */
  subscriptions?: Consumer[];
  /** Email addresses notified by the alert policies. Default none. */
  alertEmails?: string[];
  /** Enable the Google APIs the deployment needs (false when a platform team manages them). Default true. */
  enableApis?: boolean;
  /**
   * `allUsers` lets Gemini call the receiver (required unless you front it yourself); `none` creates no
   * invoker binding, for organisations whose domain-restricted sharing forbids allUsers. Default `allUsers`.
   */
  publicInvoker?: string;
  /** Wait after enabling the APIs, before anything calls them (Go duration, 0s-1h). Default `60s`. */
  apiEnablementWait?: string;
  /** Wait after the build identity's grants, before the receiver is built (Go duration, 0s-1h). Default `120s`. */
  buildGrantsWait?: string;
  /** Wait after creating the log-based metrics, before an alert uses one (Go duration, 0s-1h). Default `10m`. */
  logMetricsWait?: string;
}

export type SettingKey = keyof GeminiWebhooksArgs;

export interface ConsumerSettings {
  name: string;
  /** Routes (catalog event types or `unrouted`), in catalog order. */
  eventTypes: RouteKey[];
  push?: PushDelivery;
  filter?: string;
  ackDeadlineSeconds: number;
  exactlyOnce: boolean;
}

export interface ReceiverSizing {
  minInstances: number;
  maxInstances: number;
  /** Concurrent requests per instance. */
  concurrency: number;
  /** Cloud Run memory quantity, e.g. `512Mi`. */
  memory: string;
  timeoutSeconds: number;
}

/**
 * How long the program waits where Google Cloud applies a change after reporting it done, as Go
 * duration strings (`90s`, `5m`). Each wait runs only when what it waits for is created or
 * replaced, never on an update that changes nothing; docs/first-deploy.md has the sources.
 */
export interface Waits {
  /** After the APIs are enabled, before anything calls them. */
  apiEnablement: string;
  /** After the build identity's grants, before the function is built. */
  buildGrants: string;
  /** After the log-based metrics are created, before an alert policy uses one. */
  logMetrics: string;
}

/** The validated settings, every default applied. */
export interface Settings {
  /** Project id; domain-scoped ids (`example.com:my-project`) included. */
  project: string;
  region: string;
  /** Newest first. Possibly empty: the first deploy happens before Gemini has issued a secret. */
  signingSecrets: readonly SigningSecret[];
  schemes: readonly Scheme[];
  jwksUrl: string;
  jwtAudience?: string;
  jwtIssuer?: string;
  jwtRequireBodyBinding: boolean;
  /** Accept JWT deliveries without an audience check (`WEBHOOK_JWT_ALLOW_ANY_AUDIENCE`). */
  jwtAllowAnyAudience: boolean;
  topicPrefix: string;
  receiver: ReceiverSizing;
  /** The receiver's numeric knobs (functions/config.ts RECEIVER_TUNABLES), passed on as env vars. */
  tunables: ReceiverTunables;
  maxDeliveryAttempts: number;
  minimumBackoffSeconds: number;
  maximumBackoffSeconds: number;
  topicRetentionSeconds: number;
  deadLetterRetentionSeconds: number;
  subscriptions: ConsumerSettings[];
  alertEmails: string[];
  enableApis: boolean;
  publicInvoker: PublicInvoker;
  waits: Waits;
}

/** Defaults of every optional setting; `Pulumi.yaml` declares the same values. */
export const DEFAULTS = {
  region: 'us-central1',
  schemes: DEFAULT_SCHEMES,
  jwksUrl: DEFAULT_JWKS_URL,
  jwtRequireBodyBinding: false,
  jwtAllowAnyAudience: false,
  topicPrefix: DEFAULT_TOPIC_PREFIX,
  minInstances: 0,
  maxInstances: 10,
  concurrency: 80,
  memory: '512Mi',
  timeoutSeconds: 60,
  maxDeliveryAttempts: TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
  minimumBackoffSeconds: TOPOLOGY_DEFAULTS.minimumBackoffSeconds,
  maximumBackoffSeconds: TOPOLOGY_DEFAULTS.maximumBackoffSeconds,
  topicRetentionSeconds: TOPOLOGY_DEFAULTS.topicRetentionSeconds,
  deadLetterRetentionSeconds: TOPOLOGY_DEFAULTS.deadLetterRetentionSeconds,
  ackDeadlineSeconds: 60,
  enableApis: true,
  publicInvoker: 'allUsers' as PublicInvoker,
  apiEnablementWait: '60s',
  buildGrantsWait: '120s',
  logMetricsWait: '10m',
} as const;

/** Longest wait a setting accepts: a deploy that sleeps longer is waiting for something else. */
export const MAX_WAIT_MS = 3_600_000;
const MAX_FILTER_BYTES = 256;
const REGION = /^[a-z]+-[a-z]+\d+$/;
const EMAIL = /^[^\s@"',]+@[^\s@"',]+\.[^\s@"',]+$/;
const CONSUMER_FIELDS = new Set(['name', 'eventTypes', 'push', 'filter', 'ackDeadlineSeconds', 'exactlyOnce']);
const PUSH_FIELDS = new Set(['endpoint', 'serviceAccountEmail', 'audience']);

/**
 * A setting that cannot be used. `example` is a value that would be accepted, for hints such as
 * `pulumi config set <key> <example>`; `fix` replaces the whole hint where one value is not enough.
 */
export class SettingError extends Error {
  override name = 'SettingError';
  readonly key: SettingKey;
  readonly problem: string;
  readonly example: string | undefined;
  readonly fix: string | undefined;
  constructor(key: SettingKey, problem: string, hint: { example?: string; fix?: string } = {}) {
    super(`\`${key}\` ${problem}`);
    this.key = key;
    this.problem = problem;
    this.example = hint.example;
    this.fix = hint.fix;
  }
}

function fail(key: SettingKey, problem: string, hint: { example?: string; fix?: string } = {}): never {
  throw new SettingError(key, problem, hint);
}

const shown = (value: unknown): string => JSON.stringify(value) ?? String(value);

/** An optional string setting; blank counts as unset (stack config cannot unset a declared key). */
function optionalString(args: GeminiWebhooksArgs, key: SettingKey): string | undefined {
  const value: unknown = args[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return fail(key, `must be a string (got ${shown(value)})`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function integer(args: GeminiWebhooksArgs, key: SettingKey, fallback: number, min: number, max: number): number {
  const value: unknown = args[key] ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(key, `must be a whole number from ${min} to ${max} (got ${shown(value)})`, { example: String(fallback) });
  }
  return value;
}

function boolean(args: GeminiWebhooksArgs, key: SettingKey, fallback: boolean): boolean {
  const value: unknown = args[key] ?? fallback;
  if (typeof value !== 'boolean')
    fail(key, `must be true or false (got ${shown(value)})`, { example: String(fallback) });
  return value;
}

function duration(args: GeminiWebhooksArgs, key: SettingKey, fallback: string): string {
  const text = optionalString(args, key) ?? fallback;
  const ms = parseGoDuration(text);
  if (ms === undefined || ms > MAX_WAIT_MS) {
    fail(key, `must be a Go duration such as 90s or 10m, from 0s to 1h (got ${shown(text)})`, { example: fallback });
  }
  return text;
}

export function httpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

function stringList(
  args: GeminiWebhooksArgs,
  key: SettingKey,
  what: string,
  hint: { example?: string; fix?: string },
): string[] {
  const value: unknown = args[key] ?? [];
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    fail(key, `must be a list of ${what}`, hint);
  return value as string[];
}

/** The `signingSecrets` list; errors name an entry by its position, never by its value. */
export function resolveSigningSecrets(value: unknown): SigningSecret[] {
  const key = 'signingSecrets';
  const hint = { example: `'["whsec_<new>","whsec_<previous>"]'` };
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail(key, 'is not a list of `whsec_` secrets', hint);
  if (value.length > MAX_SIGNING_SECRETS) {
    fail(key, `holds ${value.length} secrets, more than the ${MAX_SIGNING_SECRETS} a rotation ever needs`, {
      fix:
        'remove the expired ones with `npx gemini-webhooks webhooks prune`, ' +
        `or set the list again with pulumi config set --secret signingSecrets ${hint.example}`,
    });
  }
  const secrets: SigningSecret[] = [];
  const seen = new Set<string>();
  value.forEach((entry: unknown, index: number) => {
    const problem = signingSecretProblem(entry);
    if (problem !== undefined) fail(key, `entry ${index + 1} ${problem}`, hint);
    const secret = new SigningSecret(entry as string);
    if (seen.has(secret.fingerprint)) fail(key, `entry ${index + 1} repeats an earlier secret`, hint);
    seen.add(secret.fingerprint);
    secrets.push(secret);
  });
  return secrets;
}

const CONSUMER_EXAMPLE = `'[{"name":"billing","eventTypes":["batch.succeeded"],"push":{"endpoint":"https://billing.example.com/gemini"}}]'`;

/** Validates one consumer; `where` names it in errors (`subscriptions[2]`). */
export function resolveConsumer(value: unknown, where: string): ConsumerSettings {
  const bad = (problem: string): never =>
    fail('subscriptions', `${where} ${problem}`.trim(), { example: CONSUMER_EXAMPLE });
  if (!isRecord(value)) return bad('is not an object');
  for (const field of Object.keys(value)) {
    if (!CONSUMER_FIELDS.has(field))
      bad(`has unknown field ${shown(field)} (known: ${[...CONSUMER_FIELDS].join(', ')})`);
  }
  const name = value['name'];
  if (typeof name !== 'string') return bad('needs a string `name`');
  const nameProblem = consumerNameProblem(name);
  if (nameProblem !== undefined) bad(`name ${nameProblem}`);

  const types = value['eventTypes'];
  if (!Array.isArray(types) || types.length === 0) {
    return bad('needs a non-empty `eventTypes` list (catalog types, "unrouted", or "*")');
  }
  const routes = new Set<RouteKey>();
  for (const type of types) {
    if (type === '*') ROUTE_KEYS.forEach((route) => routes.add(route));
    else if (typeof type === 'string' && (ROUTE_KEYS as readonly string[]).includes(type)) routes.add(type as RouteKey);
    else bad(`lists unknown event type ${shown(type)} (known: ${ROUTE_KEYS.join(', ')}, or "*")`);
  }
  // Catalog order keeps resource creation order stable whatever order the user wrote.
  const eventTypes = ROUTE_KEYS.filter((route) => routes.has(route));

  let push: PushDelivery | undefined;
  const p = value['push'];
  if (p !== undefined && p !== null) {
    if (!isRecord(p)) return bad('has a `push` that is not an object');
    for (const field of Object.keys(p)) {
      if (!PUSH_FIELDS.has(field))
        bad(`push has unknown field ${shown(field)} (known: ${[...PUSH_FIELDS].join(', ')})`);
    }
    // An endpoint another resource outputs is checked by Pub/Sub itself; a written one is checked here.
    const endpoint = p['endpoint'];
    if (!pulumi.Output.isInstance(endpoint) && (typeof endpoint !== 'string' || !httpsUrl(endpoint))) {
      return bad('push.endpoint must be an https:// URL');
    }
    push = { endpoint: endpoint as pulumi.Input<string> };
    const email = p['serviceAccountEmail'];
    if (email !== undefined && email !== null) {
      if (!pulumi.Output.isInstance(email) && (typeof email !== 'string' || !isServiceAccountEmail(email))) {
        bad(
          'push.serviceAccountEmail must be a service account email (…@<project>.iam.gserviceaccount.com, ' +
            '…@developer.gserviceaccount.com or …@appspot.gserviceaccount.com)',
        );
      }
      push.serviceAccountEmail = email as pulumi.Input<string>;
    }
    const audience = p['audience'];
    if (audience !== undefined && audience !== null) {
      if (!pulumi.Output.isInstance(audience) && (typeof audience !== 'string' || audience === '')) {
        bad('push.audience must be a non-empty string');
      }
      push.audience = audience as pulumi.Input<string>;
    }
  }

  let filter: string | undefined;
  const f = value['filter'];
  if (f !== undefined && f !== null) {
    if (typeof f !== 'string' || f.trim() === '') return bad('filter must be a non-empty Pub/Sub filter string');
    if (Buffer.byteLength(f) > MAX_FILTER_BYTES) bad(`filter is longer than Pub/Sub's ${MAX_FILTER_BYTES} bytes`);
    filter = f;
  }

  const ack = value['ackDeadlineSeconds'] ?? DEFAULTS.ackDeadlineSeconds;
  if (typeof ack !== 'number' || !Number.isInteger(ack) || ack < 10 || ack > 600) {
    bad('ackDeadlineSeconds must be a whole number from 10 to 600');
  }
  const exactlyOnce = value['exactlyOnce'] ?? false;
  if (typeof exactlyOnce !== 'boolean') bad('exactlyOnce must be true or false');
  if (exactlyOnce === true && push !== undefined) {
    bad('asks for exactlyOnce, which Pub/Sub offers only to pull subscriptions (drop `push` or `exactlyOnce`)');
  }

  const consumer: ConsumerSettings = {
    name,
    eventTypes,
    ackDeadlineSeconds: ack as number,
    exactlyOnce: exactlyOnce as boolean,
  };
  if (push !== undefined) consumer.push = push;
  if (filter !== undefined) consumer.filter = filter;
  return consumer;
}

export function resolveConsumers(value: unknown): ConsumerSettings[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return fail('subscriptions', 'is not a list of consumers', { example: CONSUMER_EXAMPLE });
  const consumers = value.map((entry, index) => resolveConsumer(entry, `subscriptions[${index}]`));
  const names = new Set<string>();
  for (const consumer of consumers) {
    if (names.has(consumer.name)) {
      fail('subscriptions', `names consumer ${shown(consumer.name)} twice`, {
        fix: 'give every consumer its own name',
      });
    }
    names.add(consumer.name);
  }
  return consumers;
}

function resolveSchemes(value: unknown): Scheme[] {
  const hint = { example: 'static,jwt' };
  const list: unknown = value ?? DEFAULTS.schemes;
  if (!Array.isArray(list)) return fail('schemes', `must be a list of schemes (got ${shown(list)})`, hint);
  const schemes = new Set<Scheme>();
  for (const item of list) {
    if (!(SCHEMES as readonly unknown[]).includes(item)) {
      fail('schemes', `lists unknown scheme ${shown(item)} (known: ${SCHEMES.join(', ')})`, hint);
    }
    schemes.add(item as Scheme);
  }
  if (schemes.size === 0) fail('schemes', 'enables no scheme, so every delivery would be refused', hint);
  return SCHEMES.filter((s) => schemes.has(s));
}

/** How often, and how far apart, Pub/Sub redelivers what a consumer does not acknowledge. */
export interface RetryPolicy {
  maxDeliveryAttempts: number;
  minimumBackoffSeconds: number;
  maximumBackoffSeconds: number;
}

export function resolveRetryPolicy(args: Partial<Record<keyof RetryPolicy, unknown>>): RetryPolicy {
  const values = args as GeminiWebhooksArgs;
  const maxDeliveryAttempts = integer(
    values,
    'maxDeliveryAttempts',
    DEFAULTS.maxDeliveryAttempts,
    MIN_DELIVERY_ATTEMPTS,
    MAX_DELIVERY_ATTEMPTS,
  );
  const minimumBackoffSeconds = integer(values, 'minimumBackoffSeconds', DEFAULTS.minimumBackoffSeconds, 0, 600);
  const maximumBackoffSeconds = integer(values, 'maximumBackoffSeconds', DEFAULTS.maximumBackoffSeconds, 0, 600);
  if (maximumBackoffSeconds < minimumBackoffSeconds) {
    fail(
      'maximumBackoffSeconds',
      `(${maximumBackoffSeconds}) is below minimumBackoffSeconds (${minimumBackoffSeconds})`,
      {
        example: '600',
      },
    );
  }
  return { maxDeliveryAttempts, minimumBackoffSeconds, maximumBackoffSeconds };
}

/** `512Mi` -> 512; `1Gi` -> 1024; undefined when not a Cloud Run memory quantity we accept. */
export function memoryMiB(memory: string): number | undefined {
  const match = /^(\d+)(Mi|Gi)$/.exec(memory);
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

/** Checks every setting and applies every default; throws a SettingError for the first bad one. */
export function resolveSettings(args: GeminiWebhooksArgs): Settings {
  const project = optionalString(args, 'project');
  if (project === undefined) fail('project', 'is not set', { example: '<your-project-id>' });
  if (!isProjectId(project)) {
    fail('project', `is not a Google Cloud project id (got ${shown(project)})`, { example: '<your-project-id>' });
  }
  const region = optionalString(args, 'region') ?? DEFAULTS.region;
  if (!REGION.test(region)) {
    fail('region', `is not a Google Cloud region (got ${shown(region)})`, { example: DEFAULTS.region });
  }

  const signingSecrets = resolveSigningSecrets(args.signingSecrets);
  const schemes = resolveSchemes(args.schemes);

  const jwksUrl = optionalString(args, 'jwksUrl') ?? DEFAULTS.jwksUrl;
  if (!httpsUrl(jwksUrl))
    fail('jwksUrl', `must be an https:// URL (got ${shown(jwksUrl)})`, { example: DEFAULT_JWKS_URL });
  const jwtAudience = optionalString(args, 'jwtAudience');
  const jwtIssuer = optionalString(args, 'jwtIssuer');
  const jwtRequireBodyBinding = boolean(args, 'jwtRequireBodyBinding', DEFAULTS.jwtRequireBodyBinding);
  const jwtAllowAnyAudience = boolean(args, 'jwtAllowAnyAudience', DEFAULTS.jwtAllowAnyAudience);
  if (schemes.includes('jwt') && jwtAudience === undefined && !jwtAllowAnyAudience) {
    fail('schemes', `enables jwt but \`jwtAudience\` is not set: ${JWT_AUDIENCE_REQUIRED}`, {
      fix:
        'set `jwtAudience` to the aud your dynamic webhooks carry, ' +
        'or `jwtAllowAnyAudience` to true to accept that risk',
    });
  }

  const topicPrefix = optionalString(args, 'topicPrefix') ?? DEFAULTS.topicPrefix;
  const prefixProblem = topicPrefixProblem(topicPrefix);
  if (prefixProblem !== undefined) fail('topicPrefix', prefixProblem, { example: DEFAULT_TOPIC_PREFIX });

  const minInstances = integer(args, 'minInstances', DEFAULTS.minInstances, 0, 100);
  const maxInstances = integer(args, 'maxInstances', DEFAULTS.maxInstances, 1, 1000);
  if (maxInstances < minInstances) {
    fail('maxInstances', `(${maxInstances}) is below minInstances (${minInstances})`, {
      example: String(Math.max(minInstances, DEFAULTS.maxInstances)),
    });
  }
  const concurrency = integer(args, 'concurrency', DEFAULTS.concurrency, 1, 1000);
  const memory = optionalString(args, 'memory') ?? DEFAULTS.memory;
  const mib = memoryMiB(memory);
  if (mib === undefined || mib < 256 || mib > 32768) {
    fail('memory', `must be a quantity from 256Mi to 32Gi such as 512Mi or 1Gi (got ${shown(memory)})`, {
      example: DEFAULTS.memory,
    });
  }
  const timeoutSeconds = integer(args, 'timeoutSeconds', DEFAULTS.timeoutSeconds, 1, 3600);
  const tunables = Object.fromEntries(
    Object.entries(RECEIVER_TUNABLES).map(([key, t]) => [
      key,
      integer(args, key as ReceiverTunable, t.default, t.min, t.max),
    ]),
  ) as ReceiverTunables;
  // The answer must come before Cloud Run cuts the request off, or Gemini sees a timeout, not a 503.
  if (tunables.publishTimeoutMs >= timeoutSeconds * 1000) {
    fail('publishTimeoutMs', `(${tunables.publishTimeoutMs} ms) must be below timeoutSeconds (${timeoutSeconds} s)`, {
      example: String(RECEIVER_TUNABLES.publishTimeoutMs.default),
    });
  }

  const { maxDeliveryAttempts, minimumBackoffSeconds, maximumBackoffSeconds } = resolveRetryPolicy(args);
  const topicRetentionSeconds = integer(
    args,
    'topicRetentionSeconds',
    DEFAULTS.topicRetentionSeconds,
    MIN_RETENTION_SECONDS,
    MAX_RETENTION_SECONDS,
  );
  const deadLetterRetentionSeconds = integer(
    args,
    'deadLetterRetentionSeconds',
    DEFAULTS.deadLetterRetentionSeconds,
    MIN_RETENTION_SECONDS,
    MAX_RETENTION_SECONDS,
  );

  const subscriptions = resolveConsumers(args.subscriptions);

  const emailHint = { example: 'oncall@example.com' };
  const emails = stringList(args, 'alertEmails', 'email addresses', emailHint);
  for (const email of emails) {
    if (!EMAIL.test(email)) fail('alertEmails', `lists ${shown(email)}, which is not an email address`, emailHint);
  }
  const alertEmails = [...new Set(emails)];

  const enableApis = boolean(args, 'enableApis', DEFAULTS.enableApis);
  const waits: Waits = {
    apiEnablement: duration(args, 'apiEnablementWait', DEFAULTS.apiEnablementWait),
    buildGrants: duration(args, 'buildGrantsWait', DEFAULTS.buildGrantsWait),
    logMetrics: duration(args, 'logMetricsWait', DEFAULTS.logMetricsWait),
  };
  const invoker = optionalString(args, 'publicInvoker') ?? DEFAULTS.publicInvoker;
  if (!(PUBLIC_INVOKERS as readonly string[]).includes(invoker)) {
    fail('publicInvoker', `must be "allUsers" or "none" (got ${shown(invoker)})`, { example: 'none' });
  }

  const settings: Settings = {
    project,
    region,
    signingSecrets,
    schemes,
    jwksUrl,
    jwtRequireBodyBinding,
    jwtAllowAnyAudience,
    topicPrefix,
    receiver: { minInstances, maxInstances, concurrency, memory, timeoutSeconds },
    tunables,
    maxDeliveryAttempts,
    minimumBackoffSeconds,
    maximumBackoffSeconds,
    topicRetentionSeconds,
    deadLetterRetentionSeconds,
    subscriptions,
    alertEmails,
    enableApis,
    publicInvoker: invoker as PublicInvoker,
    waits,
  };
  if (jwtAudience !== undefined) settings.jwtAudience = jwtAudience;
  if (jwtIssuer !== undefined) settings.jwtIssuer = jwtIssuer;
  return settings;
}
