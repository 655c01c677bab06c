/**
 * The Google Pub/Sub emulator that ships with the gcloud CLI, started on a free loopback port and
 * stopped again. Used by `npm start` and by the tests; a missing Java or emulator is reported in
 * one line that says how to install it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';

export class EmulatorUnavailableError extends Error {
  override name = 'EmulatorUnavailableError';
}

const INSTALL_HINT =
  'install it with `gcloud components install pubsub-emulator` (or Debian/Ubuntu: ' +
  '`apt-get install google-cloud-cli-pubsub-emulator`), ' +
  'or set PUBSUB_EMULATOR_BIN to its cloud-pubsub-emulator script';

const RELATIVE_BIN = join('platform', 'pubsub-emulator', 'bin', 'cloud-pubsub-emulator');

function sdkRoots(): string[] {
  const roots = [
    '/usr/lib/google-cloud-sdk',
    '/usr/share/google-cloud-sdk',
    '/opt/google-cloud-sdk',
    join(homedir(), 'google-cloud-sdk'),
  ];
  const gcloud = spawnSync('gcloud', ['info', '--format=value(installation.sdk_root)'], {
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (gcloud.status === 0 && gcloud.stdout.trim() !== '') roots.unshift(gcloud.stdout.trim());
  return roots;
}

/** Path of the emulator's launcher script; throws EmulatorUnavailableError with the fix. */
export function findEmulator(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env['PUBSUB_EMULATOR_BIN'];
  if (explicit) {
    if (!existsSync(explicit))
      throw new EmulatorUnavailableError(`PUBSUB_EMULATOR_BIN=${explicit} does not exist; ${INSTALL_HINT}.`);
    return explicit;
  }
  for (const root of sdkRoots()) {
    const candidate = join(root, RELATIVE_BIN);
    if (existsSync(candidate)) return candidate;
  }
  throw new EmulatorUnavailableError(`The Pub/Sub emulator is not installed: ${INSTALL_HINT}.`);
}

function requireJava(): void {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) {
    throw new EmulatorUnavailableError(
      'The Pub/Sub emulator needs Java 11 or newer on PATH: ' +
        'install a JRE (e.g. `apt-get install default-jre-headless`).',
    );
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilReady(
  host: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EmulatorUnavailableError(
        'The Pub/Sub emulator exited during start ' +
          `(code ${child.exitCode ?? child.signalCode}): ${output().trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    try {
      const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new EmulatorUnavailableError(`The Pub/Sub emulator did not answer on ${host} within ${timeoutMs} ms.`);
}

export interface Emulator {
  /** `127.0.0.1:<port>`, the value for PUBSUB_EMULATOR_HOST. */
  host: string;
  port: number;
  /** Freeze the emulator (SIGSTOP): connections stay open, nothing answers. */
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

export interface StartEmulatorOptions {
  port?: number;
  timeoutMs?: number;
  /** Receives the emulator's own log lines (default: kept in memory for error messages only). */
  onOutput?: (text: string) => void;
}

export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  // Whoever talks to the emulator is off GCP: stop Google's auth library probing for a metadata
  // server, which only prints a warning per client here.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const bin = findEmulator();
  requireJava();
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const child = spawn(bin, [`--host=127.0.0.1`, `--port=${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    log = (log + text).slice(-4000);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Never leave a JVM behind if the parent goes away without calling stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  try {
    await waitUntilReady(host, child, () => log, options.timeoutMs ?? 60_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    host,
    port,
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
