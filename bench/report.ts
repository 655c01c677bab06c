/**
 * Markdown tables for one bench run: printed at the end of `npm run bench`, and written into
 * bench/README.md between the `bench:figures` markers after a full run, so the README's figures
 * are the ones in bench/results.json.
 */
import { BACKEND_LABELS, type BackendKey } from './backends.ts';
import { costsPerMillion, INSTANCE, PRICES, PRICES_READ_ON } from './costs.ts';
import type { HttpFigures, ResultsHistory, RunResults } from './results.ts';
import { formatSpread, type Spread } from './stats.ts';

const row = (cells: ReadonlyArray<string | number>): string => `| ${cells.join(' | ')} |`;
const signed = (s: Spread, unit: string): string => {
  const f = (n: number): string => `${n >= 0 ? '+' : ''}${n}`;
  return `${f(s.median)}${unit}${s.min === s.max ? '' : ` (${f(s.min)} to ${f(s.max)})`}`;
};

function runLine(results: RunResults): string {
  const m = results.machine;
  return (
    `${results.mode === 'full' ? 'Full' : 'Quick'} run of ${results.date.slice(0, 16).replace('T', ' ')} UTC ` +
    `on ${m.cores} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}; ` +
    `load average ${results.loadAverage.before[0]} before, ${results.loadAverage.after[0]} after.`
  );
}

