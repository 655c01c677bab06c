/**
 * The two Pub/Sub backends the bench drives the contestants against, each a process of its own
 * whose CPU time can be read from /proc:
 * - `emulator`: Google's Pub/Sub emulator (a JVM), the real thing end to end;
 * - `instant`: bench/instant-pubsub.ts, which acknowledges every Publish at once, so that the
 *   contestant's own cost shows.
 * Contestants reach either one through PUBSUB_EMULATOR_HOST.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { startEmulator } from '../scripts/lib/emulator.ts';
import { emulatorPid, repoRoot } from './processes.ts';

export type BackendKey = 'instant' | 'emulator';

export interface Backend {
  key: BackendKey;
  /** `127.0.0.1:<port>`, the value for PUBSUB_EMULATOR_HOST. */
  host: string;
  /** The process serving it, for its CPU time; undefined when it cannot be found. */
  pid: number | undefined;
  stop(): Promise<void>;
}

export const BACKEND_LABELS: Record<BackendKey, string> = {
  instant: 'instant backend (acknowledges every Publish at once)',
  emulator: 'Pub/Sub emulator',
};

/** Starts the instant backend as a child process and resolves once it serves. */
export async function startInstantBackend(): Promise<Backend> {
  const child = spawn(process.execPath, [join(repoRoot, 'bench', 'instant-pubsub.ts')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /^listening (\d+)$/m.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the instant backend exited (${code}) before serving: ${stderr}`)));
  });
  return {
    key: 'instant',
    host: `127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Uses a running emulator at `host`, or starts one. */
export async function emulatorBackend(host?: string): Promise<Backend> {
  if (host !== undefined) {
    return { key: 'emulator', host, pid: emulatorPid(Number(host.split(':').pop())), stop: async () => {} };
  }
  const emulator = await startEmulator();
  return { key: 'emulator', host: emulator.host, pid: emulatorPid(emulator.port), stop: () => emulator.stop() };
}
