/**
 * Runs the receiver the way Cloud Run functions does: the Functions Framework's own CLI serving
 * target `receiveWebhook` from functions/index.ts, in a child process on a chosen port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect } from './ports.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The package exports only its API; its CLI sits beside the main module (`bin` in its package.json).
const frameworkCli = join(
  dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

export interface ReceiverProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /**
   * What the process printed so far (structured logs included): everything when no `onOutput` is
   * given (tests read the whole log), otherwise only the last few KiB, for error messages.
   */
  output(): string;
  /** SIGKILL, as a crash or an instance shutdown would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartReceiverOptions {
  port: number;
  env: Record<string, string>;
  /** Print the receiver's output through; a long-running session then keeps only its tail. */
  onOutput?: (text: string) => void;
  timeoutMs?: number;
  /**
   * Run a deployable build instead of this repository's sources: a directory holding the
   * transpiled function and its own installed node_modules, as Cloud Build leaves it.
   */
  deployedDir?: string;
  /** Serve another entry module of this repository instead of functions/index.ts (test fixtures). */
  source?: string;
  /**
   * Also pass the port as `PORT` (default true). False leaves `PORT` unset, so only the
   * framework's `--port` names it, as a user starting the framework's CLI by hand might.
   */
  portInEnvironment?: boolean;
}

function receiverEnvironment(options: StartReceiverOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    // Off GCP there is no metadata server; asking for one only prints warnings.
    METADATA_SERVER_DETECTION: 'none',
    // As on Cloud Run: Express then answers framework-level errors without stack traces.
    NODE_ENV: 'production',
    ...process.env,
    ...options.env,
    PORT: String(options.port),
  };
  if (options.portInEnvironment === false) delete env['PORT'];
  return env;
}

export async function startReceiverProcess(options: StartReceiverOptions): Promise<ReceiverProcess> {
  const cli = options.deployedDir
    ? join(options.deployedDir, 'node_modules', '@google-cloud', 'functions-framework', 'build', 'src', 'main.js')
    : frameworkCli;
  const source = options.deployedDir ?? options.source ?? join(repoRoot, 'functions', 'index.ts');
  const child = spawn(
    process.execPath,
    [cli, '--target=receiveWebhook', `--source=${source}`, `--port=${options.port}`],
    {
      cwd: options.deployedDir ?? repoRoot,
      env: receiverEnvironment(options),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  const collect = (chunk: Buffer): void => {
    const text = chunk.toString();
    output += text;
    if (options.onOutput && output.length > 16_384) output = output.slice(-8192);
    options.onOutput?.(text);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}/`;

  // In production mode the framework prints nothing when it is ready: watch the port instead.
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(
        `receiver exited during start (code ${child.exitCode}): ${output.trim().split('\n').slice(-3).join(' | ')}`,
      );
    }
    // A TCP connect, not a request: a probe request would be logged as a refused delivery.
    if (await canConnect(options.port)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`receiver did not start within ${options.timeoutMs ?? 30_000} ms: ${output.slice(-500)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }

  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  return {
    url,
    port: options.port,
    child,
    output: () => output,
    kill: () => end('SIGKILL'),
    stop: () => end('SIGTERM'),
  };
}
