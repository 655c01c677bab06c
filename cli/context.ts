/**
 * Everything a command touches outside its arguments, injectable so tests drive the real commands
 * against a local HTTP server, a fake `pulumi` executable and the Pub/Sub emulator.
 */
import { createPulumiRunner, type PulumiRunner } from './pulumi.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CliContext {
  env: Env;
  /** One line of normal output (stdout). */
  out: (line: string) => void;
  /** One line of diagnostics (stderr). */
  err: (line: string) => void;
  fetch: typeof fetch;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
  pulumi: PulumiRunner;
  /** Aborted on Ctrl-C; long-running commands (`tail`) stop and clean up. */
  signal: AbortSignal;
}

export function defaultContext(overrides: Partial<CliContext> = {}): CliContext {
  const env = overrides.env ?? process.env;
  return {
    env,
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
    fetch: globalThis.fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
    pulumi: createPulumiRunner({ env }),
    signal: new AbortController().signal,
    ...overrides,
  };
}
