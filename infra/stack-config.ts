/**
 * This project's stack config (`Pulumi.yaml` declares every key, generated from the setting table)
 * read into GeminiWebhooksArgs: the strings Pulumi hands over are decoded by each setting's declared
 * kind (numbers, booleans, lists, JSON), then checked by the same `resolveSettings` the component
 * applies, so a bad value fails here with one sentence that names the stack key and gives the
 * `pulumi config set` that fixes it. `parseStackConfig` is pure; `readStackConfig` is the thin reader
 * `infra/index.ts` calls.
 */
import * as pulumi from '@pulumi/pulumi';
import type { GeminiWebhooksArgs } from './args.ts';
import { declarationOf, SETTING_KEYS, SETTINGS, stackKeyOf, type SettingKey } from './setting-table.ts';
import { exampleOf, SettingError } from './setting-values.ts';
import { resolveSettings, type Settings } from './settings.ts';

/** The Pulumi project name; also the config namespace of every key below except `gcp:*`. */
export const PROJECT_NAME = 'gemini-webhooks-pubsub';

type StackKeyOf<K extends SettingKey> = (typeof SETTINGS)[K] extends { stackKey: infer S extends string } ? S : K;
export type ConfigKey = { [K in SettingKey]: StackKeyOf<K> }[SettingKey];

/** Every key `readStackConfig` reads, in the setting table's order. */
export const CONFIG_KEYS = SETTING_KEYS.map(stackKeyOf) as readonly ConfigKey[];

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

/** The settings that hold secrets: hints set them with --secret. */
const SECRET_SETTINGS: ReadonlySet<SettingKey> = new Set(['signingSecrets', 'jwtReceiverSecret']);

function setCommand(key: SettingKey, example: string): string {
  // Secrets go in encrypted; a Pulumi `array` is set element by element, since
  // `pulumi config set alertEmails '[...]'` stores a string, which Pulumi then rejects against the type.
  const stackKey = stackKeyOf(key);
  if (SECRET_SETTINGS.has(key)) return `pulumi config set --secret ${stackKey} ${example}`;
  if (declarationOf(key).kind === 'array') return `pulumi config set --path '${stackKey}[0]' ${example}`;
  return `pulumi config set ${stackKey} ${example}`;
}

function stackError(key: SettingKey, problem: string, hint: { example?: string; fix?: string } = {}): StackConfigError {
  const fix = hint.fix ?? setCommand(key, hint.example ?? exampleOf(key));
  return new StackConfigError(stackKeyOf(key) as ConfigKey, `Config \`${stackKeyOf(key)}\` ${problem}; fix: ${fix}.`);
}

/**
 * One stack value, decoded to the type its setting takes. A value that cannot be that type is
 * refused here, with what it must be; the setting's own rules (ranges, formats) are resolveSettings'.
 */
export function decodeStackValue(key: SettingKey, text: string): unknown {
  const declaration = declarationOf(key);
  switch (declaration.kind) {
    case 'integer':
      if (!/^-?\d+$/.test(text)) {
        throw stackError(
          key,
          `must be a whole number from ${declaration.min} to ${declaration.max} (got ${JSON.stringify(text)})`,
        );
      }
      return Number(text);
    case 'boolean':
      if (text !== 'true' && text !== 'false') {
        throw stackError(key, `must be true or false (got ${JSON.stringify(text)})`);
      }
      return text === 'true';
    case 'list':
      return text
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== '');
    case 'json':
    case 'array':
      try {
        return JSON.parse(text) as unknown;
      } catch {
        // Never quote the text: it may be a list of secrets.
        throw stackError(key, 'is not valid JSON');
      }
    case 'string':
    case 'duration':
      return text;
  }
}

/** The stack's raw strings as the component's args; unset and blank keys are left out. */
export function stackConfigArgs(raw: RawConfig): GeminiWebhooksArgs {
  const args: Record<string, unknown> = {};
  for (const key of SETTING_KEYS) {
    const text = raw[stackKeyOf(key) as ConfigKey]?.trim();
    if (text === undefined || text === '') continue;
    args[key] = decodeStackValue(key, text);
  }
  return args as unknown as GeminiWebhooksArgs;
}

/** Decodes and checks the stack config: the args for the component, and what they resolve to. */
export function parseStackConfig(raw: RawConfig): { args: GeminiWebhooksArgs; settings: Settings } {
  const args = stackConfigArgs(raw);
  try {
    return { args, settings: resolveSettings(args) };
  } catch (error) {
    if (!(error instanceof SettingError)) throw error;
    const hint: { example?: string; fix?: string } = {};
    if (error.example !== undefined) hint.example = error.example;
    if (error.fix !== undefined) hint.fix = error.fix;
    throw stackError(error.key, error.problem, hint);
  }
}

/**
 * The thin reader: collects the raw strings from the stack's config and checks them once.
 * `signingSecrets` is read as plain text on purpose: resource names are derived from its entries'
 * fingerprints, which must be known synchronously; `jwtReceiverSecret` too, so that its length is checked
 * before anything is deployed. Their values go on only inside `pulumi.secret`.
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
