/**
 * Stack configuration: read once, typed, validated. `parseSettings` is a pure function of the raw
 * strings Pulumi hands us, so every rule here is unit-tested without a Pulumi runtime; `readSettings`
 * is the thin reader the program calls. A bad value fails with one sentence that names the key and
 * says how to fix it. Signing secrets are never echoed, not even in errors.
 */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import * as pulumi from '@pulumi/pulumi';
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
  MIN_DELIVERY_ATTEMPTS,
  TOPOLOGY_DEFAULTS,
} from '../functions/topology.ts';
import { parseSigningSecret } from '../functions/verify/keys.ts';
import type { Scheme } from '../functions/verify/result.ts';
import { parseGoDuration } from './durations.ts';
import { isProjectId, isServiceAccountEmail } from './gcp-ids.ts';

/** The Pulumi project name; also the config namespace of every key below except `gcp:*`. */
export const PROJECT_NAME = 'gemini-webhooks-pubsub';

export { DEFAULT_JWKS_URL };

export type { Scheme };
export const SCHEMES: readonly Scheme[] = ['static', 'jwt'];

export type PublicInvoker = 'allUsers' | 'none';

/** Thrown for any invalid setting; `key` is the config key at fault. */
export class ConfigError extends Error {
  readonly key: string;
  constructor(key: string, message: string) {
    super(message);
    this.name = 'ConfigError';
    this.key = key;
  }
}

/**
 * One signing secret from config. The value is reachable only through `reveal()`; printing,
 * logging or JSON-serialising the object shows the fingerprint and never the secret.
 */
export class SigningSecret {
  /** Stable, non-secret identity: the first 12 hex digits of SHA-256 over the decoded key bytes. */
  readonly fingerprint: string;
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
    this.fingerprint = fingerprintOf(value);
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return `[signing secret ${this.fingerprint}]`;
  }
  toJSON(): string {
    return this.toString();
  }
  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * The fingerprint that names a secret's Secret Manager version resource. It is derived from the
 * secret (so the same secret always maps to the same resource, wherever it sits in the list) but is
 * a 48-bit truncation of a domain-separated SHA-256 of a >=128-bit random key: it identifies, it
 * does not reveal.
 */
export function fingerprintOf(secret: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return createHash('sha256')
    .update('gemini-webhooks-pubsub/signing-secret-fingerprint/v1\0')
    .update(key)
    .digest('hex')
    .slice(0, 12);
}

export interface PushSettings {
  /** HTTPS endpoint Pub/Sub pushes to. */
  endpoint: string;
  /**
   * Service account whose OIDC token authenticates each push. When omitted, the program creates a
   * dedicated one for the consumer.
   */
  serviceAccountEmail?: string;
  /** `aud` of the OIDC token; Pub/Sub uses the endpoint URL when omitted. */
  audience?: string;
}

