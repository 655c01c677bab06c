/**
 * `npm run bench [-- --quick] [-- --only=micro,instant,capacity,emulator,cold,memory] [-- --runs=N]`:
 * measures this receiver (a) as it is deployed (the archive infra/archive.ts builds, installed as
 * Cloud Build installs it) side by side with (l) a lean receiver doing the same work and nothing
 * else (the yardstick of the CPU and latency targets), (b) a bare Functions Framework function (the
 * floor of an HTTP request) and (c) a docs-style receiver (the baseline):
 *
 * - `instant`: HTTP load against the instant backend (bench/instant-pubsub.ts), which acknowledges
 *   every Publish at once in a process of its own: what a delivery costs the receiver itself;
 * - `capacity`: what one instance sustains as deployed (one core, 80 connections, capped heap),
 *   and from it what a million deliveries cost (bench/costs.ts, written into docs/deploy.md);
 * - `emulator`: HTTP load against the real Pub/Sub emulator: the end-to-end figures and the
 *   comparison with the docs-style receiver;
 * - `cold`: spawn to first 2xx, with signing secrets from the Secret Manager source;
 * - `micro`: verification speed; `memory`: RSS over 50,000 deliveries.
 *
 * A full run repeats every HTTP point in `--runs` (3) separate runs, each with fresh processes,
 * and reports medians with their range; targets are judged on those medians. It appends the run
 * to bench/results.json (the history), rewrites the generated part of bench/README.md and the
 * chart. A `--quick` run only prints.
 *
 * Everything runs on this machine: the load generator, the contestant and the backend share its
 * cores, so figures are comparable within one run, not across machines.
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PubSub } from '@google-cloud/pubsub';
import { Webhook } from 'standardwebhooks';
import { DEFAULT_TOPIC_PREFIX } from '../functions/catalog.ts';
import { EMULATOR_PROJECT } from '../functions/config.ts';
import { freePort } from '../scripts/lib/emulator.ts';
import { createLocalTopology } from '../scripts/lib/local-topology.ts';
import { emulatorBackend, startInstantBackend, type Backend, type BackendKey } from './backends.ts';
import { renderChart } from './chart.ts';
import { coldStartOnce, summarizeColdStart, type ColdStartRun } from './cold-start.ts';
import { installDeployedReceiver, startSecretManagerWorld, type DeployedReceiver } from './deployed.ts';
import { createSigner, generateSecret, post, type SignedDelivery } from './deliveries.ts';
import { measurePoint, warmUp } from './load.ts';
import { round2, runMicro } from './micro.ts';
import {
  CONTESTANTS,
  MiB,
  repoRoot,
  rssBytes,
  spawnFunction,
  type Contestant,
  type ContestantKey,
} from './processes.ts';
import { INSTANCE } from './costs.ts';
import { renderRun, withCosts, withFigures } from './report.ts';
import {
  compare,
  CONNECTIONS,
  evaluateTargets,
  figuresOf,
  type BackendResults,
  type CapacityResults,
  type HttpSeries,
  type MemoryResults,
  type ResultsHistory,
  type RunResults,
} from './results.ts';

const PHASES = ['micro', 'instant', 'capacity', 'emulator', 'cold', 'memory'] as const;
type Phase = (typeof PHASES)[number];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    runs: { type: 'string' },
    emulator: { type: 'string' },
    output: { type: 'string' },
  },
});
const quick = args.quick ?? false;
const phases = new Set<Phase>(
  args.only === undefined
    ? PHASES
    : args.only.split(',').map((p) => {
        const phase = p.trim();
        if (!(PHASES as readonly string[]).includes(phase))
          throw new Error(`--only takes ${PHASES.join(', ')} (comma-separated); got ${JSON.stringify(phase)}`);
        return phase as Phase;
      }),
);
/** A run that skips phases is not comparable with the history: it is printed, not recorded. */
const recorded = !quick && args.only === undefined && args.runs === undefined;

