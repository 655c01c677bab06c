/**
 * One HTTP measurement point: autocannon at N connections against a running contestant, every
 * request freshly signed. Latency percentiles are computed here from autocannon's per-response
 * timings (sub-millisecond precision; autocannon's own histogram rounds to whole milliseconds).
 * CPU time and peak RSS are read from /proc for the contestant's process only.
 */
import autocannon from 'autocannon';
import type { SignedDelivery } from './deliveries.ts';
import { cpuTimeMs, sampleRss, type FunctionProcess } from './processes.ts';

export interface LoadPoint {
  connections: number;
  durationSeconds: number;
  requests: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Contestant CPU time (user + system) per answered request, over the measured window. */
  cpuMsPerRequest: number;
  /** Contestant CPU utilisation over the window (1.0 = one core busy). */
  cpuCores: number;
  /** CPU time of the Pub/Sub backend (emulator or instant backend) per answered request. */
  backendCpuMsPerRequest?: number;
  peakRssMiB: number;
  non2xx: number;
  errors: number;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export interface LoadOptions {
  connections: number;
  durationSeconds?: number;
  /** Stop after this many requests instead of after a duration. */
  amount?: number;
  sign: () => SignedDelivery;
}

interface RawRun {
  latencies: number[];
  non2xx: number;
  errors: number;
  seconds: number;
}

async function fire(target: FunctionProcess, options: LoadOptions): Promise<RawRun> {
  const latencies: number[] = [];
  let non2xx = 0;
  const started = performance.now();
  const instance = autocannon({
    url: target.url,
    connections: options.connections,
    pipelining: 1,
    timeout: 10,
    ...(options.amount !== undefined ? { amount: options.amount } : { duration: options.durationSeconds ?? 3 }),
    requests: [
      {
        method: 'POST',
        path: '/',
        setupRequest: (request) => {
          const { headers, body } = options.sign();
          return { ...request, headers, body };
        },
      },
    ],
  });
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
    else non2xx++;
  });
  const result = await instance;
  return { latencies, non2xx, errors: result.errors + result.timeouts, seconds: (performance.now() - started) / 1000 };
}

export async function warmUp(target: FunctionProcess, options: LoadOptions): Promise<void> {
  const run = await fire(target, options);
  if (run.non2xx > 0 || run.errors > 0) {
    throw new Error(
      `warm-up against ${target.url}: ${run.non2xx} non-2xx, ${run.errors} errors; ` +
        `process said: ${target.tail().slice(-800)}`,
    );
  }
}

/** One measured window, kept raw so that rounds can be merged. */
export interface RawMeasurement {
  latencies: number[];
  non2xx: number;
  errors: number;
  seconds: number;
  cpuMs: number;
  peakRss: number;
  /** CPU time the Pub/Sub backend spent in the window, when its pid is known. */
  backendCpuMs: number | undefined;
}

export async function measureRaw(
  target: FunctionProcess,
  options: LoadOptions,
  backendPid?: number,
): Promise<RawMeasurement> {
  const cpuBefore = cpuTimeMs(target.pid);
  const backendBefore = backendPid === undefined ? undefined : cpuTimeMs(backendPid);
  const rss = sampleRss(target.pid);
  const run = await fire(target, options);
  const peakRss = rss.stop();
  return {
    ...run,
    cpuMs: cpuTimeMs(target.pid) - cpuBefore,
    peakRss,
    backendCpuMs: backendBefore === undefined ? undefined : cpuTimeMs(backendPid!) - backendBefore,
  };
}

/** Merges the rounds of one point: rates over the summed time, percentiles over all latencies. */
export function summarize(connections: number, raws: readonly RawMeasurement[]): LoadPoint {
  const latencies = Float64Array.from(raws.flatMap((r) => r.latencies)).sort();
  const seconds = raws.reduce((sum, r) => sum + r.seconds, 0);
  const non2xx = raws.reduce((sum, r) => sum + r.non2xx, 0);
  const cpuMs = raws.reduce((sum, r) => sum + r.cpuMs, 0);
  const answered = latencies.length + non2xx;
  const backend = raws.every((r) => r.backendCpuMs !== undefined)
    ? raws.reduce((sum, r) => sum + r.backendCpuMs!, 0)
    : undefined;
  const sorted = Array.from(latencies);
  return {
    connections,
    durationSeconds: round(seconds, 1),
    requests: latencies.length,
    requestsPerSecond: Math.round(latencies.length / seconds),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    cpuMsPerRequest: round(answered > 0 ? cpuMs / answered : Number.NaN, 3),
    cpuCores: round(cpuMs / 1000 / seconds),
    ...(backend !== undefined && {
      backendCpuMsPerRequest: round(answered > 0 ? backend / answered : Number.NaN, 3),
    }),
    peakRssMiB: round(Math.max(...raws.map((r) => r.peakRss)) / 1024 / 1024, 1),
    non2xx,
    errors: raws.reduce((sum, r) => sum + r.errors, 0),
  };
}

export async function measurePoint(
  target: FunctionProcess,
  options: LoadOptions,
  backendPid?: number,
): Promise<LoadPoint> {
  return summarize(options.connections, [await measureRaw(target, options, backendPid)]);
}
