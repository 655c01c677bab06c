/**
 * `npm run bench [-- --quick] [-- --only=micro,http,cold,memory]`: measures verification speed,
 * the HTTP path against the real Pub/Sub emulator, cold start and memory, side by side with
 * (b) a bare Functions Framework function (the ceiling) and (c) a docs-style receiver (the
 * baseline), then writes bench/results.json and bench/chart.svg and prints a table.
 *
 * Everything runs on this machine: the load generator, the contestant and the emulator share its
 * cores, so figures are comparable within one run, not across machines.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_TOPIC_PREFIX } from '../functions/catalog.ts';
import { EMULATOR_PROJECT } from '../functions/config.ts';
import { freePort, startEmulator, type Emulator } from '../scripts/lib/emulator.ts';
import { createLocalTopology } from '../scripts/lib/local-topology.ts';
import { renderChart } from './chart.ts';
import { coldStartOnce, summarizeColdStart, type ColdStartResult, type ColdStartRun } from './cold-start.ts';
import { createSigner, generateSecret, post } from './deliveries.ts';
import { measurePoint, measureRaw, summarize, warmUp, type LoadPoint, type RawMeasurement } from './load.ts';
import { round2, runMicro, type MicroResults } from './micro.ts';
import {
  CONTESTANTS,
  emulatorPid,
  MiB,
  repoRoot,
  rssBytes,
  spawnFunction,
  type ContestantKey,
  type FunctionProcess,
} from './processes.ts';

const PHASES = ['micro', 'http', 'cold', 'memory'] as const;
type Phase = (typeof PHASES)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    emulator: { type: 'string' },
    output: { type: 'string' },
    contestants: { type: 'string' },
  },
});
const quick = args.quick ?? false;
const phases = new Set<Phase>(
  args.only === undefined
    ? PHASES
    : args.only
        .split(',')
        .map((p) => p.trim())
        .filter((p): p is Phase => (PHASES as readonly string[]).includes(p)),
);

const SETTINGS = quick
  ? {
      httpSeconds: 3,
      httpRounds: 1,
      warmupSeconds: 1,
      coldRuns: 5,
      memoryCheckpoints: [10_000, 50_000],
      memoryConnections: 16,
    }
  : {
      httpSeconds: 10,
      httpRounds: 2,
      warmupSeconds: 2,
      coldRuns: 7,
      memoryCheckpoints: [10_000, 50_000],
      memoryConnections: 16,
    };
const CONNECTIONS = [1, 16, 64] as const;
const BASELINE_TOPIC = 'bench-baseline';
/** Heap limits of the order V8 picks by itself inside a 256-512 MiB instance. */
const CAPPED_HEAP = '--max-old-space-size=128 --max-semi-space-size=4';
const ALL: ContestantKey[] = ['ours', 'baseline', 'bare'];
/** `--contestants=ours,bare` narrows a development run; targets needing a missing one are skipped. */
const ORDER: ContestantKey[] =
  args.contestants === undefined ? ALL : ALL.filter((key) => args.contestants!.split(',').includes(key));

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function machine() {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round2(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

interface Target {
  name: string;
  goal: string;
  measured: string;
  ratio: number | null;
  pass: boolean | null;
}

interface Results {
  machine: ReturnType<typeof machine>;
  date: string;
  mode: 'quick' | 'full';
  loadAverage: { before: number[]; after: number[] };
  settings: typeof SETTINGS & { connections: readonly number[] };
  micro?: MicroResults;
  http?: Record<ContestantKey, LoadPoint[]>;
  coldStart?: Partial<Record<ContestantKey, ColdStartResult>>;
  memory?: {
    connections: number;
    checkpoints: Array<{ deliveries: number; rssMiB: number }>;
    growthPercent: number;
    non2xx: number;
    /** Ours at 64 connections with V8's heap capped (see CAPPED_HEAP). */
    cappedHeap64?: { nodeOptions: string; point: LoadPoint };
  };
  targets: Target[];
  notes: string[];
}

let sequence = 0;

// Ctrl-C or a kill: exit through process.exit so every spawned process is killed on the way out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

async function main(): Promise<void> {
  const started = performance.now();
  const results: Results = {
    machine: machine(),
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    loadAverage: { before: loadavg().map(round2), after: [] },
    settings: { ...SETTINGS, connections: CONNECTIONS },
    targets: [],
    notes: [
      'Load generator (autocannon), contestant and Pub/Sub emulator share the same cores; compare within a run.',
      'Every HTTP request carries a unique webhook-id and a fresh v1 signature.',
    ],
  };
  const needsStack = phases.has('http') || phases.has('cold') || phases.has('memory');

  if (phases.has('micro')) {
    log('verification micro-benchmarks');
    results.micro = await runMicro(quick);
  }

  let emulator: Emulator | undefined;
  let pubsub: PubSub | undefined;
  try {
    if (needsStack) {
      let host = args.emulator;
      if (!host) {
        log('starting the Pub/Sub emulator');
        emulator = await startEmulator();
        host = emulator.host;
      }
      process.env['PUBSUB_EMULATOR_HOST'] = host;
      const emulatorProcess = emulatorPid(Number(host.split(':').pop()));
      // Off GCP there is no metadata server; asking for one only prints warnings.
      process.env['METADATA_SERVER_DETECTION'] ??= 'none';
      pubsub = new PubSub({ projectId: EMULATOR_PROJECT, apiEndpoint: host });
      // The same topology the cloud gets (topics, dead-letter topics, a consumer subscription per
      // route), so the emulator stores every message as it would for a real subscriber; the
      // baseline's one topic gets one subscription for the same reason.
      await createLocalTopology(pubsub, { topicPrefix: DEFAULT_TOPIC_PREFIX });
      const [topic] = await pubsub.topic(BASELINE_TOPIC).get({ autoCreate: true });
      await topic.subscription(`${BASELINE_TOPIC}-local`).get({ autoCreate: true });

      const secret = generateSecret();
      const sign = createSigner(secret);
      // The bench signs with node:crypto; make sure the reference package agrees before trusting it.
      const sample = sign(sequence++);
      new Webhook(secret).verify(sample.body, sample.headers);

      const common = { PUBSUB_EMULATOR_HOST: host, GOOGLE_CLOUD_PROJECT: EMULATOR_PROJECT };
      const envFor: Record<ContestantKey, Record<string, string>> = {
        ours: { ...common, WEBHOOK_SIGNING_SECRETS: secret },
        bare: { ...common },
        baseline: { ...common, WEBHOOK_SECRET: secret, TOPIC_NAME: BASELINE_TOPIC },
      };
      const next = () => sign(sequence++);
      const purge = async (): Promise<void> => {
        // Acknowledge everything published so far, so the emulator's backlog does not grow across phases.
        const [subscriptions] = await pubsub!.getSubscriptions();
        const now = new Date();
        await Promise.all(subscriptions.map((subscription) => subscription.seek(now)));
      };

      if (phases.has('http')) {
        // All contestants run side by side and take turns, round after round, so that load from
        // elsewhere on the machine falls on all of them alike.
        results.http = { ours: [], bare: [], baseline: [] };
        const running = new Map<ContestantKey, FunctionProcess>();
        try {
          for (const key of ORDER) running.set(key, spawnFunction(CONTESTANTS[key], await freePort(), envFor[key]));
          for (const fn of running.values()) await fn.listening;
          for (const connections of CONNECTIONS) {
            const raws = new Map<ContestantKey, RawMeasurement[]>(ORDER.map((key) => [key, []]));
            for (const [key, fn] of running) {
              log(`http ${connections} connection(s): warming up ${key}`);
              await warmUp(fn, { connections, durationSeconds: SETTINGS.warmupSeconds, sign: next });
            }
            for (let round = 0; round < SETTINGS.httpRounds; round++) {
              for (const [key, fn] of running) {
                raws
                  .get(key)!
                  .push(
                    await measureRaw(
                      fn,
                      { connections, durationSeconds: SETTINGS.httpSeconds / SETTINGS.httpRounds, sign: next },
                      emulatorProcess,
                    ),
                  );
              }
              await purge();
            }
            for (const key of ORDER) {
              const point = summarize(connections, raws.get(key)!);
              results.http[key].push(point);
              log(
                `  ${key}: ${point.requestsPerSecond} req/s, p50 ${point.p50Ms} ms, p99 ${point.p99Ms} ms, ${point.cpuMsPerRequest} ms CPU/req, peak RSS ${point.peakRssMiB} MiB`,
              );
              if (point.non2xx > 0 || point.errors > 0)
                results.notes.push(
                  `${key} at ${connections} connections: ${point.non2xx} non-2xx answers, ${point.errors} errors`,
                );
            }
          }
        } finally {
          for (const fn of running.values()) await fn.stop();
        }
      }

      if (phases.has('cold')) {
        // Interleaved too: run i of every contestant, then run i + 1.
        const runs = new Map<ContestantKey, ColdStartRun[]>(ORDER.map((key) => [key, []]));
        for (let i = 0; i < SETTINGS.coldRuns; i++) {
          for (const key of ORDER) {
            runs.get(key)!.push(await coldStartOnce(CONTESTANTS[key], await freePort(), envFor[key], next));
          }
          log(
            `cold start run ${i + 1}/${SETTINGS.coldRuns}: ${ORDER.map((key) => `${key} ${runs.get(key)!.at(-1)!.firstSuccessMs} ms`).join(', ')}`,
          );
        }
        results.coldStart = {};
        for (const key of ORDER) results.coldStart[key] = summarizeColdStart(runs.get(key)!);
        await purge();
      }

      if (phases.has('memory')) {
        log(`memory: ${SETTINGS.memoryCheckpoints.join(' and ')} deliveries`);
        const port = await freePort();
        const fn = spawnFunction(CONTESTANTS.ours, port, envFor.ours);
        try {
          await fn.listening;
          const status = await post(`${fn.url}/`, next());
          if (status !== 200) throw new Error(`first delivery answered ${status}`);
          let delivered = 1;
          let non2xx = 0;
          const checkpoints: Array<{ deliveries: number; rssMiB: number }> = [];
          for (const checkpoint of SETTINGS.memoryCheckpoints) {
            const point = await measurePoint(
              fn,
              { connections: SETTINGS.memoryConnections, amount: checkpoint - delivered, sign: next },
              emulatorProcess,
            );
            delivered += point.requests + point.non2xx;
            non2xx += point.non2xx;
            await new Promise((resolve) => setTimeout(resolve, 500)); // let in-flight work and timers settle
            checkpoints.push({ deliveries: delivered, rssMiB: round2(rssBytes(fn.pid) / MiB) });
            log(`  after ${delivered} deliveries: RSS ${checkpoints.at(-1)!.rssMiB} MiB`);
            await purge();
          }
          const first = checkpoints[0]!.rssMiB;
          const last = checkpoints.at(-1)!.rssMiB;
          results.memory = {
            connections: SETTINGS.memoryConnections,
            checkpoints,
            growthPercent: round2(((last - first) / first) * 100),
            non2xx,
          };
        } finally {
          await fn.stop();
        }
        // Node sizes V8's heap from the memory it sees: 24 GiB here, the instance limit on Cloud
        // Run. The same receiver with the heap capped as a small instance would cap it:
        log(`memory: 64 connections with NODE_OPTIONS=${CAPPED_HEAP}`);
        const capped = spawnFunction(CONTESTANTS.ours, await freePort(), { ...envFor.ours, NODE_OPTIONS: CAPPED_HEAP });
        try {
          await capped.listening;
          await warmUp(capped, { connections: 64, durationSeconds: SETTINGS.warmupSeconds, sign: next });
          const point = await measurePoint(
            capped,
            { connections: 64, durationSeconds: SETTINGS.httpSeconds / SETTINGS.httpRounds, sign: next },
            emulatorProcess,
          );
          results.memory.cappedHeap64 = { nodeOptions: CAPPED_HEAP, point };
          log(`  ${point.requestsPerSecond} req/s, p99 ${point.p99Ms} ms, peak RSS ${point.peakRssMiB} MiB`);
        } finally {
          await capped.stop();
        }
        await purge();
      }
    }
  } finally {
    await pubsub?.close();
    await emulator?.stop();
  }

  results.loadAverage.after = loadavg().map(round2);
  results.targets = evaluateTargets(results);
  results.notes.push(`Run took ${Math.round((performance.now() - started) / 1000)} s.`);
  const output = args.output ?? join(repoRoot, 'bench', 'results.json');
  writeFileSync(output, `${JSON.stringify(results, null, 2)}\n`);
  if (results.http) writeFileSync(join(repoRoot, 'bench', 'chart.svg'), chartFor(results));
  process.stdout.write(`${table(results)}\n`);
  log(`wrote ${output}${results.http ? ' and bench/chart.svg' : ''}`);
}

function point(results: Results, key: ContestantKey, connections: number): LoadPoint | undefined {
  return results.http?.[key].find((p) => p.connections === connections);
}

function target(name: string, goal: string, measured: string, ratio: number | null, pass: boolean | null): Target {
  return { name, goal, measured, ratio: ratio === null ? null : round2(ratio), pass };
}

function evaluateTargets(results: Results): Target[] {
  const targets: Target[] = [];
  const hmac1k = results.micro?.hmac.find((h) => h.bodyBytes === 1024);
  if (hmac1k) {
    const ratio = hmac1k.ratioVsStandardwebhooks;
    targets.push(target('hmac_1kib_vs_standardwebhooks', '>= 5x', `${ratio}x`, ratio, ratio >= 5));
  }
  if (results.http) {
    const ours1 = point(results, 'ours', 1);
    const base1 = point(results, 'baseline', 1);
    if (ours1 && base1) {
      const ratio = ours1.p50Ms / base1.p50Ms;
      targets.push(
        target(
          'http_1conn_p50_vs_baseline',
          '<= 1/3 of (c)',
          `${ours1.p50Ms} ms vs ${base1.p50Ms} ms`,
          ratio,
          ratio <= 1 / 3,
        ),
      );
    }
    for (const connections of [16, 64]) {
      const ours = point(results, 'ours', connections);
      const base = point(results, 'baseline', connections);
      const bare = point(results, 'bare', connections);
      if (ours && base) {
        const ratio = ours.requestsPerSecond / base.requestsPerSecond;
        targets.push(
          target(
            `http_${connections}conn_throughput_vs_baseline`,
            '>= 1.5x (c)',
            `${ours.requestsPerSecond} vs ${base.requestsPerSecond} req/s`,
            ratio,
            ratio >= 1.5,
          ),
        );
      }
      if (ours && bare) {
        const ratio = ours.requestsPerSecond / bare.requestsPerSecond;
        targets.push(
          target(
            `http_${connections}conn_throughput_vs_bare`,
            '>= 40% of (b)',
            `${ours.requestsPerSecond} vs ${bare.requestsPerSecond} req/s`,
            ratio,
            ratio >= 0.4,
          ),
        );
      }
    }
    const ours16 = point(results, 'ours', 16);
    if (ours16)
      targets.push(target('http_16conn_p99', '< 25 ms', `${ours16.p99Ms} ms`, ours16.p99Ms / 25, ours16.p99Ms < 25));
    const ours64 = point(results, 'ours', 64);
    if (ours64)
      targets.push(
        target(
          'rss_64conn',
          '< 160 MiB',
          `${ours64.peakRssMiB} MiB peak`,
          ours64.peakRssMiB / 160,
          ours64.peakRssMiB < 160,
        ),
      );
  }
  if (results.coldStart) {
    const ours = results.coldStart.ours?.medianFirstSuccessMs;
    const bare = results.coldStart.bare?.medianFirstSuccessMs;
    if (ours !== undefined && bare !== undefined) {
      targets.push(
        target('cold_start_vs_bare', '<= 1.5x (b)', `${ours} ms vs ${bare} ms`, ours / bare, ours <= 1.5 * bare),
      );
    }
    if (ours !== undefined)
      targets.push(target('cold_start_absolute', '< 500 ms', `${ours} ms`, ours / 500, ours < 500));
  }
  const capped = results.memory?.cappedHeap64;
  if (capped) {
    const rss = capped.point.peakRssMiB;
    targets.push(
      target(
        'rss_64conn_heap_capped',
        '< 160 MiB (informational)',
        `${rss} MiB peak, ${capped.point.requestsPerSecond} req/s`,
        rss / 160,
        rss < 160,
      ),
    );
  }
  if (results.memory) {
    const growth = results.memory.growthPercent;
    const [a, b] = [results.memory.checkpoints[0]!, results.memory.checkpoints.at(-1)!];
    targets.push(
      target(
        'rss_growth_10k_to_50k',
        '<= 10%',
        `${a.rssMiB} -> ${b.rssMiB} MiB (${growth}%)`,
        growth / 10,
        growth <= 10,
      ),
    );
  }
  return targets;
}

const COLORS: Record<ContestantKey, string> = { ours: '#1a7f37', baseline: '#cf222e', bare: '#8c959f' };

function chartFor(results: Results): string {
  return renderChart({
    title: 'Webhook deliveries through the real Pub/Sub emulator',
    subtitle: `${results.machine.cores} × ${results.machine.cpuModel}, Node ${results.machine.node}, ${results.settings.httpSeconds} s per point, ${results.date.slice(0, 10)}; load generator and emulator on the same cores`,
    connections: CONNECTIONS,
    series: ORDER.map((key) => ({
      label: CONTESTANTS[key].label,
      color: COLORS[key],
      throughput: CONNECTIONS.map((c) => point(results, key, c)?.requestsPerSecond ?? Number.NaN),
      p99Ms: CONNECTIONS.map((c) => point(results, key, c)?.p99Ms ?? Number.NaN),
    })),
  });
}

function row(cells: ReadonlyArray<string | number>): string {
  return `| ${cells.join(' | ')} |`;
}

function table(results: Results): string {
  const lines: string[] = [];
  lines.push(
    `Machine: ${results.machine.cores} × ${results.machine.cpuModel}, ${results.machine.memoryGiB} GiB, Node ${results.machine.node}; load average before ${results.loadAverage.before.join(' ')}, after ${results.loadAverage.after.join(' ')} (${results.mode} run)`,
  );
  if (results.micro) {
    lines.push(
      '',
      row(['Verification', 'ours', 'standardwebhooks', 'svix', 'ours ÷ standardwebhooks']),
      row(['---', '---:', '---:', '---:', '---:']),
    );
    for (const h of results.micro.hmac) {
      lines.push(
        row([
          `HMAC v1, ${h.bodyBytes / 1024} KiB, 3 secrets`,
          `${h.ours.opsPerSecond.toLocaleString('en-US')}/s`,
          `${h.standardwebhooks.opsPerSecond.toLocaleString('en-US')}/s`,
          `${h.svix.opsPerSecond.toLocaleString('en-US')}/s`,
          `${h.ratioVsStandardwebhooks}×`,
        ]),
      );
    }
    const j = results.micro.jwt;
    lines.push(
      row([
        'RS256 JWT (vs bare crypto.verify)',
        `${j.ours.opsPerSecond.toLocaleString('en-US')}/s`,
        `${j.bareCryptoVerify.opsPerSecond.toLocaleString('en-US')}/s (bare)`,
        '',
        `${j.ratioOfBare}× of bare`,
      ]),
    );
  }
  if (results.http) {
    lines.push(
      '',
      row([
        'HTTP',
        'conns',
        'req/s',
        'p50 ms',
        'p99 ms',
        'CPU ms/req',
        'emulator CPU ms/req',
        'peak RSS MiB',
        'non-2xx',
      ]),
      row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
    );
    for (const key of ORDER) {
      for (const p of results.http[key]) {
        lines.push(
          row([
            CONTESTANTS[key].label,
            p.connections,
            p.requestsPerSecond.toLocaleString('en-US'),
            p.p50Ms,
            p.p99Ms,
            p.cpuMsPerRequest,
            p.emulatorCpuMsPerRequest ?? '',
            p.peakRssMiB,
            p.non2xx + p.errors,
          ]),
        );
      }
    }
  }
  if (results.coldStart) {
    lines.push(
      '',
      row(['Cold start (median)', 'spawn → listening', 'spawn → first 2xx', 'CPU used by then', 'runs']),
      row(['---', '---:', '---:', '---:', '---:']),
    );
    for (const key of ORDER) {
      const c = results.coldStart[key];
      if (!c) continue;
      lines.push(
        row([
          CONTESTANTS[key].label,
          `${c.medianListeningMs} ms`,
          `${c.medianFirstSuccessMs} ms`,
          `${c.medianCpuMs} ms`,
          c.runs.length,
        ]),
      );
    }
  }
  if (results.memory) {
    lines.push(
      '',
      row([
        'Memory (this receiver)',
        ...results.memory.checkpoints.map((c) => `after ${c.deliveries.toLocaleString('en-US')}`),
        'growth',
      ]),
      row(['---', ...results.memory.checkpoints.map(() => '---:'), '---:']),
    );
    lines.push(
      row([
        `RSS at ${results.memory.connections} connections`,
        ...results.memory.checkpoints.map((c) => `${c.rssMiB} MiB`),
        `${results.memory.growthPercent}%`,
      ]),
    );
    const capped = results.memory.cappedHeap64;
    if (capped)
      lines.push(
        '',
        `With NODE_OPTIONS="${capped.nodeOptions}" at 64 connections: ${capped.point.requestsPerSecond} req/s, p99 ${capped.point.p99Ms} ms, peak RSS ${capped.point.peakRssMiB} MiB.`,
      );
  }
  if (results.targets.length > 0) {
    lines.push('', row(['Target', 'goal', 'measured', 'ratio', 'result']), row(['---', '---', '---', '---:', '---']));
    for (const t of results.targets)
      lines.push(row([t.name, t.goal, t.measured, t.ratio ?? '', t.pass === null ? 'n/a' : t.pass ? 'pass' : 'FAIL']));
  }
  return lines.join('\n');
}

await main();
