/**
 * The receiver's configuration, read once from the environment, typed and validated. A bad value
 * raises ConfigError with one line naming the variable and the fix.
 */
import { DEFAULT_TOPIC_PREFIX, topicPrefixProblem } from './catalog.ts';
import { DEFAULT_MIN_REFRESH_INTERVAL_MS, parseSecretName } from './secrets/secret-manager.ts';
import { KeyFormatError, parseEd25519PublicKeys, parseSigningSecrets } from './verify/keys.ts';
import { MIN_RECEIVER_SECRET_LENGTH, RECEIVER_SECRET_KEY } from './verify/receiver-secret.ts';
import type { Scheme } from './verify/result.ts';

export const DEFAULT_JWKS_URL = 'https://generativelanguage.googleapis.com/.well-known/jwks.json';
/** Project id used with the emulator when none is given; the emulator accepts any. */
export const EMULATOR_PROJECT = 'local-project';
export const DEFAULT_PORT = 8080;
/**
 * Static (HMAC) only unless JWT is asked for: Google's JWKS signs the dynamic-webhook tokens of
 * every Gemini user, so a JWT proves "Google sent this to someone", and only an audience check
 * makes it "sent to this receiver". Enabling `jwt` therefore also takes an audience
 * (JWT_AUDIENCE_REQUIRED).
 */
export const DEFAULT_SCHEMES: readonly Scheme[] = ['static'];

export type SigningSecretsConfig =
  { source: 'env'; secrets: readonly string[] } | { source: 'secret-manager'; secretName: string } | { source: 'none' };

/**
 * Numeric knobs of the receiver, with their environment variable, default and bounds. The Pulumi
 * program exposes the same knobs as stack config and validates them against these bounds.
 */
export const RECEIVER_TUNABLES = {
  timestampToleranceSeconds: {
    env: 'WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS',
    default: 300,
    min: 1,
    max: 86_400,
    description: 'allowed clock distance of `webhook-timestamp`, in seconds, both directions',
  },
  // Cloud Run refuses HTTP/1 requests over 32 MiB anyway; Pub/Sub messages top out at 10 MB.
  maxBodyBytes: {
    env: 'WEBHOOK_MAX_BODY_BYTES',
    default: 1_048_576,
    min: 1,
    max: 9_000_000,
    description: 'larger bodies get 413',
  },
  publishTimeoutMs: {
    env: 'WEBHOOK_PUBLISH_TIMEOUT_MS',
    default: 5000,
    min: 100,
    max: 60_000,
    description: 'the answer comes within this many milliseconds, even when Pub/Sub hangs',
  },
  secretRefreshSeconds: {
    env: 'WEBHOOK_SECRET_REFRESH_SECONDS',
    default: 300,
    min: 5,
    max: 86_400,
    description:
      'how long Secret Manager results are cached, in seconds ' +
      `(also refreshed, at most every ${DEFAULT_MIN_REFRESH_INTERVAL_MS / 1000} s, after a signature mismatch)`,
  },
  maxInFlight: {
    env: 'WEBHOOK_MAX_IN_FLIGHT',
    default: 256,
    min: 1,
    max: 100_000,
    description: 'complete deliveries one instance verifies and publishes at once before answering 503',
  },
} as const;

type TunableVariable = (typeof RECEIVER_TUNABLES)[keyof typeof RECEIVER_TUNABLES]['env'];

/**
 * Every environment variable the receiver reads, besides the numeric knobs above: what it means and
 * what applies when it is unset. `loadConfig` can read no other (the reader takes these names only),
 * and docs/configuration.md is generated from this list and RECEIVER_TUNABLES (`npm run docs`).
 */
