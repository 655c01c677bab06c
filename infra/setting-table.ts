/**
 * Every setting of a deployment, declared once: its kind, default, bounds and meaning. Everything
 * else that lists the settings comes from this table:
 *
 * - `GeminiWebhooksArgs` (infra/args.ts, generated: Pulumi's schema inference reads its JSDoc);
 * - the `config` block of Pulumi.yaml (generated) and the stack config decoder (infra/stack-config.ts);
 * - the defaults and bounds `resolveSettings` applies (infra/settings.ts);
 * - the stack settings table of docs/configuration.md (generated).
 *
 * `npm run docs` rewrites the generated files; test/unit/generated-files.test.ts fails until it has.
 * A new setting is one entry here plus its use in `resolveSettings`.
 */
import { DEFAULT_TOPIC_PREFIX, MAX_TOPIC_PREFIX_LENGTH } from '../functions/catalog.ts';
import { DEFAULT_JWKS_URL, DEFAULT_SCHEMES, RECEIVER_TUNABLES } from '../functions/config.ts';
import {
  MAX_DELIVERY_ATTEMPTS,
  MAX_RETENTION_SECONDS,
  MIN_DELIVERY_ATTEMPTS,
  MIN_RETENTION_SECONDS,
  TOPOLOGY_DEFAULTS,
} from '../functions/topology.ts';
import { MIN_RECEIVER_SECRET_LENGTH, RECEIVER_SECRET_KEY } from '../functions/verify/receiver-secret.ts';
import { MAX_SIGNING_SECRETS } from './signing-secret.ts';

/**
 * What a setting holds, which decides how stack config text decodes and how the value is checked:
 * - `string`: text; blank counts as unset (stack config cannot unset a declared key);
 * - `integer`: a whole number from `min` to `max`;
 * - `boolean`: true or false;
 * - `duration`: one number and a unit, as the Sleep takes it (`90s`, `1.5m`; infra/durations.ts), from 0s to 1h;
 * - `list`: a list of strings, comma-separated in stack config;
 * - `json`: a list, JSON text in stack config (a Pulumi `string`, so it can be a secret or hold objects);
 * - `array`: a list of strings, a Pulumi `array` in stack config (set element by element with --path).
 */
export type SettingKind = 'string' | 'integer' | 'boolean' | 'duration' | 'list' | 'json' | 'array';

interface Common {
  /**
   * What the setting means, in sentences; shared by the argument's JSDoc, Pulumi.yaml and the docs.
   * Bounds and the default are added where they are shown, never written here.
   */
  description: string;
  /** Sentences that follow the bounds, when there is more to say. */
  detail?: string;
  /** The argument's TypeScript type in GeminiWebhooksArgs. */
  argType: 'string' | 'number' | 'boolean' | 'string[]' | 'Consumer[]';
  /** How to set it in stack config, when `pulumi config set <key> <value>` is not all there is to say. */
  stackNote?: string;
  /** Why Pulumi.yaml declares it as it does (a YAML comment above its declaration). */
  declarationNote?: string;
  /** Where the stack config keeps it when not under this project's namespace. */
  stackKey?: 'gcp:project' | 'gcp:region';
  /** A value that would be accepted, for `pulumi config set` hints; the default when omitted. */
  example?: string;
}

export type SettingDeclaration =
  | (Common & {
      kind: 'string';
      argType: 'string';
      default?: string;
      required?: true;
      /** The only values accepted, when there are a few. */
      choices?: readonly string[];
    })
  | (Common & { kind: 'integer'; argType: 'number'; default: number; min: number; max: number })
  | (Common & { kind: 'boolean'; argType: 'boolean'; default: boolean })
  | (Common & { kind: 'duration'; argType: 'string'; default: string })
  | (Common & { kind: 'list' | 'json' | 'array'; argType: 'string[]' | 'Consumer[]'; default: readonly string[] });

const tunable = (key: keyof typeof RECEIVER_TUNABLES) => {
  const { default: fallback, min, max } = RECEIVER_TUNABLES[key];
  return { kind: 'integer', argType: 'number', default: fallback, min, max } as const;
};

const WAIT_NOTE = 'Runs only when what it waits for is new. Why and how long: docs/first-deploy.md.';

