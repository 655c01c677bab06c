/**
 * The contestants run as separate processes started the way Cloud Run functions starts
 * them (the Functions Framework CLI, target `receiveWebhook`), so each one's CPU time and memory
 * can be read from /proc on its own.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, stripTypeScriptTypes } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canConnect } from '../scripts/lib/ports.ts';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..');
const frameworkCli = join(
  dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')),
  'main.js',
);

export type ContestantKey = 'ours' | 'lean' | 'bare' | 'baseline';

export interface Contestant {
  key: ContestantKey;
  label: string;
  /** Functions Framework source: a module, or a directory whose package.json names it. */
  source: string;
  /** The Functions Framework CLI to run (default: this repository's copy). */
  cli?: string;
  /** Working directory of the process (default: the repository root). */
  cwd?: string;
}

/**
 * The JavaScript a deployment of `bench/<name>/index.ts` would run: its types stripped, written to
 * bench/.build/ (packages still resolve from the repository). Served as TypeScript, every start
 * would also pay for Node's type stripper, which no deployed function does.
 */
export function deployedJavaScript(name: string): string {
  const file = join(repoRoot, 'bench', '.build', name, 'index.js');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, stripTypeScriptTypes(readFileSync(join(repoRoot, 'bench', name, 'index.ts'), 'utf8')));
  return file;
}

export const CONTESTANTS: Record<ContestantKey, Contestant> = {
  ours: { key: 'ours', label: '(a) this receiver', source: join(repoRoot, 'functions', 'index.ts') },
  lean: { key: 'lean', label: '(l) lean same-work receiver', source: deployedJavaScript('lean') },
  bare: { key: 'bare', label: '(b) bare Functions Framework, 204', source: deployedJavaScript('bare') },
  baseline: { key: 'baseline', label: '(c) docs-style receiver', source: deployedJavaScript('baseline') },
};

export interface FunctionProcess {
  pid: number;
  child: ChildProcess;
  port: number;
  url: string;
  /** performance.now() just before spawn. */
  spawnedAt: number;
  /** performance.now() when the port first accepted a connection (polled every 2 ms). */
  listening: Promise<number>;
  /** The last few KiB printed on stderr, for error messages. */
  tail(): string;
  stop(): Promise<void>;
}

export interface SpawnOptions {
  /** Runs the process on this one core only (`taskset -c`, which execs node: the pid stays node's). */
  pinToCore?: number;
  /** File descriptor for the process's stdout (its structured logs); default /dev/null. */
  stdout?: number;
}

export function spawnFunction(
  contestant: Contestant,
  port: number,
  env: Record<string, string>,
  nodeArgs: readonly string[] = [],
  options: SpawnOptions = {},
): FunctionProcess {
  const spawnedAt = performance.now();
  const args = [
    ...nodeArgs,
    contestant.cli ?? frameworkCli,
    '--target=receiveWebhook',
    `--source=${contestant.source}`,
    `--port=${port}`,
  ];
  const pinned = options.pinToCore !== undefined;
  const child = spawn(
    pinned ? 'taskset' : process.execPath,
    pinned ? ['-c', String(options.pinToCore), process.execPath, ...args] : args,
    {
      cwd: contestant.cwd ?? repoRoot,
      env: { METADATA_SERVER_DETECTION: 'none', ...process.env, ...env, PORT: String(port), NODE_ENV: 'production' },
      // NODE_ENV as Cloud Run sets it (Express runs in production mode). Structured logs (stdout)
      // go to /dev/null: a pipe to this process would block the contestant whenever the load
      // generator, busy in the same event loop, drains it late. Cloud Run's collector does not.
      stdio: ['ignore', options.stdout ?? 'ignore', 'pipe'],
    },
  );
  let tail = '';
  const collect = (chunk: Buffer): void => {
    if (chunk.length < 4096) tail = (tail + chunk.toString()).slice(-4096);
  };
  child.stderr?.on('data', collect);
  const listening = (async () => {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `${contestant.key} exited (${child.exitCode ?? child.signalCode}) before listening: ${tail.slice(-600)}`,
        );
      }
      if (await canConnect(port)) return performance.now();
      if (performance.now() - spawnedAt > 30_000)
        throw new Error(`${contestant.key} did not listen within 30 s: ${tail.slice(-600)}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  listening.catch(() => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  return {
    pid: child.pid ?? -1,
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    spawnedAt,
    listening,
    tail: () => tail.slice(-4096),
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const CLOCK_TICKS_PER_SECOND = 100; // USER_HZ on Linux (`getconf CLK_TCK`)

/** User + system CPU time of a process so far, in milliseconds (10 ms resolution). */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / CLOCK_TICKS_PER_SECOND;
}

function statusField(pid: number, name: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resident set size now, in bytes. */
export function rssBytes(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** Samples RSS every `intervalMs` until stopped; returns the peak. */
export function sampleRss(pid: number, intervalMs = 100): { stop(): number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // process gone; the caller will notice
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        // ignore
      }
      return peak;
    },
  };
}

export const MiB = 1024 * 1024;

/** The pid of the Java process serving the emulator on `port` (its launcher script execs java). */
export function emulatorPid(port: number): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (cmdline.some((arg) => arg.includes('pubsub-emulator')) && cmdline.includes(`--port=${port}`))
        return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
