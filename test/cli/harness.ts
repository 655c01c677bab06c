// Runs the real `gemini-webhooks` program in-process (cli/main.ts `run`), capturing what it
// prints: against the fake WebhookService and the fake `pulumi` executable (cliHarness), or with
// an environment of the caller's (runCli, for the Pub/Sub commands on the emulator).
import type { TestContext } from 'node:test';
import type { CliContext, GoogleClients } from '../../cli/context.ts';
import { run } from '../../cli/main.ts';
import { createPulumiRunner } from '../../cli/pulumi.ts';
import { installFakePulumi, type FakePulumi, type FakePulumiState } from './fake-pulumi.ts';
import { startFakeWebhookService, type FakeWebhookService } from './fake-webhook-service.ts';

/** Tests never reach Google: a command that asks for credentials or a cloud client without a fake fails loudly. */
export const NO_GOOGLE: GoogleClients = {
  accessToken: () => Promise.reject(new Error('this test gives no Google credentials')),
  secretManager: () => Promise.reject(new Error('this test gives no Secret Manager')),
};

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export interface CliHarness {
  service: FakeWebhookService;
  pulumi: FakePulumi;
  env: Record<string, string | undefined>;
  /** Every backoff the client waited (it does not really wait). */
  sleeps: number[];
  now: { date: Date };
  run(args: readonly string[], overrides?: Partial<CliContext>): Promise<CliRun>;
}

export async function cliHarness(
  t: TestContext,
  options: { pulumi?: Partial<FakePulumiState>; env?: Record<string, string | undefined> } = {},
): Promise<CliHarness> {
  const service = await startFakeWebhookService();
  const pulumi = installFakePulumi(options.pulumi);
  t.after(async () => {
    await service.close();
    pulumi.cleanup();
  });
  const env: Record<string, string | undefined> = {
    PATH: pulumi.path,
    GEMINI_API_KEY: service.apiKey,
    GEMINI_API_BASE_URL: service.baseUrl,
    ...options.env,
  };
  const sleeps: number[] = [];
  const now = { date: new Date() };
  service.now = () => now.date.getTime();
  return {
    service,
    pulumi,
    env,
    sleeps,
    now,
    async run(args, overrides = {}) {
      const out: string[] = [];
      const err: string[] = [];
      const runEnv = overrides.env ?? env;
      const code = await run(args, {
        env: runEnv,
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        fetch: globalThis.fetch,
        sleep: async (ms) => void sleeps.push(ms),
        now: () => now.date,
        pulumi: createPulumiRunner({ env: runEnv }),
        signal: new AbortController().signal,
        google: NO_GOOGLE,
        ...overrides,
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    },
  };
}

export interface RunCliOptions {
  env: Record<string, string | undefined>;
  /** Aborting it is Ctrl-C. */
  signal?: AbortSignal;
  onOut?: (line: string) => void;
  onErr?: (line: string) => void;
  /** Anything else of the context (fetch, google, now). */
  context?: Partial<CliContext>;
}

export async function runCli(args: readonly string[], options: RunCliOptions): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(args, {
    env: options.env,
    out: (line) => {
      out.push(line);
      options.onOut?.(line);
    },
    err: (line) => {
      err.push(line);
      options.onErr?.(line);
    },
    fetch: globalThis.fetch,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    now: () => new Date(),
    pulumi: createPulumiRunner({ env: options.env }),
    signal: options.signal ?? new AbortController().signal,
    google: NO_GOOGLE,
    ...options.context,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}