export const RECEIVER_ENVIRONMENT = {
  PORT: { default: `\`${DEFAULT_PORT}\``, description: 'HTTP port' },
  GOOGLE_CLOUD_PROJECT: {
    default: `required (with the emulator: \`${EMULATOR_PROJECT}\`)`,
    description: 'project that holds the topics',
  },
  PUBSUB_EMULATOR_HOST: { default: 'unset', description: 'publish to the Pub/Sub emulator at this `host:port`' },
  WEBHOOK_TOPIC_PREFIX: {
    default: `\`${DEFAULT_TOPIC_PREFIX}\``,
    description: 'topic names are `<prefix>-<event type with . and _ as ->`',
  },
  WEBHOOK_SIGNING_SECRETS: {
    default: 'unset',
    description: 'local development: the `whsec_…` signing secrets, comma-separated, newest first',
  },
  WEBHOOK_SIGNING_SECRETS_SECRET: {
    default: 'unset',
    description:
      'deployed: `projects/<p>/secrets/<id>`; ' +
      'every enabled version is a current signing secret (the Pulumi program sets it)',
  },
  WEBHOOK_SIGNING_PUBLIC_KEYS: {
    default: 'unset',
    description: 'Standard Webhooks `v1a` ed25519 public keys, comma-separated `whpk_…`',
  },
  WEBHOOK_SCHEMES: {
    default: DEFAULT_SCHEMES.map((scheme) => `\`${scheme}\``).join(', '),
    description:
      'signature schemes accepted, comma-separated: `static` and/or `jwt` (dynamic webhooks; needs an audience)',
  },
  WEBHOOK_JWKS_URL: {
    default: `\`${DEFAULT_JWKS_URL}\``,
    description: 'JWKS for dynamic webhooks (https, or http on loopback)',
  },
  WEBHOOK_JWT_AUDIENCE: {
    default: 'unset',
    description: 'the `aud` JWT deliveries must carry; required when `jwt` is enabled',
  },
  WEBHOOK_JWT_ALLOW_ANY_AUDIENCE: {
    default: '`false`',
    description:
      'enable `jwt` without an audience check, ' +
      "accepting that a token Google minted for another Gemini user's webhook would pass (logged at start)",
  },
  WEBHOOK_JWT_ISSUER: { default: 'unset', description: 'the `iss` JWT deliveries must carry, when set' },
  WEBHOOK_JWT_REQUIRE_BODY_BINDING: {
    default: '`false`',
    description: 'refuse JWT deliveries whose body is not bound to the token (`signature-only`)',
  },
  WEBHOOK_JWT_RECEIVER_SECRET: {
    default: 'unset',
    description:
      `accept only JWT deliveries whose signed \`user_metadata\` carries this value as \`${RECEIVER_SECRET_KEY}\` ` +
      `(at least ${MIN_RECEIVER_SECRET_LENGTH} characters; docs/protocol.md, "Tie JWT deliveries to this deployment")`,
  },
} as const satisfies Record<string, { default: string; description: string }>;

type Variable = keyof typeof RECEIVER_ENVIRONMENT | TunableVariable;

export type ReceiverTunable = keyof typeof RECEIVER_TUNABLES;
export type ReceiverTunables = Record<ReceiverTunable, number>;

export interface ReceiverConfig extends ReceiverTunables {
  port: number;
  projectId: string;
  emulatorHost: string | undefined;
  signingSecrets: SigningSecretsConfig;
  ed25519PublicKeys: readonly string[];
  schemes: ReadonlySet<Scheme>;
  jwksUrl: URL;
  jwtAudience: string | undefined;
  jwtIssuer: string | undefined;
  jwtRequireBodyBinding: boolean;
  /** When set, JWT deliveries must carry it in their signed `user_metadata` (verify/receiver-secret.ts). */
  jwtReceiverSecret: string | undefined;
  /** Accept JWT deliveries without an audience check (an explicit, logged acceptance of the risk). */
  jwtAllowAnyAudience: boolean;
  topicPrefix: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

function value(env: Env, name: Variable): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === '' ? undefined : raw;
}

function integer(env: Env, name: Variable, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  if (!/^[0-9]+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name} must be a whole number from ${min} to ${max} (got ${JSON.stringify(raw)}); unset it to use ${fallback}.`,
    );
  }
  return Number(raw);
}

function boolean(env: Env, name: Variable, fallback: boolean): boolean {
  const raw = value(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be true or false (got ${JSON.stringify(raw)}).`);
}

function list(env: Env, name: Variable): string[] {
  return (value(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

export const JWT_AUDIENCE_REQUIRED =
  "Google's JWKS signs the dynamic-webhook tokens of every Gemini user, " +
  "so without an audience check a token minted for someone else's webhook, replayed here, would be accepted";

function schemes(env: Env): Set<Scheme> {
  const names = value(env, 'WEBHOOK_SCHEMES') === undefined ? DEFAULT_SCHEMES : list(env, 'WEBHOOK_SCHEMES');
  const result = new Set<Scheme>();
  for (const name of names) {
    if (name !== 'static' && name !== 'jwt') {
      throw new ConfigError(
        `WEBHOOK_SCHEMES must list "static" and/or "jwt", comma-separated (got ${JSON.stringify(name)}).`,
      );
    }
    result.add(name);
  }
  if (result.size === 0) throw new ConfigError('WEBHOOK_SCHEMES must enable at least one of "static" and "jwt".');
  return result;
}

function url(env: Env, name: Variable, fallback: string): URL {
  const raw = value(env, name) ?? fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute https:// URL (got ${JSON.stringify(raw)}).`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(parsed.hostname);
  if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && loopback)) {
    throw new ConfigError(
      `${name} must use https:// (plain http is allowed only for localhost); got ${JSON.stringify(raw)}.`,
    );
  }
  return parsed;
}

function signingSecrets(env: Env): SigningSecretsConfig {
  const inline = list(env, 'WEBHOOK_SIGNING_SECRETS');
  const secretName = value(env, 'WEBHOOK_SIGNING_SECRETS_SECRET');
  if (inline.length > 0 && secretName !== undefined) {
    throw new ConfigError(
      'Set either WEBHOOK_SIGNING_SECRETS (local) or WEBHOOK_SIGNING_SECRETS_SECRET (Secret Manager), not both.',
    );
  }
  if (secretName !== undefined) {
    // The Secret Manager source's own check, so the two can never disagree.
    try {
      parseSecretName(secretName);
    } catch (error) {
      throw new ConfigError(`${(error as Error).message}.`);
    }
    return { source: 'secret-manager', secretName };
  }
  keyFormat(() => parseSigningSecrets(inline, 'WEBHOOK_SIGNING_SECRETS'));
  return inline.length > 0 ? { source: 'env', secrets: inline } : { source: 'none' };
}

/** Checks key material's format here, so a bad entry is a ConfigError like any other bad value. */
function keyFormat(parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (error instanceof KeyFormatError) throw new ConfigError(`${error.message}.`);
    throw error;
  }
}

