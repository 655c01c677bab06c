// The bench's judgement, on hand-made runs: targets against the lean receiver, the retired ones kept as
// information, and the cost of a million deliveries from a capacity figure and the list prices.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costsPerMillion, PRICES } from '../../bench/costs.ts';
import type { LoadPoint } from '../../bench/load.ts';
import { withCosts } from '../../bench/report.ts';
import {
  compare,
  evaluateTargets,
  figuresOf,
  type CapacityResults,
  type HttpSeries,
  type RunResults,
} from '../../bench/results.ts';
import type { ContestantKey } from '../../bench/processes.ts';

function point(connections: number, cpuMsPerRequest: number, p99Ms: number, requestsPerSecond = 1000): LoadPoint {
  return {
    connections,
    durationSeconds: 5,
    requests: requestsPerSecond * 5,
    requestsPerSecond,
    p50Ms: p99Ms / 4,
    p99Ms,
    cpuMsPerRequest,
    cpuCores: 0.5,
    peakRssMiB: 150,
    non2xx: 0,
    errors: 0,
  };
}

/** An instant-backend run at 16 connections only, one run per contestant. */
function run(cpu: Record<'ours' | 'lean' | 'bare', number>, p99: Record<'ours' | 'lean' | 'bare', number>): RunResults {
  const series: HttpSeries[] = (['ours', 'lean', 'bare'] as ContestantKey[]).map((key) => ({
    contestant: key,
    label: key,
    connections: 16,
    points: [point(16, cpu[key as 'ours'], p99[key as 'ours'])],
  }));
  return {
    date: '2026-12-07T04:00:00.000Z',
    mode: 'full',
    machine: { cpuModel: 'test', cores: 2, memoryGiB: 1, node: 'v22', platform: 'linux x64' },
    loadAverage: { before: [0.5], after: [0.5] },
    settings: {},
    http: {
      instant: {
        backend: 'instant',
        runs: 1,
        series,
        figures: series.map(figuresOf),
        comparisons: [compare(series, 16)],
      },
    },
    targets: [],
    notes: [],
  };
}

const byName = (results: RunResults) => new Map(evaluateTargets(results).map((t) => [t.name, t]));

test('CPU per delivery is judged against the lean receiver, at most 1.25x', () => {
  const within = byName(run({ ours: 0.6, lean: 0.5, bare: 0.2 }, { ours: 20, lean: 18, bare: 10 }));
  assert.equal(within.get('instant_16conn_cpu_per_delivery_vs_lean')?.pass, true, '1.2x passes');
  const beyond = byName(run({ ours: 0.65, lean: 0.5, bare: 0.2 }, { ours: 20, lean: 18, bare: 10 }));
  assert.equal(beyond.get('instant_16conn_cpu_per_delivery_vs_lean')?.pass, false, '1.3x fails');
  assert.equal(beyond.get('instant_16conn_cpu_per_delivery_vs_lean')?.ratio, 1.3);
});

test('added p99 over the lean receiver at 16 connections is at most 3 ms', () => {
  assert.equal(
    byName(run({ ours: 0.6, lean: 0.5, bare: 0.2 }, { ours: 21, lean: 18, bare: 10 })).get(
      'instant_16conn_added_p99_over_lean',
    )?.pass,
    true,
  );
  assert.equal(
    byName(run({ ours: 0.6, lean: 0.5, bare: 0.2 }, { ours: 21.5, lean: 18, bare: 10 })).get(
      'instant_16conn_added_p99_over_lean',
    )?.pass,
    false,
  );
});

test('the targets against the bare function are kept as information, with the lean receiver’s ratio', () => {
  const targets = byName(run({ ours: 0.6, lean: 0.5, bare: 0.2 }, { ours: 20, lean: 18, bare: 10 }));
  const retired = targets.get('retired_instant_16conn_cpu_vs_bare');
  assert.equal(retired?.pass, null, 'neither pass nor fail');
  assert.equal(retired?.ratio, 2.5, 'the lean receiver against the bare function');
  assert.match(retired?.measured ?? '', /\(l\) 2\.5x \(b\), \(a\) 3x \(b\)/);
  assert.equal(targets.get('retired_instant_16conn_added_p99_over_bare')?.pass, null);
  assert.ok(!targets.has('instant_16conn_cpu_per_delivery_vs_bare'), 'the old target is gone');
});

const capacity: CapacityResults = {
  connections: 80,
  core: 1,
  nodeOptions: '--max-old-space-size=128',
  point: point(80, 1, 200, 500),
  logBytesPerDelivery: 700,
};

test('a million deliveries: instance time from the sustained rate, the 100 ms minimum one at a time', () => {
  const rows = new Map(costsPerMillion(capacity).map((r) => [r.item, r]));
  // 1,000,000 / 500 per second = 2,000 s of one vCPU; one at a time, 100,000 s.
  assert.equal(rows.get('Cloud Run CPU (1 vCPU)')?.steady, 2000 * PRICES.cloudRun.perVcpuSecond);
  assert.equal(rows.get('Cloud Run CPU (1 vCPU)')?.sporadic, 100_000 * PRICES.cloudRun.perVcpuSecond);
  assert.equal(rows.get('Cloud Run memory (512 MiB)')?.steady, 2000 * 0.5 * PRICES.cloudRun.perGibSecond);
  assert.equal(rows.get('Cloud Run requests')?.steady, 0.4);
  // 1,000 bytes billed per publish: 10^9 bytes at $40 per TiB.
  assert.equal(rows.get('Pub/Sub publish')?.steady, Math.round(((1e9 * 40) / 2 ** 40) * 1e4) / 1e4);
  // 700 bytes of log per delivery: 7 * 10^8 bytes at $0.50 per GiB.
  assert.equal(
    rows.get('Cloud Logging, one line per delivery')?.steady,
    Math.round(((7e8 * 0.5) / 2 ** 30) * 1e4) / 1e4,
  );
  assert.equal(rows.get('Secret Manager access')?.sporadic, null, 'depends on spacing, not on deliveries');
});

test('the cost table goes between the markers of docs/deploy.md, and nowhere without them', () => {
  const results = { ...run({ ours: 1, lean: 1, bare: 1 }, { ours: 1, lean: 1, bare: 1 }), capacity };
  const doc = [
    'before',
    '<!-- bench:costs:start (written by npm run bench; do not edit by hand) -->',
    'old',
    '<!-- bench:costs:end -->',
    'after',
    '',
  ].join('\n');
  const written = withCosts(doc, results);
  assert.match(written, /sustained \*\*500 deliveries per second\*\* with p99 200 ms/);
  assert.ok(!written.includes('\nold\n'), 'the previous table is replaced');
  assert.ok(written.startsWith('before\n') && written.endsWith('after\n'));
  assert.equal(withCosts('no markers here\n', results), 'no markers here\n');
});