/** The settings, in the order every listing shows them. */
export const SETTINGS = {
  project: {
    kind: 'string',
    argType: 'string',
    required: true,
    stackKey: 'gcp:project',
    example: '<your-project-id>',
    description: 'Google Cloud project to deploy into; domain-scoped ids such as `example.com:my-project` too.',
  },
  region: {
    kind: 'string',
    argType: 'string',
    default: 'us-central1',
    stackKey: 'gcp:region',
    description: 'Region of the receiver, its source bucket and image repository.',
  },
  signingSecrets: {
    kind: 'json',
    argType: 'string[]',
    default: [],
    example: `'["whsec_<new>","whsec_<previous>"]'`,
    description:
      'The Standard Webhooks signing secrets Gemini issued (`whsec_...`), newest first; ' +
      `at most ${MAX_SIGNING_SECRETS}. ` +
      'Each becomes one Secret Manager version, named by a fingerprint of the secret (so the values must be known ' +
      'when the program runs); removing one disables its version. The values reach resources only as Pulumi ' +
      'secrets. Empty until Gemini has issued the first secret.',
    stackNote: `A JSON array; set it encrypted: pulumi config set --secret signingSecrets '["whsec_..."]'`,
    declarationNote:
      'Not declared `secret: true`: Pulumi applies a declared default as a plain value and then\n' +
      "requires a secret key's value to be encrypted, so `pulumi preview` fails on any stack that has\n" +
      'not set the key ("must be encrypted as it\'s secret",\n' +
      'https://github.com/pulumi/pulumi/blob/master/sdk/go/common/workspace/config.go). Without a\n' +
      'default, every new stack fails with "missing configuration value" until Gemini has issued a\n' +
      'secret. Set it with --secret all the same; the program keeps the values secret either way.',
  },
  schemes: {
    kind: 'list',
    argType: 'string[]',
    default: DEFAULT_SCHEMES,
    example: 'static,jwt',
    description:
      'Signature schemes the receiver accepts: `static` (Standard Webhooks HMAC, project-level webhooks) and/or ' +
      "`jwt` (dynamic, per-request webhooks). `jwt` also needs `jwtAudience` (or `jwtAllowAnyAudience`): Google's " +
      "JWKS signs every Gemini user's tokens, so only the audience ties a token to this receiver.",
    stackNote: 'Comma-separated.',
  },
  jwksUrl: {
    kind: 'string',
    argType: 'string',
    default: DEFAULT_JWKS_URL,
    description: 'JWKS that verifies dynamic (JWT) webhooks.',
  },
  jwtAudience: {
    kind: 'string',
    argType: 'string',
    example: 'https://hooks.example.com',
    description: 'The `aud` JWT deliveries must carry; required when `jwt` is enabled, unless `jwtAllowAnyAudience`.',
  },
  jwtIssuer: {
    kind: 'string',
    argType: 'string',
    example: 'https://accounts.google.com',
    description: 'When set, JWT deliveries must carry this `iss`.',
  },
  jwtAllowAnyAudience: {
    kind: 'boolean',
    argType: 'boolean',
    default: false,
    description:
      "Accept JWT deliveries without an audience check; a token Google minted for another Gemini user's webhook " +
      'would then be accepted too.',
  },
  jwtRequireBodyBinding: {
    kind: 'boolean',
    argType: 'boolean',
    default: false,
    description: 'Refuse JWT deliveries whose body is not bound to the token (claims or digest).',
  },
  jwtReceiverSecret: {
    kind: 'string',
    argType: 'string',
    example: '"$(openssl rand -base64 32)"',
    description:
      `When set, JWT deliveries are accepted only if their signed \`user_metadata\` carries this value as ` +
      `\`${RECEIVER_SECRET_KEY}\`, which ties them to your own requests: at least ${MIN_RECEIVER_SECRET_LENGTH} ` +
      'characters, kept in a Secret Manager secret of its own that the receiver reads as ' +
      '`WEBHOOK_JWT_RECEIVER_SECRET` (docs/protocol.md, "Tie JWT deliveries to this deployment"). ' +
      'The value reaches resources only as a Pulumi secret.',
    stackNote: 'Set it encrypted: pulumi config set --secret jwtReceiverSecret "$(openssl rand -base64 32)"',
    declarationNote: 'Not declared `secret: true`, for the reason given at signingSecrets; set it with --secret.',
  },
  topicPrefix: {
    kind: 'string',
    argType: 'string',
    default: DEFAULT_TOPIC_PREFIX,
    description:
      `Prefix of every topic and subscription (\`<prefix>-batch-succeeded\`, ...): 1-${MAX_TOPIC_PREFIX_LENGTH} ` +
      "lowercase letters, digits or '-', starting with a letter.",
  },
  minInstances: {
    kind: 'integer',
    argType: 'number',
    default: 0,
    min: 0,
    max: 100,
    description: 'Receiver instances kept warm: 0 scales to zero, 1 avoids cold starts but bills idle time.',
  },
  maxInstances: {
    kind: 'integer',
    argType: 'number',
    default: 10,
    min: 1,
    max: 1000,
    description: 'Upper bound on receiver instances.',
  },
  concurrency: {
    kind: 'integer',
    argType: 'number',
    default: 80,
    min: 1,
    max: 1000,
    description: 'Concurrent deliveries per receiver instance.',
  },
  memory: {
    kind: 'string',
    argType: 'string',
    default: '512Mi',
    description: 'Memory per receiver instance, 256Mi to 32Gi; CPU follows (1 CPU up to 4Gi).',
  },
  timeoutSeconds: {
    kind: 'integer',
    argType: 'number',
    default: 60,
    min: 1,
    max: 3600,
    description: 'Request timeout of the receiver, in seconds.',
  },
  timestampToleranceSeconds: {
    ...tunable('timestampToleranceSeconds'),
    description: "How far `webhook-timestamp` may be from the receiver's clock, either way, in seconds.",
  },
  maxBodyBytes: {
    ...tunable('maxBodyBytes'),
    description: 'Largest delivery body the receiver accepts, in bytes; larger ones get 413.',
  },
  publishTimeoutMs: {
    ...tunable('publishTimeoutMs'),
    description: 'The receiver answers within this many milliseconds even when Pub/Sub hangs.',
    detail: 'Must be below `timeoutSeconds`.',
  },
  secretRefreshSeconds: {
    ...tunable('secretRefreshSeconds'),
    description: 'How long the receiver caches the signing secrets read from Secret Manager, in seconds.',
  },
  maxInFlight: {
    ...tunable('maxInFlight'),
    description: 'Deliveries one instance verifies and publishes at once before answering 503 with Retry-After.',
  },
  maxDeliveryAttempts: {
    kind: 'integer',
    argType: 'number',
    default: TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
    min: MIN_DELIVERY_ATTEMPTS,
    max: MAX_DELIVERY_ATTEMPTS,
    description: "Deliveries to a consumer before a message moves to the route's dead-letter topic.",
  },
  minimumBackoffSeconds: {
    kind: 'integer',
    argType: 'number',
    default: TOPOLOGY_DEFAULTS.minimumBackoffSeconds,
    min: 0,
    max: 600,
    description: 'Shortest wait before Pub/Sub redelivers a nacked message, in seconds.',
  },
  maximumBackoffSeconds: {
    kind: 'integer',
    argType: 'number',
    default: TOPOLOGY_DEFAULTS.maximumBackoffSeconds,
    min: 0,
    max: 600,
    description: 'Longest wait before Pub/Sub redelivers a nacked message, in seconds.',
    detail: 'At least `minimumBackoffSeconds`.',
  },
  topicRetentionSeconds: {
    kind: 'integer',
    argType: 'number',
    default: TOPOLOGY_DEFAULTS.topicRetentionSeconds,
    min: MIN_RETENTION_SECONDS,
    max: MAX_RETENTION_SECONDS,
    description: 'How long event topics keep messages, so a subscription created later can seek back, in seconds.',
  },
  deadLetterRetentionSeconds: {
    kind: 'integer',
    argType: 'number',
    default: TOPOLOGY_DEFAULTS.deadLetterRetentionSeconds,
    min: MIN_RETENTION_SECONDS,
    max: MAX_RETENTION_SECONDS,
    description: 'How long dead-letter subscriptions keep dead letters, in seconds.',
  },
  subscriptions: {
    kind: 'json',
    argType: 'Consumer[]',
    default: [],
    example: `'[{"name":"billing","eventTypes":["batch.succeeded"],"push":{"endpoint":"https://billing.example.com/gemini"}}]'`,
    description:
      'The services that consume events: each a `name`, its `eventTypes` (catalog types, `unrouted` or `*`), ' +
      '`push` delivery (`endpoint`, `serviceAccountEmail`, `audience`; pull when omitted), a `filter`, ' +
      '`ackDeadlineSeconds` and `exactlyOnce` (pull only). One subscription per consumer and event type.',
    stackNote: 'A JSON array of consumer objects.',
  },
  alertEmails: {
    kind: 'array',
    argType: 'string[]',
    default: [],
    example: 'oncall@example.com',
    description: 'Email addresses notified by the alert policies.',
    stackNote: "A list; set each entry with --path: pulumi config set --path 'alertEmails[0]' oncall@example.com",
  },
  enableApis: {
    kind: 'boolean',
    argType: 'boolean',
    default: true,
    description: 'Enable the Google APIs the deployment needs (false when a platform team manages them).',
  },
  publicInvoker: {
    kind: 'string',
    argType: 'string',
    default: 'allUsers',
    choices: ['allUsers', 'none'],
    example: 'none',
    description:
      '`allUsers` lets Gemini call the receiver (required unless you front it yourself); `none` creates no ' +
      'invoker binding, for organisations whose domain-restricted sharing forbids allUsers (docs/deploy.md, ' +
      '"If your organisation forbids allUsers").',
  },
  apiEnablementWait: {
    kind: 'duration',
    argType: 'string',
    default: '60s',
    description: 'Wait after enabling the APIs, before anything calls them.',
    detail: WAIT_NOTE,
  },
  buildGrantsWait: {
    kind: 'duration',
    argType: 'string',
    default: '120s',
    description: "Wait after the build identity's grants, before the receiver is built.",
    detail: WAIT_NOTE,
  },
  serviceAgentWait: {
    kind: 'duration',
    argType: 'string',
    default: '60s',
    description: 'Wait after the Pub/Sub service agent is created, before anything is granted to it.',
    detail: WAIT_NOTE,
  },
  logMetricsWait: {
    kind: 'duration',
    argType: 'string',
    default: '10m',
    description: 'Wait after creating the log-based metrics, before an alert uses one.',
    detail: `It overlaps with the receiver's build. ${WAIT_NOTE}`,
  },
  secretReplication: {
    kind: 'string',
    argType: 'string',
    default: 'automatic',
    example: 'europe-west1,europe-west4',
    description:
      'Where Secret Manager replicates the signing secret: `automatic`, or regions separated by commas for ' +
      'organisations whose `gcp.resourceLocations` policy forbids the automatic (global) replication ' +
      '(https://cloud.google.com/secret-manager/docs/choosing-replication).',
  },
  ingress: {
    kind: 'string',
    argType: 'string',
    default: 'all',
    choices: ['all', 'internal-and-gclb', 'internal-only'],
    example: 'internal-and-gclb',
    description:
      'Who may reach the receiver: `all`, `internal-and-gclb` (only through your own load balancer) or ' +
      '`internal-only`, for organisations whose ingress policy forbids `all`. Gemini calls from the internet, so ' +
      'anything but `all` needs a load balancer in front.',
  },
  allowReplacement: {
    kind: 'boolean',
    argType: 'boolean',
    default: false,
    description:
      'Let a config change replace what holds data or is referenced from outside (topics, subscriptions, the ' +
      'secret, the function and its URL), such as a new `topicPrefix` or region; when false such a change is ' +
      'refused before anything is replaced.',
  },
  protectData: {
    kind: 'boolean',
    argType: 'boolean',
    default: true,
    description:
      "Protect topics, dead-letter subscriptions and the secret from deletion (Pulumi's `protect`): `pulumi " +
      'destroy`, or a change that would delete one, fails until this is false and applied.',
  },
} as const satisfies Record<string, SettingDeclaration>;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

