/**
 * The settings of one deployment resolved: every argument (GeminiWebhooksArgs, generated from
 * infra/setting-table.ts, the same knobs whether they come from this project's stack config or from
 * another Pulumi program) checked, every default applied, into Settings. `resolveSettings` is a pure
 * function, so every rule is unit-tested without a Pulumi runtime (test/unit/settings.test.ts). A bad
 * value raises a SettingError naming the setting; the stack config reader and the component each turn
 * it into one sentence for their audience. Secrets (signing secrets, the receiver secret) are never echoed,
 * not even in errors.
 */
import { topicPrefixProblem } from '../functions/catalog.ts';
import { JWT_AUDIENCE_REQUIRED, RECEIVER_TUNABLES, type ReceiverTunables } from '../functions/config.ts';
import type { Scheme } from '../functions/verify/result.ts';
import type { GeminiWebhooksArgs } from './args.ts';
import { resolveConsumers, type ConsumerSettings } from './consumer.ts';
import { isProjectId } from './gcp-ids.ts';
import { SETTINGS, type SettingKey } from './setting-table.ts';
import {
  booleanSetting,
  durationSetting,
  exampleOf,
  fail,
  integerSetting,
  optionalString,
  shown,
  stringListSetting,
  stringSetting,
} from './setting-values.ts';
import { ReceiverSecret, receiverSecretProblem } from './receiver-secret.ts';
import { MAX_SIGNING_SECRETS, SigningSecret, signingSecretProblem } from './signing-secret.ts';

export type { GeminiWebhooksArgs } from './args.ts';
export {
  DEFAULT_ACK_DEADLINE_SECONDS,
  resolveConsumer,
  resolveConsumers,
  type Consumer,
  type ConsumerSettings,
  type PushDelivery,
} from './consumer.ts';
export { SETTINGS, type SettingKey } from './setting-table.ts';
export { SettingError } from './setting-values.ts';
export type { Scheme };
export const SCHEMES: readonly Scheme[] = ['static', 'jwt'];

export type PublicInvoker = (typeof SETTINGS.publicInvoker.choices)[number];
export const PUBLIC_INVOKERS: readonly PublicInvoker[] = SETTINGS.publicInvoker.choices;

/**
 * Who may reach the receiver's URL, as gcloud's `--ingress-settings` names it, and the function API's
 * value for it (https://cloud.google.com/functions/docs/networking/network-settings#ingress_settings).
 */
export const INGRESS = {
  all: 'ALLOW_ALL',
  'internal-and-gclb': 'ALLOW_INTERNAL_AND_GCLB',
  'internal-only': 'ALLOW_INTERNAL_ONLY',
} as const satisfies Record<(typeof SETTINGS.ingress.choices)[number], string>;
export type Ingress = (typeof INGRESS)[keyof typeof INGRESS];

/**
 * Where Secret Manager keeps the signing secret: `automatic` (Google chooses; the secret's location is
 * global) or user-managed replicas in the listed regions
 * (https://cloud.google.com/secret-manager/docs/choosing-replication).
 */
export type SecretReplication = { kind: 'automatic' } | { kind: 'user-managed'; locations: string[] };

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
 * How long the program waits where Google Cloud applies a change after reporting it done, in the
 * form the Sleep takes (`90s`, `5m`; infra/durations.ts). Each wait runs only when what it waits for is created or
 * replaced, never on an update that changes nothing; docs/first-deploy.md has the sources.
 */
export interface Waits {
  /** After the APIs are enabled, before anything calls them. */
  apiEnablement: string;
  /** After the build identity's grants, before the function is built. */
  buildGrants: string;
  /** After the log-based metrics are created, before an alert policy uses one. */
  logMetrics: string;
  /** After the Pub/Sub service agent is created, before anything is granted to it. */
  serviceAgent: string;
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
  /** The secret a JWT delivery's signed `user_metadata` must carry (`WEBHOOK_JWT_RECEIVER_SECRET`), when set. */
  jwtReceiverSecret?: ReceiverSecret;
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
  secretReplication: SecretReplication;
  ingress: Ingress;
  allowReplacement: boolean;
  protectData: boolean;
}

