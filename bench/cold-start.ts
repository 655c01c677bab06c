/**
 * Cold start: from process spawn to the first 2xx answer to a signed delivery. The clock starts
 * just before `spawn`; the port is polled every 2 ms and, once it accepts connections, a freshly
 * signed POST is sent (and repeated until one is answered 2xx). Whatever the
 * contestant does before answering (module loading, reading secrets, opening the Pub/Sub channel,
 * the first publish) is inside the figure.
 */
import { post, type SignedDelivery } from './deliveries.ts';
import { cpuTimeMs, spawnFunction, type Contestant } from './processes.ts';
import { spread, type Spread } from './stats.ts';

export interface ColdStartRun {
  /** Spawn to the port accepting connections. */
  listeningMs: number;
  /** Spawn to the first 2xx. */
  firstSuccessMs: number;
  /** CPU time the process had used by then: unlike wall time, barely moved by other load on the machine. */
  cpuMs: number;
}

export interface ColdStartResult {
  label: string;
  runs: ColdStartRun[];
  listeningMs: Spread;
  firstSuccessMs: Spread;
  cpuMs: Spread;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function coldStartOnce(
  contestant: Contestant,
  port: number,
  env: Record<string, string>,
  sign: () => SignedDelivery,
): Promise<ColdStartRun> {
  const fn = spawnFunction(contestant, port, env);
  try {
    const listening = await fn.listening;
    let firstSuccess: number | undefined;
    let cpuMs = 0;
    while (firstSuccess === undefined) {
      if (performance.now() - fn.spawnedAt > 30_000)
        throw new Error(`${contestant.key} gave no 2xx within 30 s: ${fn.tail().slice(-600)}`);
      if (fn.child.exitCode !== null)
        throw new Error(`${contestant.key} exited during cold start: ${fn.tail().slice(-600)}`);
      const status = await post(`${fn.url}/`, sign()).catch(() => 0);
      if (status >= 200 && status < 300) {
        firstSuccess = performance.now();
        cpuMs = cpuTimeMs(fn.pid);
      } else await sleep(2);
    }
    return {
      listeningMs: Math.round(listening - fn.spawnedAt),
      firstSuccessMs: Math.round(firstSuccess - fn.spawnedAt),
      cpuMs: Math.round(cpuMs),
    };
  } finally {
    await fn.stop();
  }
}

export function summarizeColdStart(label: string, runs: readonly ColdStartRun[]): ColdStartResult {
  return {
    label,
    runs: [...runs],
    listeningMs: spread(
      runs.map((r) => r.listeningMs),
      0,
    ),
    firstSuccessMs: spread(
      runs.map((r) => r.firstSuccessMs),
      0,
    ),
    cpuMs: spread(
      runs.map((r) => r.cpuMs),
      0,
    ),
  };
}
