/**
 * This project's stack config (`Pulumi.yaml` declares every key) read into GeminiWebhooksArgs: the
 * strings Pulumi hands over are decoded (numbers, booleans, JSON lists), then checked by the same
 * `resolveSettings` the component applies, so a bad value fails here with one sentence that names the
 * stack key and gives the `pulumi config set` that fixes it. `parseStackConfig` is pure;
 * `readStackConfig` is the thin reader `infra/index.ts` calls.
 */
import * as pulumi from '@pulumi/pulumi';
import { RECEIVER_TUNABLES } from '../functions/config.ts';
import { resolveSettings, SettingError, type GeminiWebhooksArgs, type SettingKey, type Settings } from './settings.ts';

/** The Pulumi project name; also the config namespace of every key below except `gcp:*`. */
export const PROJECT_NAME = 'gemini-webhooks-pubsub';

/** Every key `readStackConfig` reads, in the order `Pulumi.yaml` documents them. */
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
  'serviceAgentWait',
  'secretReplication',
  'ingress',
  'allowReplacement',
  'protectData',
] as const;

export type ConfigKey = (typeof CONFIG_KEYS)[number];

/** Raw config strings as Pulumi stores them (structured values arrive as JSON text). */
export type RawConfig = Partial<Record<ConfigKey, string>>;

/** Thrown for any invalid stack setting; `key` is the config key at fault. */
export class StackConfigError extends Error {
  override name = 'StackConfigError';
  readonly key: ConfigKey;
  constructor(key: ConfigKey, message: string) {
    super(message);
    this.key = key;
  }
}

/** The stack key of a setting: the Google provider's own keys carry the project and the region. */
function configKey(key: SettingKey): ConfigKey {
  if (key === 'project') return 'gcp:project';
  if (key === 'region') return 'gcp:region';
  return key;
}

function setCommand(key: ConfigKey, example: string): string {
  // Secrets go in encrypted; a list declared as an array in Pulumi.yaml is set element by element, since
  // `pulumi config set alertEmails '[...]'` stores a string, which Pulumi then rejects against the type.
  if (key === 'signingSecrets') return `pulumi config set --secret signingSecrets ${example}`;
  if (key === 'alertEmails') return `pulumi config set --path 'alertEmails[0]' ${example}`;
  return `pulumi config set ${key} ${example}`;
}

function configError(error: SettingError): StackConfigError {
  const key = configKey(error.key);
  const fix = error.fix ?? setCommand(key, error.example ?? '<value>');
  return new StackConfigError(key, `Config \`${key}\` ${error.problem}; fix: ${fix}.`);
}

const INTEGER_KEYS = new Set<ConfigKey>([
  'minInstances',
  'maxInstances',
  'concurrency',
  'timeoutSeconds',
  'maxDeliveryAttempts',
  'minimumBackoffSeconds',
  'maximumBackoffSeconds',
  'topicRetentionSeconds',
  'deadLetterRetentionSeconds',
  ...(Object.keys(RECEIVER_TUNABLES) as ConfigKey[]),
]);
const BOOLEAN_KEYS = new Set<ConfigKey>([
  'jwtRequireBodyBinding',
  'jwtAllowAnyAudience',
  'enableApis',
  'allowReplacement',
  'protectData',
]);
const JSON_KEYS = new Set<ConfigKey>(['signingSecrets', 'subscriptions', 'alertEmails']);

/**
 * One stack value, decoded to the type the setting takes. A value that does not decode is passed on
 * as the text it is, so `resolveSettings` refuses it with the setting's own range in the message.
 */
function decode(key: ConfigKey, text: string): unknown {
  if (INTEGER_KEYS.has(key)) return /^-?\d+$/.test(text) ? Number(text) : text;
  if (BOOLEAN_KEYS.has(key)) return text === 'true' ? true : text === 'false' ? false : text;
  if (key === 'schemes') {
    return text
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  }
  if (JSON_KEYS.has(key)) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      const example =
        key === 'signingSecrets' ? `'["whsec_..."]'` : key === 'alertEmails' ? 'oncall@example.com' : "'[...]'";
      throw new StackConfigError(key, `Config \`${key}\` is not valid JSON; fix: ${setCommand(key, example)}.`);
    }
  }
  return text;
}

/** The stack's raw strings as the component's args; unset and blank keys are left out. */
export function stackConfigArgs(raw: RawConfig): GeminiWebhooksArgs {
  const args: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const text = raw[key]?.trim();
    if (text === undefined || text === '') continue;
    const name = key === 'gcp:project' ? 'project' : key === 'gcp:region' ? 'region' : key;
    args[name] = decode(key, text);
  }
  return args as unknown as GeminiWebhooksArgs;
}

/** Decodes and checks the stack config: the args for the component, and what they resolve to. */
export function parseStackConfig(raw: RawConfig): { args: GeminiWebhooksArgs; settings: Settings } {
  const args = stackConfigArgs(raw);
  try {
    return { args, settings: resolveSettings(args) };
  } catch (error) {
    throw error instanceof SettingError ? configError(error) : error;
  }
}

/**
 * The thin reader: collects the raw strings from the stack's config and checks them once.
 * `signingSecrets` is read as plain text on purpose: resource names are derived from its entries'
 * fingerprints, which must be known synchronously. Its values go on only inside `pulumi.secret`.
 */
export function readStackConfig(): GeminiWebhooksArgs {
  const own = new pulumi.Config(PROJECT_NAME);
  const gcp = new pulumi.Config('gcp');
  const raw: RawConfig = {};
  for (const key of CONFIG_KEYS) {
    const value = key.startsWith('gcp:') ? gcp.get(key.slice(4)) : own.get(key);
    if (value !== undefined) raw[key] = value;
  }
  return parseStackConfig(raw).args;
}
