/**
 * Durations of the program's waits, in the only form `@pulumiverse/time`'s Sleep accepts. The Sleep
 * is terraform-provider-time's `time_sleep` (v0.12.1 in `@pulumiverse/time`), which validates
 * `create_duration` against `^[0-9]+(\.[0-9]+)?(ms|s|m|h)$`: one number and one unit
 * (https://github.com/hashicorp/terraform-provider-time/blob/main/internal/provider/resource_time_sleep.go).
 * So `90s`, `1.5m` and `0s` are accepted; `1m30s`, `2m0s`, `0`, `.5s` and `100us` are Go durations the
 * provider still refuses, at deploy time. Checked here so that they fail at `pulumi preview` instead.
 */

/** terraform-provider-time's own pattern for `create_duration`. */
export const SLEEP_DURATION = /^[0-9]+(\.[0-9]+)?(ms|s|m|h)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds in a duration the Sleep accepts; undefined when the provider would refuse it. */
export function parseSleepDuration(text: string): number | undefined {
  const match = SLEEP_DURATION.exec(text);
  if (match === null) return undefined;
  const unit = text.endsWith('ms') ? 'ms' : text.slice(-1);
  return Number(text.slice(0, -unit.length)) * UNIT_MS[unit]!;
}
