/**
 * Everything a command touches outside its arguments, injectable so tests drive the real commands
 * against a local HTTP server, a fake `pulumi` executable and the Pub/Sub emulator.
 */
import type { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { createPulumiRunner, type PulumiRunner } from './pulumi.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Google Cloud APIs that have no emulator here (used by `check`); tests pass fakes. */
export interface GoogleClients {
  /** An OAuth access token of Application Default Credentials, for Google's REST APIs. */
  accessToken(): Promise<string>;
  /** A Secret Manager client (gRPC) with Application Default Credentials. */
  secretManager(): Promise<SecretManagerServiceClient>;
}

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

export function defaultGoogleClients(): GoogleClients {
  return {
    async accessToken() {
      const { GoogleAuth } = await import('google-gax');
      const token = await new GoogleAuth({ scopes: CLOUD_PLATFORM_SCOPE }).getAccessToken();
      if (!token) throw new Error('Application Default Credentials gave no access token');
      return token;
    },
    async secretManager() {
      const { SecretManagerServiceClient } = await import('@google-cloud/secret-manager');
      return new SecretManagerServiceClient();
    },
  };
}

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
  google: GoogleClients;
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
    google: defaultGoogleClients(),
    ...overrides,
  };
}
