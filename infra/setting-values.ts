/**
 * Reading one setting from the arguments by its declared kind (infra/setting-table.ts): the default
 * applied, the bounds checked, a wrong value refused with a SettingError that names the setting and
 * says what it must be. Pure; the cross-setting rules live in `resolveSettings`.
 */
import type { GeminiWebhooksArgs } from './args.ts';
import { parseSleepDuration } from './durations.ts';
import {
  MAX_WAIT_MS,
  SETTINGS,
  type BooleanSetting,
  type DurationSetting,
  type IntegerSetting,
  type ListSetting,
  type SettingDeclaration,
  type SettingKey,
  type StringSetting,
} from './setting-table.ts';

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

export function fail(key: SettingKey, problem: string, hint: { example?: string; fix?: string } = {}): never {
  throw new SettingError(key, problem, hint);
}

/** A value as a message quotes it. */
export function shown(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * What a value of the wrong type was: `not the string "true"` rather than `got "true"`, which reads
 * as if `true` itself were refused.
 */
function got(value: unknown): string {
  return typeof value === 'string' ? `, not the string ${shown(value)}` : ` (got ${shown(value)})`;
}

/** The value a hint suggests: the declared example, else the default. */
export function exampleOf(key: SettingKey): string {
  const declaration: SettingDeclaration = SETTINGS[key];
  if (declaration.example !== undefined) return declaration.example;
  const fallback: unknown = 'default' in declaration ? declaration.default : undefined;
  return Array.isArray(fallback) ? fallback.join(',') : String(fallback);
}

const raw = (args: GeminiWebhooksArgs, key: SettingKey): unknown => (args as unknown as Record<string, unknown>)[key];

/** A string setting; blank counts as unset (stack config cannot unset a declared key). */
export function optionalString(args: GeminiWebhooksArgs, key: StringSetting | DurationSetting): string | undefined {
  const value = raw(args, key);
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') return fail(key, `must be a string${got(value)}`);
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/** A string setting with a default: the value given, else the default. */
export function stringSetting<K extends StringSetting>(
  args: GeminiWebhooksArgs,
  key: K,
): (typeof SETTINGS)[K] extends { default: string } ? string : string | undefined {
  const declaration: SettingDeclaration = SETTINGS[key];
  const value = optionalString(args, key) ?? ('default' in declaration ? declaration.default : undefined);
  const choices = declaration.kind === 'string' ? declaration.choices : undefined;
  if (value !== undefined && choices !== undefined && !choices.includes(value)) {
    const quoted = choices.map((choice) => JSON.stringify(choice));
    const list = quoted.length === 2 ? quoted.join(' or ') : `one of ${quoted.join(', ')}`;
    fail(key, `must be ${list} (got ${shown(value)})`, { example: exampleOf(key) });
  }
  return value as never;
}

export function integerSetting(args: GeminiWebhooksArgs, key: IntegerSetting): number {
  const { default: fallback, min, max } = SETTINGS[key];
  const value = raw(args, key) ?? fallback;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    fail(key, `must be a whole number from ${min} to ${max}${got(value)}`, { example: exampleOf(key) });
  }
  return value;
}

export function booleanSetting(args: GeminiWebhooksArgs, key: BooleanSetting): boolean {
  const value = raw(args, key) ?? SETTINGS[key].default;
  if (typeof value !== 'boolean') fail(key, `must be true or false${got(value)}`, { example: exampleOf(key) });
  return value;
}

/** A duration the Sleep accepts (infra/durations.ts), from 0s to MAX_WAIT_MS, kept as written. */
export function durationSetting(args: GeminiWebhooksArgs, key: DurationSetting): string {
  const text = optionalString(args, key) ?? SETTINGS[key].default;
  const ms = parseSleepDuration(text);
  if (ms === undefined || ms > MAX_WAIT_MS) {
    fail(key, `must be one number and a unit (ms, s, m or h) such as 90s or 10m, from 0s to 1h (got ${shown(text)})`, {
      example: exampleOf(key),
    });
  }
  return text;
}

/** A list setting as given (undefined or null: its default), each entry a string. */
export function stringListSetting(args: GeminiWebhooksArgs, key: ListSetting, what: string): readonly string[] {
  const value = raw(args, key) ?? SETTINGS[key].default;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string'))
    fail(key, `must be a list of ${what}${got(value)}`, { example: exampleOf(key) });
  return value as readonly string[];
}
