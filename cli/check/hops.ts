/**
 * What `check` reports: one result per hop of a deployment, each passed, failed with the one thing to
 * do, or skipped with why. Printed one line each, or as JSON for scripts.
 */
import { escapeControls } from '../terminal-text.ts';

export type HopStatus = 'passed' | 'failed' | 'skipped';

export interface HopResult {
  /** Short name of the hop, e.g. `receiver`, `ping`, `consumer billing`. */
  hop: string;
  status: HopStatus;
  /** What was found (passed, failed) or why it was not looked at (skipped). */
  detail: string;
  /** For a failure: the one thing to do. */
  fix?: string;
  /** How long the hop took, when that is part of the answer (the ping). */
  ms?: number;
}

export const passed = (hop: string, detail: string, ms?: number): HopResult => ({
  hop,
  status: 'passed',
  detail,
  ...(ms === undefined ? {} : { ms }),
});
export const failed = (hop: string, detail: string, fix: string): HopResult => ({ hop, status: 'failed', detail, fix });
export const skipped = (hop: string, why: string): HopResult => ({ hop, status: 'skipped', detail: why });

/** `passed  receiver: ...`, `failed  ping: ... Fix: ...`, `skipped iam: ...`. */
export function formatHop(result: HopResult): string {
  const fix = result.fix === undefined ? '' : ` Fix: ${result.fix}`;
  return escapeControls(`${result.status.padEnd(7)} ${result.hop}: ${result.detail}${fix}`);
}

export function summary(results: readonly HopResult[]): string {
  const count = (status: HopStatus): number => results.filter((result) => result.status === status).length;
  const failures = count('failed');
  return (
    `${count('passed')} passed, ${failures} failed, ${count('skipped')} skipped` +
    (failures === 0 ? ': every hop that could be checked works.' : '.')
  );
}