/**
 * The default of every setting that has one, as the table declares it (for tests and hints; the
 * resolvers read the table themselves).
 */
export const DEFAULTS = Object.fromEntries(
  Object.entries(SETTINGS).flatMap(([key, declaration]) =>
    'default' in declaration ? [[key, declaration.default]] : [],
  ),
) as {
  [K in SettingKey as (typeof SETTINGS)[K] extends { default: unknown } ? K : never]: (typeof SETTINGS)[K] extends {
    default: infer D;
  }
    ? D
    : never;
};

const REGION = /^[a-z]+-[a-z]+\d+$/;
const EMAIL = /^[^\s@"',]+@[^\s@"',]+\.[^\s@"',]+$/;

export function httpsUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.hostname !== '';
  } catch {
    return false;
  }
}

/** The `jwtReceiverSecret`, when set; errors say its length, never its value. */
export function resolveReceiverSecret(args: GeminiWebhooksArgs): ReceiverSecret | undefined {
  const value = optionalString(args, 'jwtReceiverSecret');
  if (value === undefined) return undefined;
  const problem = receiverSecretProblem(value);
  if (problem !== undefined) fail('jwtReceiverSecret', problem, { example: exampleOf('jwtReceiverSecret') });
  return new ReceiverSecret(value);
}