const SETTINGS = {
  runs: Number(args.runs ?? (quick ? 1 : 3)),
  httpSeconds: quick ? 2 : 5,
  warmupSeconds: 1,
  coldRuns: quick ? 3 : 7,
  memoryCheckpoints: [10_000, 50_000],
  memoryConnections: 16,
  connections: CONNECTIONS,
  capacityConnections: INSTANCE.concurrency,
};
const BASELINE_TOPIC = 'bench-baseline';
const LEAN_TOPIC = 'bench-lean';
/** Heap limits of the order V8 picks by itself inside a 256-512 MiB instance. */
const CAPPED_HEAP = '--max-old-space-size=128 --max-semi-space-size=4';
/**
 * Who runs against which backend. The lean receiver is the yardstick of the CPU and latency targets
 * (instant backend); the baseline's CPU is not a target, so the instant runs leave it out.
 */
const HTTP_CONTESTANTS: Record<BackendKey, ContestantKey[]> = {
  instant: ['ours', 'lean', 'bare'],
  emulator: ['ours', 'lean', 'baseline', 'bare'],
};

const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

function machine(): RunResults['machine'] {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGiB: round2(totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

// Ctrl-C or a kill: exit through process.exit so every spawned process is killed on the way out.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

let sequence = 0;
const secret = generateSecret();
const sign = createSigner(secret);
const next = (): SignedDelivery => sign(sequence++);

function envFor(key: ContestantKey, host: string): Record<string, string> {
  const common = { PUBSUB_EMULATOR_HOST: host, GOOGLE_CLOUD_PROJECT: EMULATOR_PROJECT };
  switch (key) {
    case 'ours':
      return { ...common, WEBHOOK_SIGNING_SECRETS: secret };
    case 'lean':
      return { ...common, WEBHOOK_SIGNING_SECRETS: secret, TOPIC_NAME: LEAN_TOPIC };
    case 'baseline':
      return { ...common, WEBHOOK_SECRET: secret, TOPIC_NAME: BASELINE_TOPIC };
    case 'bare':
      return common;
  }
}

/** HTTP load at every connection count, `runs` times, each run with freshly started contestants. */
async function httpPhase(
  backend: Backend,
  contestants: Record<ContestantKey, Contestant>,
  afterPoint: () => Promise<void>,
): Promise<BackendResults> {
  const keys = HTTP_CONTESTANTS[backend.key];
  const series: HttpSeries[] = keys.flatMap((key) =>
    CONNECTIONS.map((connections) => ({ contestant: key, label: contestants[key].label, connections, points: [] })),
  );
  for (let run = 0; run < SETTINGS.runs; run++) {
    // All contestants run side by side and take turns, so load from elsewhere on the machine
    // falls on all of them alike.
    const running = new Map(
      await Promise.all(
        keys.map(
          async (key) => [key, spawnFunction(contestants[key], await freePort(), envFor(key, backend.host))] as const,
        ),
      ),
    );
    try {
      for (const fn of running.values()) await fn.listening;
      for (const connections of CONNECTIONS) {
        for (const [key, fn] of running) {
          await warmUp(fn, { connections, durationSeconds: SETTINGS.warmupSeconds, sign: next });
          const point = await measurePoint(
            fn,
            { connections, durationSeconds: SETTINGS.httpSeconds, sign: next },
            backend.pid,
          );
          series.find((s) => s.contestant === key && s.connections === connections)!.points.push(point);
          const failures = point.non2xx + point.errors > 0 ? `, ${point.non2xx} non-2xx, ${point.errors} errors` : '';
          log(
            `${backend.key} run ${run + 1}/${SETTINGS.runs}, ${connections} conn, ${key}: ` +
              `${point.requestsPerSecond} req/s, p50 ${point.p50Ms} ms, p99 ${point.p99Ms} ms, ` +
              `${point.cpuMsPerRequest} ms CPU/req${failures}`,
          );
        }
        await afterPoint();
      }
    } finally {
      for (const fn of running.values()) await fn.stop();
    }
  }
  return {
    backend: backend.key,
    runs: SETTINGS.runs,
    series,
    figures: series.map(figuresOf),
    comparisons: CONNECTIONS.map((connections) => compare(series, connections)),
  };
}

/**
 * What one instance sustains: the receiver as deployed, pinned to one core (the deployment's one
 * vCPU), at the deployed concurrency, heap capped as a 512 MiB instance caps it, on the instant
 * backend (Pub/Sub is another machine's work in the cloud). Its structured logs go to a file, so
 * their size per delivery is measured too.
 */
async function capacityPhase(ours: Contestant, host: string): Promise<CapacityResults> {
  const connections = SETTINGS.capacityConnections;
  const core = cpus().length - 1;
  const dir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
  const logFile = join(dir, 'stdout.jsonl');
  const fd = openSync(logFile, 'w');
  log(`capacity: one core (${core}), ${connections} connections, NODE_OPTIONS=${CAPPED_HEAP}`);
  const fn = spawnFunction(ours, await freePort(), { ...envFor('ours', host), NODE_OPTIONS: CAPPED_HEAP }, [], {
    pinToCore: core,
    stdout: fd,
  });
  try {
    await fn.listening;
    await warmUp(fn, { connections, durationSeconds: SETTINGS.warmupSeconds, sign: next });
    const logBefore = statSync(logFile).size;
    const point = await measurePoint(fn, { connections, durationSeconds: SETTINGS.httpSeconds, sign: next });
    const logBytesPerDelivery = Math.round((statSync(logFile).size - logBefore) / (point.requests + point.non2xx));
    log(
      `capacity: ${point.requestsPerSecond} req/s, p50 ${point.p50Ms} ms, p99 ${point.p99Ms} ms, ` +
        `${point.cpuMsPerRequest} ms CPU/req, ${logBytesPerDelivery} log bytes per delivery`,
    );
    return { connections, core, nodeOptions: CAPPED_HEAP, point, logBytesPerDelivery };
  } finally {
    await fn.stop();
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function memoryPhase(ours: Contestant, host: string, purge: () => Promise<void>): Promise<MemoryResults> {
  log(`memory: ${SETTINGS.memoryCheckpoints.join(' and ')} deliveries`);
  const fn = spawnFunction(ours, await freePort(), envFor('ours', host));
  let memory: MemoryResults;
  try {
    await fn.listening;
    const status = await post(`${fn.url}/`, next());
    if (status !== 200) throw new Error(`first delivery answered ${status}`);
    let delivered = 1;
    let non2xx = 0;
    const checkpoints: Array<{ deliveries: number; rssMiB: number }> = [];
    for (const checkpoint of SETTINGS.memoryCheckpoints) {
      const point = await measurePoint(fn, {
        connections: SETTINGS.memoryConnections,
        amount: checkpoint - delivered,
        sign: next,
      });
      delivered += point.requests + point.non2xx;
      non2xx += point.non2xx;
      await new Promise((resolve) => setTimeout(resolve, 500)); // let in-flight work and timers settle
      checkpoints.push({ deliveries: delivered, rssMiB: round2(rssBytes(fn.pid) / MiB) });
      log(`  after ${delivered} deliveries: RSS ${checkpoints.at(-1)!.rssMiB} MiB`);
      await purge();
    }
    const first = checkpoints[0]!.rssMiB;
    const last = checkpoints.at(-1)!.rssMiB;
    memory = {
      connections: SETTINGS.memoryConnections,
      checkpoints,
      growthPercent: round2(((last - first) / first) * 100),
      non2xx,
    };
  } finally {
    await fn.stop();
  }
  // Node sizes V8's heap from the memory it sees: 24 GiB here, the instance limit on Cloud Run.
  log(`memory: 64 connections with NODE_OPTIONS=${CAPPED_HEAP}`);
  const capped = spawnFunction(ours, await freePort(), { ...envFor('ours', host), NODE_OPTIONS: CAPPED_HEAP });
  try {
    await capped.listening;
    await warmUp(capped, { connections: 64, durationSeconds: SETTINGS.warmupSeconds, sign: next });
    const point = await measurePoint(capped, { connections: 64, durationSeconds: SETTINGS.httpSeconds, sign: next });
    memory.cappedHeap64 = { nodeOptions: CAPPED_HEAP, point };
  } finally {
    await capped.stop();
  }
  await purge();
  return memory;
}

async function coldPhase(
  deployed: DeployedReceiver,
  host: string,
): Promise<NonNullable<RunResults['coldStart']>['contestants']> {
  // Signing secrets as deployed: from Secret Manager (the fake one, reached as the real one is).
  const world = await startSecretManagerWorld(EMULATOR_PROJECT, secret);
  const cold: Record<ContestantKey, { contestant: Contestant; env: Record<string, string> }> = {
    ours: { contestant: deployed.contestant, env: { ...envFor('ours', host), ...world.env } },
    lean: { contestant: CONTESTANTS.lean, env: envFor('lean', host) },
    baseline: { contestant: CONTESTANTS.baseline, env: envFor('baseline', host) },
    bare: { contestant: CONTESTANTS.bare, env: envFor('bare', host) },
  };
  delete cold.ours.env['WEBHOOK_SIGNING_SECRETS'];
  const keys = Object.keys(cold) as ContestantKey[];
  const runs = new Map<ContestantKey, ColdStartRun[]>(keys.map((key) => [key, []]));
  try {
    // Interleaved: run i of every contestant, then run i + 1.
    for (let i = 0; i < SETTINGS.coldRuns; i++) {
      for (const key of keys) {
        runs.get(key)!.push(await coldStartOnce(cold[key].contestant, await freePort(), cold[key].env, next));
      }
      const latest = keys.map((key) => `${key} ${runs.get(key)!.at(-1)!.firstSuccessMs} ms`).join(', ');
      log(`cold start run ${i + 1}/${SETTINGS.coldRuns}: ${latest}`);
    }
  } finally {
    await world.close();
  }
  return Object.fromEntries(keys.map((key) => [key, summarizeColdStart(cold[key].contestant.label, runs.get(key)!)]));
}

async function main(): Promise<void> {
  const started = performance.now();
  // Off GCP there is no metadata server; asking for one only prints warnings.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const results: RunResults = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: machine(),
    loadAverage: { before: loadavg().map(round2), after: [] },
    settings: { ...SETTINGS },
    targets: [],
    notes: [
      'Load generator (autocannon), contestants and the Pub/Sub backend share the same cores; compare within a run.',
      'Every HTTP request carries a unique webhook-id and a fresh v1 signature.',
    ],
  };
  // The bench signs with node:crypto; make sure the reference package agrees before trusting it.
  const sample = next();
  new Webhook(secret).verify(sample.body, sample.headers);

  if (phases.has('micro')) {
    log('verification micro-benchmarks');
    results.micro = await runMicro(quick);
  }

  let deployed: DeployedReceiver | undefined;
  try {
    if ([...phases].some((phase) => phase !== 'micro')) {
      log('building the deployable archive and installing it as Cloud Build would');
      deployed = installDeployedReceiver();
      log(
        `  ${deployed.files.length} files, ${Math.round(deployed.bytes / 1024)} KiB, ` +
          `installed in ${deployed.installSeconds} s`,
      );
    }
    const contestants = { ...CONTESTANTS, ...(deployed && { ours: deployed.contestant }) };
    results.http = {};

    if (phases.has('instant') || phases.has('capacity')) {
      const backend = await startInstantBackend();
      try {
        if (phases.has('instant')) results.http.instant = await httpPhase(backend, contestants, async () => {});
        if (phases.has('capacity')) results.capacity = await capacityPhase(contestants.ours, backend.host);
      } finally {
        await backend.stop();
      }
    }

    if (phases.has('emulator') || phases.has('cold') || phases.has('memory')) {
      log(args.emulator ? `using the emulator at ${args.emulator}` : 'starting the Pub/Sub emulator');
      const backend = await emulatorBackend(args.emulator);
      const pubsub = new PubSub({ projectId: EMULATOR_PROJECT, apiEndpoint: backend.host });
      try {
        // The topology the cloud gets (topics, dead-letter topics, a consumer subscription per
        // route), so the emulator stores every message as it would for a real subscriber; the
        // baseline's one topic gets one subscription for the same reason.
        await createLocalTopology(pubsub, { topicPrefix: DEFAULT_TOPIC_PREFIX });
        for (const name of [BASELINE_TOPIC, LEAN_TOPIC]) {
          const [topic] = await pubsub.topic(name).get({ autoCreate: true });
          await topic.subscription(`${name}-local`).get({ autoCreate: true });
        }
        const purge = async (): Promise<void> => {
          // Acknowledge everything published so far, so the emulator's backlog does not grow across points.
          const [subscriptions] = await pubsub.getSubscriptions();
          const now = new Date();
          await Promise.all(subscriptions.map((subscription) => subscription.seek(now)));
        };
        if (phases.has('emulator')) results.http.emulator = await httpPhase(backend, contestants, purge);
        if (phases.has('cold') && deployed) {
          results.coldStart = {
            archive: { files: deployed.files, bytes: deployed.bytes, installSeconds: deployed.installSeconds },
            contestants: await coldPhase(deployed, backend.host),
          };
          await purge();
        }
        if (phases.has('memory')) results.memory = await memoryPhase(contestants.ours, backend.host, purge);
      } finally {
        await pubsub.close();
        await backend.stop();
      }
    }
  } finally {
    deployed?.remove();
  }

  results.loadAverage.after = loadavg().map(round2);
  results.targets = evaluateTargets(results);
  results.notes.push(`Run took ${Math.round((performance.now() - started) / 1000)} s.`);
  process.stdout.write(`${renderRun(results)}\n`);

  if (args.output !== undefined) writeFileSync(args.output, `${JSON.stringify(results, null, 2)}\n`);
  if (!recorded) {
    log('not recorded in bench/results.json: only a full run of every phase enters the history');
    return;
  }
  const resultsFile = join(repoRoot, 'bench', 'results.json');
  const history: ResultsHistory = existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as ResultsHistory)
    : { history: [] };
  history.history.push(results);
  writeFileSync(resultsFile, `${JSON.stringify(history, null, 2)}\n`);
  const readmeFile = join(repoRoot, 'bench', 'README.md');
  writeFileSync(
    readmeFile,
    await formatted(readmeFile, withFigures(readFileSync(readmeFile, 'utf8'), results, history.history)),
  );
  if (results.http.emulator) writeFileSync(join(repoRoot, 'bench', 'chart.svg'), chartFor(results));
  const deployFile = join(repoRoot, 'docs', 'deploy.md');
  writeFileSync(deployFile, await formatted(deployFile, withCosts(readFileSync(deployFile, 'utf8'), results)));
  log(
    'appended the run to bench/results.json; rewrote the figures in bench/README.md, bench/chart.svg ' +
      'and the cost table in docs/deploy.md',
  );
}

/** Markdown as `npm run format` leaves it, so `npm run lint` passes after a recorded run. */
async function formatted(file: string, markdown: string): Promise<string> {
  const prettier = await import('prettier');
  return prettier.format(markdown, { ...(await prettier.resolveConfig(file)), filepath: file });
}

const COLORS: Record<ContestantKey, string> = {
  ours: '#1a7f37',
  lean: '#0969da',
  baseline: '#cf222e',
  bare: '#8c959f',
};

function chartFor(results: RunResults): string {
  const emulator = results.http!.emulator!;
  const figure = (key: ContestantKey, connections: number) =>
    emulator.figures.find((f) => f.contestant === key && f.connections === connections);
  return renderChart({
    title: 'Webhook deliveries through the real Pub/Sub emulator',
    subtitle:
      `${results.machine.cores} × ${results.machine.cpuModel}, Node ${results.machine.node}, ` +
      `median of ${emulator.runs} runs of ${SETTINGS.httpSeconds} s per point, ${results.date.slice(0, 10)}; ` +
      'load generator and emulator on the same cores',
    connections: CONNECTIONS,
    series: HTTP_CONTESTANTS.emulator.map((key) => ({
      label: figure(key, 1)?.label ?? key,
      color: COLORS[key],
      throughput: CONNECTIONS.map((c) => figure(key, c)?.requestsPerSecond.median ?? Number.NaN),
      p99Ms: CONNECTIONS.map((c) => figure(key, c)?.p99Ms.median ?? Number.NaN),
    })),
  });
}

await main();