type KeysOfKind<K extends SettingKind> = {
  [S in SettingKey]: (typeof SETTINGS)[S]['kind'] extends K ? S : never;
}[SettingKey];
export type IntegerSetting = KeysOfKind<'integer'>;
export type BooleanSetting = KeysOfKind<'boolean'>;
export type StringSetting = KeysOfKind<'string'>;
export type ListSetting = KeysOfKind<'list' | 'array'>;
export type DurationSetting = KeysOfKind<'duration'>;

/** A setting's declaration, typed as the union (for code that handles every kind). */
export function declarationOf(key: SettingKey): SettingDeclaration {
  return SETTINGS[key];
}

/** Longest wait a `duration` setting accepts: a deploy that sleeps longer is waiting for something else. */
export const MAX_WAIT_MS = 3_600_000;

/** The bounds a setting's values must keep, as shown after its description: `(1-1000)`, `(0s to 1h)`. */
export function boundsText(declaration: SettingDeclaration): string | undefined {
  if (declaration.kind === 'integer') return `${declaration.min}-${declaration.max}`;
  if (declaration.kind === 'duration') return `a number and ms, s, m or h; 0s to ${MAX_WAIT_MS / 3_600_000}h`;
  return undefined;
}

/**
 * The description with its bounds, before the full stop of `description`, then `detail`: what the
 * argument docs, Pulumi.yaml and the docs table show.
 */
export function describeSetting(declaration: SettingDeclaration): string {
  const bounds = boundsText(declaration);
  const text = declaration.description;
  const main = bounds === undefined ? text : `${text.replace(/\.$/, '')} (${bounds}).`;
  return declaration.detail === undefined ? main : `${main} ${declaration.detail}`;
}

/** The stack config key of a setting. */
export function stackKeyOf(key: SettingKey): string {
  return declarationOf(key).stackKey ?? key;
}