export interface ConsumerSettings {
  /** Consumer name; part of every subscription id (`<topic>-<name>`). */
  name: string;
  /** Routes (catalog event types or `unrouted`) this consumer receives; one subscription per route. */
  eventTypes: RouteKey[];
  /** Push delivery; pull when absent. */
  push?: PushSettings;
  /** Pub/Sub filter, e.g. `attributes.user_metadata_tenant = "acme"`. */
  filter?: string;
  ackDeadlineSeconds: number;
  /** Exactly-once delivery (pull subscriptions only). */
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

/** Defaults of every optional key; `Pulumi.yaml` declares the same values. */
export const DEFAULTS = {
  'gcp:region': 'us-central1',
  schemes: DEFAULT_SCHEMES.join(','),
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

/** Every key `readSettings` reads, in the order `Pulumi.yaml` documents them. */
export const CONFIG_KEYS = [
  'gcp:project',
  'gcp:region',
  'signingSecrets',
  'schemes',
  'jwksUrl',
  'jwtAudience',
  'jwtIssuer',
  'jwtRequireBodyBinding',
  'jwtAllowAnyAudience',
  'topicPrefix',
  'minInstances',
  'maxInstances',
  'concurrency',
  'memory',
  'timeoutSeconds',
  'timestampToleranceSeconds',
  'maxBodyBytes',
  'publishTimeoutMs',
  'secretRefreshSeconds',
  'maxInFlight',
  'maxDeliveryAttempts',
  'minimumBackoffSeconds',
  'maximumBackoffSeconds',
  'topicRetentionSeconds',
  'deadLetterRetentionSeconds',
  'subscriptions',
  'alertEmails',
  'enableApis',
  'publicInvoker',
  'apiEnablementWait',
  'buildGrantsWait',
  'logMetricsWait',
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Raw config strings as Pulumi stores them (structured values arrive as JSON text). */
export type RawConfig = Partial<Record<ConfigKey, string>>;

const SECRET_EXAMPLE = `pulumi config set --secret signingSecrets '["whsec_<new>","whsec_<previous>"]'`;

function fail(key: string, problem: string, fix: string): never {
  throw new ConfigError(key, `Config \`${key}\` ${problem}; fix: ${fix}.`);
}

function setCmd(key: string, example: string): string {
  return `pulumi config set ${key} ${example}`;
}

function present(raw: RawConfig, key: ConfigKey): string | undefined {
  const value = raw[key];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function integer(raw: RawConfig, key: ConfigKey, fallback: number, min: number, max: number): number {
  const text = present(raw, key);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(
      key,
      `must be a whole number from ${min} to ${max} (got ${JSON.stringify(text)})`,
      setCmd(key, String(fallback)),
    );
  }
  return value;
}

function boolean(raw: RawConfig, key: ConfigKey, fallback: boolean): boolean {
  const text = present(raw, key);
  if (text === undefined) return fallback;
  if (text === 'true') return true;
  if (text === 'false') return false;
  return fail(key, `must be true or false (got ${JSON.stringify(text)})`, setCmd(key, String(fallback)));
}

/** Longest wait a key accepts: a deploy that sleeps longer is waiting for something else. */
export const MAX_WAIT_MS = 3_600_000;

function duration(raw: RawConfig, key: ConfigKey, fallback: string): string {
  const text = present(raw, key);
  if (text === undefined) return fallback;
  const ms = parseGoDuration(text);
  if (ms === undefined || ms > MAX_WAIT_MS) {
    fail(
      key,
      `must be a Go duration such as 90s or 10m, from 0s to 1h (got ${JSON.stringify(text)})`,
      setCmd(key, fallback),
    );
  }
  return text;
}

function json(raw: RawConfig, key: ConfigKey, example: string): unknown {
  const text = present(raw, key);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return fail(key, 'is not valid JSON', example);
  }
}

function httpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** Why a signing secret is unusable, without ever quoting it; undefined when fine. */
export function signingSecretProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  // Stricter than the receiver on purpose: what the stack stores must be exactly what Gemini issued.
  if (!value.startsWith('whsec_')) return 'does not start with `whsec_`';
  let key: Buffer;
  try {
    key = parseSigningSecret(value);
  } catch (error) {
    return (error as Error).message;
  }
  if (key.length < 16) return `decodes to ${key.length} bytes, fewer than the 16 a signing key needs`;
  return undefined;
}

export const MAX_SIGNING_SECRETS = 5;

/** Parses the `signingSecrets` JSON array; errors name the entry's position, never its value. */
export function parseSigningSecrets(text: string | undefined): SigningSecret[] {
  const key = 'signingSecrets';
  if (text === undefined || text.trim() === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    fail(key, 'is not a JSON array of strings', SECRET_EXAMPLE);
  }
  if (!Array.isArray(parsed)) fail(key, 'is not a JSON array of strings', SECRET_EXAMPLE);
  if (parsed.length > MAX_SIGNING_SECRETS) {
    fail(
      key,
      `holds ${parsed.length} secrets, more than the ${MAX_SIGNING_SECRETS} a rotation ever needs`,
      `remove the expired ones with ${SECRET_EXAMPLE}`,
    );
  }
  const secrets: SigningSecret[] = [];
  const seen = new Set<string>();
  parsed.forEach((entry: unknown, index: number) => {
    const problem = signingSecretProblem(entry);
    if (problem !== undefined)
      fail(key, `entry ${index + 1} ${problem}`, `set the whole list again with ${SECRET_EXAMPLE}`);
    const secret = new SigningSecret(entry as string);
    if (seen.has(secret.fingerprint))
      fail(key, `entry ${index + 1} repeats an earlier secret`, `list each secret once with ${SECRET_EXAMPLE}`);
    seen.add(secret.fingerprint);
    secrets.push(secret);
  });
  return secrets;
}

const EMAIL = /^[^\s@"',]+@[^\s@"',]+\.[^\s@"',]+$/;
// `alertEmails` is declared as an array in Pulumi.yaml: `pulumi config set alertEmails '[...]'`
// would store a string, which Pulumi then rejects against the declared type; `--path` sets an element.
const ALERT_EMAILS_EXAMPLE = `pulumi config set --path 'alertEmails[0]' oncall@example.com`;
const CONSUMERS_EXAMPLE = `pulumi config set subscriptions '[{"name":"billing","eventTypes":["batch.succeeded"],"push":{"endpoint":"https://billing.example.com/gemini"}}]'`;
const CONSUMER_FIELDS = new Set(['name', 'eventTypes', 'push', 'filter', 'ackDeadlineSeconds', 'exactlyOnce']);
const PUSH_FIELDS = new Set(['endpoint', 'serviceAccountEmail', 'audience']);
const MAX_FILTER_BYTES = 256;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one consumer declaration; `where` names it in errors (`subscriptions[2]`). */
export function parseConsumer(value: unknown, where: string): ConsumerSettings {
  const key = 'subscriptions';
  const bad = (problem: string): never => fail(key, `${where} ${problem}`, CONSUMERS_EXAMPLE);
  if (!isRecord(value)) bad('is not an object');
  const entry = value as Record<string, unknown>;
  for (const field of Object.keys(entry)) {
    if (!CONSUMER_FIELDS.has(field))
      bad(`has unknown field ${JSON.stringify(field)} (known: ${[...CONSUMER_FIELDS].join(', ')})`);
  }
  const name = entry['name'];
  if (typeof name !== 'string') return bad('needs a string `name`');
  const nameProblem = consumerNameProblem(name);
  if (nameProblem !== undefined) bad(`name ${nameProblem}`);

  const types = entry['eventTypes'];
  if (!Array.isArray(types) || types.length === 0)
    return bad('needs a non-empty `eventTypes` array (catalog types, "unrouted", or "*")');
  const routes = new Set<RouteKey>();
  for (const type of types) {
    if (type === '*') ROUTE_KEYS.forEach((route) => routes.add(route));
    else if (typeof type === 'string' && (ROUTE_KEYS as readonly string[]).includes(type)) routes.add(type as RouteKey);
    else bad(`lists unknown event type ${JSON.stringify(type)} (known: ${ROUTE_KEYS.join(', ')}, or "*")`);
  }
  // Catalog order keeps resource creation order stable whatever order the user wrote.
  const eventTypes = ROUTE_KEYS.filter((route) => routes.has(route));

  let push: PushSettings | undefined;
  if (entry['push'] !== undefined) {
    const p = entry['push'];
    if (!isRecord(p)) return bad('has a `push` that is not an object');
    for (const field of Object.keys(p)) {
      if (!PUSH_FIELDS.has(field))
        bad(`push has unknown field ${JSON.stringify(field)} (known: ${[...PUSH_FIELDS].join(', ')})`);
    }
    const endpoint = p['endpoint'];
    if (typeof endpoint !== 'string' || !httpsUrl(endpoint)) return bad('push.endpoint must be an https:// URL');
    push = { endpoint };
    const email = p['serviceAccountEmail'];
    if (email !== undefined) {
      if (typeof email !== 'string' || !isServiceAccountEmail(email)) {
        bad(
          'push.serviceAccountEmail must be a service account email (…@<project>.iam.gserviceaccount.com, …@developer.gserviceaccount.com or …@appspot.gserviceaccount.com)',
        );
      }
      push.serviceAccountEmail = email as string;
    }
    const audience = p['audience'];
    if (audience !== undefined) {
      if (typeof audience !== 'string' || audience === '') bad('push.audience must be a non-empty string');
      push.audience = audience as string;
    }
  }

  let filter: string | undefined;
  if (entry['filter'] !== undefined) {
    const f = entry['filter'];
    if (typeof f !== 'string' || f.trim() === '') return bad('filter must be a non-empty Pub/Sub filter string');
    if (Buffer.byteLength(f) > MAX_FILTER_BYTES) bad(`filter is longer than Pub/Sub's ${MAX_FILTER_BYTES} bytes`);
    filter = f;
  }

  const ack = entry['ackDeadlineSeconds'] ?? DEFAULTS.ackDeadlineSeconds;
  if (typeof ack !== 'number' || !Number.isInteger(ack) || ack < 10 || ack > 600)
    bad('ackDeadlineSeconds must be a whole number from 10 to 600');

  const exactlyOnce = entry['exactlyOnce'] ?? false;
  if (typeof exactlyOnce !== 'boolean') bad('exactlyOnce must be true or false');
  if (exactlyOnce === true && push !== undefined)
    bad('asks for exactlyOnce, which Pub/Sub offers only to pull subscriptions (drop `push` or `exactlyOnce`)');

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

export function parseConsumers(value: unknown): ConsumerSettings[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return fail('subscriptions', 'is not a JSON array of consumer objects', CONSUMERS_EXAMPLE);
  const consumers = value.map((entry, index) => parseConsumer(entry, `subscriptions[${index}]`));
  const names = new Set<string>();
  for (const consumer of consumers) {
    if (names.has(consumer.name))
      fail(
        'subscriptions',
        `names consumer ${JSON.stringify(consumer.name)} twice`,
        'give every consumer its own name',
      );
    names.add(consumer.name);
  }
  return consumers;
}

function parseSchemes(text: string | undefined): Scheme[] {
  const list = (text ?? DEFAULTS.schemes)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const schemes = new Set<Scheme>();
  for (const item of list) {
    if (!(SCHEMES as readonly string[]).includes(item))
      fail(
        'schemes',
        `lists unknown scheme ${JSON.stringify(item)} (known: static, jwt)`,
        setCmd('schemes', 'static,jwt'),
      );
    schemes.add(item as Scheme);
  }
  if (schemes.size === 0)
    fail('schemes', 'enables no scheme, so every delivery would be refused', setCmd('schemes', 'static,jwt'));
  return SCHEMES.filter((s) => schemes.has(s));
}

/** `512Mi` -> 512; `1Gi` -> 1024; undefined when not a Cloud Run memory quantity we accept. */
export function memoryMiB(memory: string): number | undefined {
  const match = /^(\d+)(Mi|Gi)$/.exec(memory);
  if (match === null) return undefined;
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

const REGION = /^[a-z]+-[a-z]+\d+$/;

/** Turns raw config strings into validated settings, or throws a ConfigError naming the key. */
export function parseSettings(raw: RawConfig): Settings {
  const project = present(raw, 'gcp:project');
  if (project === undefined) fail('gcp:project', 'is not set', 'pulumi config set gcp:project <your-project-id>');
  if (!isProjectId(project))
    fail(
      'gcp:project',
      `is not a Google Cloud project id (got ${JSON.stringify(project)})`,
      'pulumi config set gcp:project <your-project-id>',
    );
  const region = present(raw, 'gcp:region') ?? DEFAULTS['gcp:region'];
  if (!REGION.test(region))
    fail(
      'gcp:region',
      `is not a Google Cloud region (got ${JSON.stringify(region)})`,
      setCmd('gcp:region', 'us-central1'),
    );

  const signingSecrets = parseSigningSecrets(raw.signingSecrets);
  const schemes = parseSchemes(present(raw, 'schemes'));

  const jwksUrl = present(raw, 'jwksUrl') ?? DEFAULTS.jwksUrl;
  if (!httpsUrl(jwksUrl))
    fail('jwksUrl', `must be an https:// URL (got ${JSON.stringify(jwksUrl)})`, setCmd('jwksUrl', DEFAULT_JWKS_URL));
  const jwtAudience = present(raw, 'jwtAudience');
  const jwtIssuer = present(raw, 'jwtIssuer');
  const jwtRequireBodyBinding = boolean(raw, 'jwtRequireBodyBinding', DEFAULTS.jwtRequireBodyBinding);
  const jwtAllowAnyAudience = boolean(raw, 'jwtAllowAnyAudience', DEFAULTS.jwtAllowAnyAudience);
  if (schemes.includes('jwt') && jwtAudience === undefined && !jwtAllowAnyAudience) {
    fail(
      'schemes',
      `enables jwt but \`jwtAudience\` is not set: ${JWT_AUDIENCE_REQUIRED}`,
      `${setCmd('jwtAudience', '<the aud your dynamic webhooks carry>')}, or ${setCmd('jwtAllowAnyAudience', 'true')} to accept that risk`,
    );
  }

  const topicPrefix = present(raw, 'topicPrefix') ?? DEFAULTS.topicPrefix;
  const prefixProblem = topicPrefixProblem(topicPrefix);
  if (prefixProblem !== undefined) fail('topicPrefix', prefixProblem, setCmd('topicPrefix', DEFAULT_TOPIC_PREFIX));

  const minInstances = integer(raw, 'minInstances', DEFAULTS.minInstances, 0, 100);
  const maxInstances = integer(raw, 'maxInstances', DEFAULTS.maxInstances, 1, 1000);
  if (maxInstances < minInstances)
    fail(
      'maxInstances',
      `(${maxInstances}) is below minInstances (${minInstances})`,
      setCmd('maxInstances', String(Math.max(minInstances, DEFAULTS.maxInstances))),
    );
  const concurrency = integer(raw, 'concurrency', DEFAULTS.concurrency, 1, 1000);
  const memory = present(raw, 'memory') ?? DEFAULTS.memory;
  const mib = memoryMiB(memory);
  if (mib === undefined || mib < 256 || mib > 32768)
    fail(
      'memory',
      `must be a quantity from 256Mi to 32Gi such as 512Mi or 1Gi (got ${JSON.stringify(memory)})`,
      setCmd('memory', DEFAULTS.memory),
    );
  const timeoutSeconds = integer(raw, 'timeoutSeconds', DEFAULTS.timeoutSeconds, 1, 3600);
  const tunables = Object.fromEntries(
    Object.entries(RECEIVER_TUNABLES).map(([key, t]) => [
      key,
      integer(raw, key as ReceiverTunable, t.default, t.min, t.max),
    ]),
  ) as ReceiverTunables;
  // The answer must come before Cloud Run cuts the request off, or Gemini sees a timeout, not a 503.
  if (tunables.publishTimeoutMs >= timeoutSeconds * 1000) {
    fail(
      'publishTimeoutMs',
      `(${tunables.publishTimeoutMs} ms) must be below timeoutSeconds (${timeoutSeconds} s)`,
      setCmd('publishTimeoutMs', String(RECEIVER_TUNABLES.publishTimeoutMs.default)),
    );
  }

  const maxDeliveryAttempts = integer(
    raw,
    'maxDeliveryAttempts',
    DEFAULTS.maxDeliveryAttempts,
    MIN_DELIVERY_ATTEMPTS,
    MAX_DELIVERY_ATTEMPTS,
  );
  const minimumBackoffSeconds = integer(raw, 'minimumBackoffSeconds', DEFAULTS.minimumBackoffSeconds, 0, 600);
  const maximumBackoffSeconds = integer(raw, 'maximumBackoffSeconds', DEFAULTS.maximumBackoffSeconds, 0, 600);
  if (maximumBackoffSeconds < minimumBackoffSeconds)
    fail(
      'maximumBackoffSeconds',
      `(${maximumBackoffSeconds}) is below minimumBackoffSeconds (${minimumBackoffSeconds})`,
      setCmd('maximumBackoffSeconds', '600'),
    );
  // Topics retain up to 31 days; subscriptions (the dead-letter ones included) at most 7.
  const topicRetentionSeconds = integer(
    raw,
    'topicRetentionSeconds',
    DEFAULTS.topicRetentionSeconds,
    600,
    31 * 24 * 3600,
  );
  const deadLetterRetentionSeconds = integer(
    raw,
    'deadLetterRetentionSeconds',
    DEFAULTS.deadLetterRetentionSeconds,
    600,
    7 * 24 * 3600,
  );

  const subscriptions = parseConsumers(json(raw, 'subscriptions', CONSUMERS_EXAMPLE));

  const emails = json(raw, 'alertEmails', ALERT_EMAILS_EXAMPLE) ?? [];
  if (!Array.isArray(emails) || emails.some((e) => typeof e !== 'string' || !EMAIL.test(e))) {
    fail('alertEmails', 'must be a list of email addresses', ALERT_EMAILS_EXAMPLE);
  }
  const alertEmails = [...new Set(emails as string[])];

  const enableApis = boolean(raw, 'enableApis', DEFAULTS.enableApis);
  const waits: Waits = {
    apiEnablement: duration(raw, 'apiEnablementWait', DEFAULTS.apiEnablementWait),
    buildGrants: duration(raw, 'buildGrantsWait', DEFAULTS.buildGrantsWait),
    logMetrics: duration(raw, 'logMetricsWait', DEFAULTS.logMetricsWait),
  };
  const invoker = present(raw, 'publicInvoker') ?? DEFAULTS.publicInvoker;
  if (invoker !== 'allUsers' && invoker !== 'none') {
    fail(
      'publicInvoker',
      `must be "allUsers" or "none" (got ${JSON.stringify(invoker)})`,
      `${setCmd('publicInvoker', 'none')} when your organisation forbids allUsers`,
    );
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
    publicInvoker: invoker,
    waits,
  };
  if (jwtAudience !== undefined) settings.jwtAudience = jwtAudience;
  if (jwtIssuer !== undefined) settings.jwtIssuer = jwtIssuer;
  return settings;
}

/**
 * The thin reader: collects the raw strings from the stack's config and parses them once.
 * `signingSecrets` is read as plain text on purpose: resource names are derived from its entries'
 * fingerprints, which must be known synchronously. Its values go on only inside `pulumi.secret`.
 */
export function readSettings(): Settings {
  const own = new pulumi.Config(PROJECT_NAME);
  const gcp = new pulumi.Config('gcp');
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = key.startsWith('gcp:') ? gcp.get(key.slice(4)) : own.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseSettings(raw);
}