function publicKeys(env: Env): string[] {
  const keys = list(env, 'WEBHOOK_SIGNING_PUBLIC_KEYS');
  keyFormat(() => parseEd25519PublicKeys(keys, 'WEBHOOK_SIGNING_PUBLIC_KEYS'));
  return keys;
}

function receiverSecret(env: Env): string | undefined {
  const secret = value(env, 'WEBHOOK_JWT_RECEIVER_SECRET');
  if (secret !== undefined && secret.length < MIN_RECEIVER_SECRET_LENGTH) {
    // The value is a secret: its length is said, never the value.
    throw new ConfigError(
      `WEBHOOK_JWT_RECEIVER_SECRET must be at least ${MIN_RECEIVER_SECRET_LENGTH} characters ` +
        `(got ${secret.length}); generate one with \`openssl rand -base64 32\`.`,
    );
  }
  return secret;
}

function tunables(env: Env): ReceiverTunables {
  const entries = Object.entries(RECEIVER_TUNABLES).map(([key, t]) => [
    key,
    integer(env, t.env, t.default, t.min, t.max),
  ]);
  return Object.fromEntries(entries) as ReceiverTunables;
}

export function loadConfig(env: Env): ReceiverConfig {
  const emulatorHost = value(env, 'PUBSUB_EMULATOR_HOST');
  const projectId = value(env, 'GOOGLE_CLOUD_PROJECT') ?? (emulatorHost ? EMULATOR_PROJECT : undefined);
  if (projectId === undefined) {
    throw new ConfigError(
      'GOOGLE_CLOUD_PROJECT is not set: set it to the project that holds ' +
        'the topics (or set PUBSUB_EMULATOR_HOST to use the emulator).',
    );
  }
  const topicPrefix = value(env, 'WEBHOOK_TOPIC_PREFIX') ?? DEFAULT_TOPIC_PREFIX;
  const prefixProblem = topicPrefixProblem(topicPrefix);
  if (prefixProblem) throw new ConfigError(`WEBHOOK_TOPIC_PREFIX ${prefixProblem}.`);

  const config: ReceiverConfig = {
    port: integer(env, 'PORT', DEFAULT_PORT, 1, 65535),
    projectId,
    emulatorHost,
    signingSecrets: signingSecrets(env),
    ed25519PublicKeys: publicKeys(env),
    schemes: schemes(env),
    jwksUrl: url(env, 'WEBHOOK_JWKS_URL', DEFAULT_JWKS_URL),
    jwtAudience: value(env, 'WEBHOOK_JWT_AUDIENCE'),
    jwtIssuer: value(env, 'WEBHOOK_JWT_ISSUER'),
    jwtRequireBodyBinding: boolean(env, 'WEBHOOK_JWT_REQUIRE_BODY_BINDING', false),
    jwtReceiverSecret: receiverSecret(env),
    jwtAllowAnyAudience: boolean(env, 'WEBHOOK_JWT_ALLOW_ANY_AUDIENCE', false),
    topicPrefix,
    ...tunables(env),
  };
  if (config.schemes.has('jwt') && config.jwtAudience === undefined && !config.jwtAllowAnyAudience) {
    throw new ConfigError(
      `WEBHOOK_SCHEMES enables jwt but WEBHOOK_JWT_AUDIENCE is not set: ${JWT_AUDIENCE_REQUIRED}. ` +
        'Set WEBHOOK_JWT_AUDIENCE to the aud your dynamic webhooks carry, ' +
        'or WEBHOOK_JWT_ALLOW_ANY_AUDIENCE=true to accept that risk.',
    );
  }
  if (
    config.schemes.has('static') &&
    config.signingSecrets.source === 'none' &&
    config.ed25519PublicKeys.length === 0
  ) {
    throw new ConfigError(
      'Static webhooks are enabled but no key is configured: set WEBHOOK_SIGNING_SECRETS (local), ' +
        'WEBHOOK_SIGNING_SECRETS_SECRET (Secret Manager) ' +
        'or WEBHOOK_SIGNING_PUBLIC_KEYS, or set WEBHOOK_SCHEMES=jwt.',
    );
  }
  return config;
}