/** The `signingSecrets` list; errors name an entry by its position, never by its value. */
export function resolveSigningSecrets(value: unknown): SigningSecret[] {
  const key = 'signingSecrets';
  const hint = { example: exampleOf(key) };
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

function resolveSchemes(args: GeminiWebhooksArgs): Scheme[] {
  const hint = { example: exampleOf('schemes') };
  const list = stringListSetting(args, 'schemes', 'schemes');
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
  const maxDeliveryAttempts = integerSetting(values, 'maxDeliveryAttempts');
  const minimumBackoffSeconds = integerSetting(values, 'minimumBackoffSeconds');
  const maximumBackoffSeconds = integerSetting(values, 'maximumBackoffSeconds');
  if (maximumBackoffSeconds < minimumBackoffSeconds) {
    fail(
      'maximumBackoffSeconds',
      `(${maximumBackoffSeconds}) is below minimumBackoffSeconds (${minimumBackoffSeconds})`,
      { example: exampleOf('maximumBackoffSeconds') },
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

function resolveSecretReplication(args: GeminiWebhooksArgs): SecretReplication {
  const value = stringSetting(args, 'secretReplication');
  if (value === 'automatic') return { kind: 'automatic' };
  const locations = value.split(',').map((location) => location.trim());
  const hint = { example: exampleOf('secretReplication') };
  for (const location of locations) {
    if (!REGION.test(location))
      fail('secretReplication', `must be "automatic" or regions separated by commas (got ${shown(value)})`, hint);
  }
  if (new Set(locations).size !== locations.length)
    fail('secretReplication', `names a region twice (got ${shown(value)})`, hint);
  return { kind: 'user-managed', locations };
}

/** Checks every setting and applies every default; throws a SettingError for the first bad one. */
export function resolveSettings(args: GeminiWebhooksArgs): Settings {
  const project = optionalString(args, 'project');
  if (project === undefined) fail('project', 'is not set', { example: exampleOf('project') });
  if (!isProjectId(project)) {
    fail('project', `is not a Google Cloud project id (got ${shown(project)})`, { example: exampleOf('project') });
  }
  const region = stringSetting(args, 'region');
  if (!REGION.test(region)) {
    fail('region', `is not a Google Cloud region (got ${shown(region)})`, { example: exampleOf('region') });
  }

  const signingSecrets = resolveSigningSecrets(args.signingSecrets);
  const schemes = resolveSchemes(args);

  const jwksUrl = stringSetting(args, 'jwksUrl');
  if (!httpsUrl(jwksUrl))
    fail('jwksUrl', `must be an https:// URL (got ${shown(jwksUrl)})`, { example: exampleOf('jwksUrl') });
  const jwtAudience = stringSetting(args, 'jwtAudience');
  const jwtIssuer = stringSetting(args, 'jwtIssuer');
  const jwtRequireBodyBinding = booleanSetting(args, 'jwtRequireBodyBinding');
  const jwtAllowAnyAudience = booleanSetting(args, 'jwtAllowAnyAudience');
  const jwtReceiverSecret = resolveReceiverSecret(args);
  if (schemes.includes('jwt') && jwtAudience === undefined && !jwtAllowAnyAudience) {
    fail('schemes', `enables jwt but \`jwtAudience\` is not set: ${JWT_AUDIENCE_REQUIRED}`, {
      fix:
        'set `jwtAudience` to the aud your dynamic webhooks carry, ' +
        'or `jwtAllowAnyAudience` to true to accept that risk',
    });
  }

  const topicPrefix = stringSetting(args, 'topicPrefix');
  const prefixProblem = topicPrefixProblem(topicPrefix);
  if (prefixProblem !== undefined) fail('topicPrefix', prefixProblem, { example: exampleOf('topicPrefix') });

  const minInstances = integerSetting(args, 'minInstances');
  const maxInstances = integerSetting(args, 'maxInstances');
  if (maxInstances < minInstances) {
    fail('maxInstances', `(${maxInstances}) is below minInstances (${minInstances})`, {
      example: String(Math.max(minInstances, SETTINGS.maxInstances.default)),
    });
  }
  const concurrency = integerSetting(args, 'concurrency');
  const memory = stringSetting(args, 'memory');
  const mib = memoryMiB(memory);
  if (mib === undefined || mib < 256 || mib > 32768) {
    fail('memory', `must be a quantity from 256Mi to 32Gi such as 512Mi or 1Gi (got ${shown(memory)})`, {
      example: exampleOf('memory'),
    });
  }
  const timeoutSeconds = integerSetting(args, 'timeoutSeconds');
  const tunables = Object.fromEntries(
    (Object.keys(RECEIVER_TUNABLES) as (keyof ReceiverTunables)[]).map((key) => [key, integerSetting(args, key)]),
  ) as ReceiverTunables;
  // The answer must come before Cloud Run cuts the request off, or Gemini sees a timeout, not a 503.
  if (tunables.publishTimeoutMs >= timeoutSeconds * 1000) {
    fail('publishTimeoutMs', `(${tunables.publishTimeoutMs} ms) must be below timeoutSeconds (${timeoutSeconds} s)`, {
      example: exampleOf('publishTimeoutMs'),
    });
  }

  const { maxDeliveryAttempts, minimumBackoffSeconds, maximumBackoffSeconds } = resolveRetryPolicy(args);
  const topicRetentionSeconds = integerSetting(args, 'topicRetentionSeconds');
  const deadLetterRetentionSeconds = integerSetting(args, 'deadLetterRetentionSeconds');

  const subscriptions = resolveConsumers(args.subscriptions);

  const emails = stringListSetting(args, 'alertEmails', 'email addresses');
  for (const email of emails) {
    if (!EMAIL.test(email)) {
      fail('alertEmails', `lists ${shown(email)}, which is not an email address`, {
        example: exampleOf('alertEmails'),
      });
    }
  }
  const alertEmails = [...new Set(emails)];

  const enableApis = booleanSetting(args, 'enableApis');
  const waits: Waits = {
    apiEnablement: durationSetting(args, 'apiEnablementWait'),
    buildGrants: durationSetting(args, 'buildGrantsWait'),
    logMetrics: durationSetting(args, 'logMetricsWait'),
    serviceAgent: durationSetting(args, 'serviceAgentWait'),
  };
  const invoker = stringSetting(args, 'publicInvoker');

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
    secretReplication: resolveSecretReplication(args),
    ingress: INGRESS[stringSetting(args, 'ingress') as keyof typeof INGRESS],
    allowReplacement: booleanSetting(args, 'allowReplacement'),
    protectData: booleanSetting(args, 'protectData'),
  };
  if (jwtAudience !== undefined) settings.jwtAudience = jwtAudience;
  if (jwtIssuer !== undefined) settings.jwtIssuer = jwtIssuer;
  if (jwtReceiverSecret !== undefined) settings.jwtReceiverSecret = jwtReceiverSecret;
  return settings;
}