function httpTable(results: RunResults, backend: BackendKey): string[] {
  const http = results.http?.[backend];
  if (!http) return [];
  const lines = [
    `**${BACKEND_LABELS[backend]}**, median of ${http.runs} run${http.runs === 1 ? '' : 's'} (range in brackets):`,
    '',
    row([
      'contestant',
      'conns',
      'req/s',
      'p50 ms',
      'p99 ms',
      'CPU ms / request',
      'backend CPU ms / request',
      'peak RSS MiB',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  const order = ['ours', 'lean', 'baseline', 'bare'];
  const sorted = [...http.figures].sort(
    (a, b) => order.indexOf(a.contestant) - order.indexOf(b.contestant) || a.connections - b.connections,
  );
  for (const f of sorted) lines.push(figureRow(f));
  return lines;
}

function figureRow(f: HttpFigures): string {
  return row([
    f.label,
    f.connections,
    formatSpread(f.requestsPerSecond, '', true),
    formatSpread(f.p50Ms),
    formatSpread(f.p99Ms),
    formatSpread(f.cpuMsPerRequest),
    f.backendCpuMsPerRequest ? formatSpread(f.backendCpuMsPerRequest) : '',
    formatSpread(f.peakRssMiB),
  ]);
}

function comparisonTable(results: RunResults): string[] {
  const instant = results.http?.instant;
  if (!instant) return [];
  const lines = [
    'On the instant backend, run by run (median, range): this receiver (a) against the lean same-work receiver (l), ' +
      'and both against the bare function (b):',
    '',
    row([
      'conns',
      'CPU per delivery, (a) ÷ (l)',
      'added p50 over (l)',
      'added p99 over (l)',
      'CPU, (a) ÷ (b)',
      'CPU, (l) ÷ (b)',
      'added p99, (l) over (b)',
    ]),
    row(['---:', '---:', '---:', '---:', '---:', '---:', '---:']),
  ];
  const cell = (s: Spread | undefined, f: (s: Spread) => string): string => (s ? f(s) : '');
  for (const c of instant.comparisons) {
    lines.push(
      row([
        c.connections,
        cell(c.cpuPerDeliveryVsLean, (s) => formatSpread(s, '×')),
        cell(c.addedP50OverLeanMs, (s) => signed(s, ' ms')),
        cell(c.addedP99OverLeanMs, (s) => signed(s, ' ms')),
        cell(c.cpuPerDeliveryVsBare, (s) => formatSpread(s, '×')),
        cell(c.leanCpuVsBare, (s) => formatSpread(s, '×')),
        cell(c.leanAddedP99Ms, (s) => signed(s, ' ms')),
      ]),
    );
  }
  return lines;
}

function coldTable(results: RunResults): string[] {
  const cold = results.coldStart;
  if (!cold) return [];
  const lines = [
    `Cold start, median of ${Object.values(cold.contestants)[0]?.runs.length ?? 0} ` +
      'interleaved runs (range in brackets):',
    '',
    row(['contestant', 'spawn → listening', 'spawn → first 2xx', 'CPU used by then']),
    row(['---', '---:', '---:', '---:']),
  ];
  for (const c of Object.values(cold.contestants)) {
    if (!c) continue;
    lines.push(
      row([
        c.label,
        formatSpread(c.listeningMs, ' ms'),
        formatSpread(c.firstSuccessMs, ' ms'),
        formatSpread(c.cpuMs, ' ms'),
      ]),
    );
  }
  return lines;
}

function microTable(results: RunResults): string[] {
  const micro = results.micro;
  if (!micro) return [];
  const lines = [
    row(['Verification (one core)', 'this receiver', '`standardwebhooks`', '`svix`']),
    row(['---', '---:', '---:', '---:']),
  ];
  for (const h of micro.hmac) {
    lines.push(
      row([
        `HMAC \`v1\`, ${h.bodyBytes / 1024} KiB body, 3 secrets, match on the last`,
        `${h.ours.opsPerSecond.toLocaleString('en-US')}/s`,
        `${h.standardwebhooks.opsPerSecond.toLocaleString('en-US')}/s (${h.ratioVsStandardwebhooks}× slower)`,
        `${h.svix.opsPerSecond.toLocaleString('en-US')}/s`,
      ]),
    );
  }
  const j = micro.jwt;
  lines.push(
    row([
      'RS256 JWT (`verifyJwtDelivery`, local key set)',
      `${j.ours.opsPerSecond.toLocaleString('en-US')}/s`,
      `bare \`crypto.verify\`: ${j.bareCryptoVerify.opsPerSecond.toLocaleString('en-US')}/s`,
      '',
    ]),
  );
  return lines;
}

function memoryLines(results: RunResults): string[] {
  const memory = results.memory;
  if (!memory) return [];
  const checkpoints = memory.checkpoints
    .map((c) => `${c.rssMiB} MiB after ${c.deliveries.toLocaleString('en-US')} deliveries`)
    .join(', ');
  const growth = `${memory.growthPercent >= 0 ? '+' : ''}${memory.growthPercent} %`;
  const lines = [`Memory at ${memory.connections} connections (emulator): RSS ${checkpoints} (${growth}).`];
  const capped = memory.cappedHeap64;
  if (capped)
    lines.push(
      `With \`NODE_OPTIONS="${capped.nodeOptions}"\` at 64 connections: ` +
        `${capped.point.requestsPerSecond.toLocaleString('en-US')} req/s, ` +
        `p99 ${capped.point.p99Ms} ms, peak RSS ${capped.point.peakRssMiB} MiB.`,
    );
  return lines;
}

function capacityLines(results: RunResults): string[] {
  const capacity = results.capacity;
  if (!capacity) return [];
  const p = capacity.point;
  return [
    `One instance as deployed (one core, ${capacity.connections} connections, ` +
      `\`NODE_OPTIONS="${capacity.nodeOptions}"\`, instant backend): ` +
      `${p.requestsPerSecond.toLocaleString('en-US')} deliveries/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms, ` +
      `${p.cpuMsPerRequest} ms CPU per delivery, peak RSS ${p.peakRssMiB} MiB, ` +
      `${capacity.logBytesPerDelivery} bytes of log per delivery.`,
  ];
}

const dollars = (n: number): string => (n === 0 ? '$0' : n < 0.01 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`);

/** The cost table of docs/deploy.md for one run with capacity figures. */
export function renderCosts(results: RunResults): string[] {
  const capacity = results.capacity;
  if (!capacity) return [];
  const p = capacity.point;
  const rows = costsPerMillion(capacity);
  const total = (pick: (r: (typeof rows)[number]) => number) => rows.reduce((sum, r) => sum + pick(r), 0);
  const m = results.machine;
  return [
    `Measured by the ${results.mode} bench run of ${results.date.slice(0, 10)} (${m.cores} × ${m.cpuModel}, ` +
      `load average ${results.loadAverage.before[0]} before it): one instance of the receiver as deployed ` +
      `(${INSTANCE.vcpu} vCPU, ${INSTANCE.memoryGib * 1024} MiB, concurrency ${capacity.connections}) sustained ` +
      `**${p.requestsPerSecond.toLocaleString('en-US')} deliveries per second** with p99 ${p.p99Ms} ms ` +
      `(p50 ${p.p50Ms} ms; ${p.cpuMsPerRequest} ms of CPU per delivery)` +
      (p.p99Ms < 1000 ? '.' : ': p99 over one second, so that rate is past what one instance sustains.') +
      " A Cloud Run vCPU is not this machine's core: take the rate as an order of magnitude and watch the " +
      "dashboard's latency for yours.",
    '',
    row([
      'a million deliveries',
      `steady: one instance busy at ${p.requestsPerSecond}/s`,
      'sporadic: one at a time',
      'basis',
    ]),
    row(['---', '---:', '---:', '---']),
    ...rows.map((r) => row([r.item, dollars(r.steady), r.sporadic === null ? '—' : dollars(r.sporadic), r.basis])),
    row([
      '**total**',
      `**${dollars(total((r) => r.steady))}**`,
      `**${dollars(total((r) => r.sporadic ?? 0))}**`,
      'with one consumer subscription',
    ]),
    '',
    'List prices for Tier 1 regions (the default `us-central1`) with request-based billing, ' +
      `read on ${PRICES_READ_ON} ` +
      `from [Cloud Run pricing](${PRICES.cloudRun.url}), [Pub/Sub pricing](${PRICES.pubsub.url}), ` +
      `[Secret Manager pricing](${PRICES.secretManager.url}) and [Cloud Logging pricing](${PRICES.logging.url}), ` +
      'before the monthly free tiers (Cloud Run: 180,000 vCPU-seconds, 360,000 GiB-seconds and 2 million requests; ' +
      'Pub/Sub: 10 GiB; Secret Manager: 10,000 accesses; Logging: 50 GiB per project). Cloud Run bills an ' +
      "instance's time while it serves at least one request, rounded up to 100 ms: a busy instance shares that " +
      'time among its concurrent deliveries, a delivery alone pays 100 ms. Cloud Run also writes a request log ' +
      'entry per request, billed like any log; an exclusion filter drops it.',
  ];
}

function targetTable(results: RunResults): string[] {
  if (results.targets.length === 0) return [];
  return [
    row(['target', 'goal', 'measured (medians)', 'ratio', 'result']),
    row(['---', '---', '---', '---:', '---']),
    ...results.targets.map((t) =>
      row([t.name, t.goal, t.measured, t.ratio ?? '', t.pass === null ? 'info' : t.pass ? 'pass' : '**FAIL**']),
    ),
  ];
}

/** Every table of one run, as Markdown. */
export function renderRun(results: RunResults): string {
  const sections = [
    [runLine(results)],
    targetTable(results),
    httpTable(results, 'instant'),
    comparisonTable(results),
    httpTable(results, 'emulator'),
    coldTable(results),
    microTable(results),
    memoryLines(results),
    capacityLines(results),
    renderCosts(results),
  ].filter((s) => s.length > 0);
  return sections.map((s) => s.join('\n')).join('\n\n');
}

/** One line per full run in the history: when, how loaded, and how the targets fared. */
export function renderHistory(history: ResultsHistory['history']): string {
  const lines = [row(['date', 'load before', 'targets passed', 'failed']), row(['---', '---:', '---:', '---'])];
  for (const entry of history) {
    const run = entry as Partial<RunResults>;
    const targets = run.targets ?? [];
    const failed = targets.filter((t) => t.pass === false).map((t) => t.name);
    lines.push(
      row([
        String(run.date ?? '').slice(0, 10),
        run.loadAverage?.before[0] ?? '',
        `${targets.filter((t) => t.pass === true).length} of ${targets.length}`,
        failed.join(', '),
      ]),
    );
  }
  return lines.join('\n');
}

const START = '<!-- bench:figures:start (written by npm run bench; do not edit by hand) -->';
const END = '<!-- bench:figures:end -->';

/** The README with the generated section replaced; unchanged when it has no markers. */
export function withFigures(readme: string, results: RunResults, history: ResultsHistory['history']): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start === -1 || end === -1) return readme;
  const body =
    `${renderRun(results)}\n\nEvery full run so far ` +
    `([\`results.json\`](results.json)):\n\n${renderHistory(history)}`;
  return `${readme.slice(0, start + START.length)}\n\n${body}\n\n${readme.slice(end)}`;
}

export const FIGURE_MARKERS = { START, END };

const COSTS_START = '<!-- bench:costs:start (written by npm run bench; do not edit by hand) -->';
const COSTS_END = '<!-- bench:costs:end -->';

/** docs/deploy.md with its cost table replaced by this run's; unchanged without markers or capacity figures. */
export function withCosts(doc: string, results: RunResults): string {
  const start = doc.indexOf(COSTS_START);
  const end = doc.indexOf(COSTS_END);
  const lines = renderCosts(results);
  if (start === -1 || end === -1 || lines.length === 0) return doc;
  return `${doc.slice(0, start + COSTS_START.length)}\n\n${lines.join('\n')}\n\n${doc.slice(end)}`;
}
