/**
 * The reliability suite's figures. Each test file records its share (`recordFigures`) in a
 * per-run scratch folder; run as a script after the suite, this module adds them up, prints them
 * last, keeps them in `.local/reliability-figures.json` (ignored by git, so `npm test` leaves the
 * tree as it was), and exits non-zero if an acknowledged delivery was lost or a forged one accepted.
 * `npm run figures:record` copies the last run's figures into the committed
 * `test/reliability/figures.json`, which test/reliability/README.md quotes.
 *
 *   node test/reliability/figures.ts --reset   # before the suite: forget an earlier run's shares
 *   node test/reliability/figures.ts           # after the suite: add up, print, keep, check
 *   node test/reliability/figures.ts --record  # publish the last run's figures
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Figures {
  /** Distinct deliveries (webhook ids) the simulated sender tried to deliver. */
  deliveriesSent: number;
  /** HTTP requests the sender made for them, retries included. */
  attempts: number;
  /** Deliveries answered 2xx. */
  acknowledged: number;
  /** Deliveries sent to a receiver whose dependency never came back: correctly never acknowledged. */
  neverAcknowledgedByDesign: number;
  /** Deliveries answered 2xx that Pub/Sub did not hold byte for byte. Must be 0. */
  acknowledgedButLost: number;
  /** Requests that were not correctly signed but were answered 2xx or reached Pub/Sub. Must be 0. */
  forgedAccepted: number;
  /** Forged or malformed requests sent (hostile corpus cases plus property-based runs). */
  hostileCasesTried: number;
  /** Messages in Pub/Sub beyond the first for a webhook id (allowed: delivery is at least once). */
  duplicatesSeen: number;
  /** Highest resident memory of the receiver seen under load, in MiB. */
  peakReceiverRssMiB: number;
}

const ZERO: Figures = {
  deliveriesSent: 0,
  attempts: 0,
  acknowledged: 0,
  neverAcknowledgedByDesign: 0,
  acknowledgedButLost: 0,
  forgedAccepted: 0,
  hostileCasesTried: 0,
  duplicatesSeen: 0,
  peakReceiverRssMiB: 0,
};

const here = dirname(fileURLToPath(import.meta.url));
export const FIGURES_FILE = join(here, 'figures.json');
const LAST_RUN_FILE = join(here, '..', '..', '.local', 'reliability-figures.json');
const README_FILE = join(here, 'README.md');

const count = (n: number): string => n.toLocaleString('en-US');

/** The README with its figures table replaced by this run's, between its markers. */
export function withFiguresTable(readme: string, run: Figures & { recordedAt: string; node: string }): string {
  const start = '<!-- figures (npm run figures:record) -->';
  const end = '<!-- /figures -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) throw new Error(`test/reliability/README.md has no region ${start} … ${end}`);
  const rows: [string, string][] = [
    ['deliveries sent (attempts, retries included)', `${count(run.deliveriesSent)} (${count(run.attempts)})`],
    ['acknowledged (2xx)', count(run.acknowledged)],
    ['never acknowledged, by design (a dependency kept down)', count(run.neverAcknowledgedByDesign)],
    ['**acknowledged but lost**', `**${count(run.acknowledgedButLost)}**`],
    ['**forged accepted**', `**${count(run.forgedAccepted)}**`],
    ['hostile cases tried (corpus, floods, property runs)', count(run.hostileCasesTried)],
    ['duplicates seen (same webhook id, same bytes; allowed, at least once)', count(run.duplicatesSeen)],
    ['peak receiver RSS under load', `${run.peakReceiverRssMiB} MiB`],
  ];
  const table = [
    `Figures from the run of ${run.recordedAt.slice(0, 10)} (Node ${run.node}; ` +
      `[\`figures.json\`](figures.json) has each scenario's):`,
    '',
    '<!-- prettier-ignore-start -->',
    '| figure | value |',
    '| --- | --- |',
    ...rows.map(([label, value]) => `| ${label} | ${value} |`),
    '<!-- prettier-ignore-end -->',
  ].join('\n');
  // Blank lines around the table so the written README is already in Prettier's style.
  return `${readme.slice(0, from + start.length)}\n\n${table}\n${readme.slice(to)}`;
}
// Per checkout, outside the repository: the shares are scratch, figures.json is the result.
const SHARES_DIR = join(
  tmpdir(),
  `gemini-webhooks-reliability-${createHash('sha256').update(here).digest('hex').slice(0, 12)}`,
);

/** Records one test file's (or scenario's) figures; a later call with the same name replaces it. */
export function recordFigures(name: string, figures: Partial<Figures>): void {
  mkdirSync(SHARES_DIR, { recursive: true });
  const file = join(SHARES_DIR, `${name.replace(/[^A-Za-z0-9_-]/g, '_')}.json`);
  writeFileSync(file, JSON.stringify({ name, recordedAt: new Date().toISOString(), figures: { ...ZERO, ...figures } }));
}

interface Share {
  name: string;
  recordedAt: string;
  figures: Figures;
}

function readShares(): Share[] {
  if (!existsSync(SHARES_DIR)) return [];
  return readdirSync(SHARES_DIR)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => JSON.parse(readFileSync(join(SHARES_DIR, file), 'utf8')) as Share);
}

export function totals(shares: readonly Share[]): Figures {
  const sum = { ...ZERO };
  for (const { figures } of shares) {
    for (const key of Object.keys(ZERO) as (keyof Figures)[]) {
      sum[key] = key === 'peakReceiverRssMiB' ? Math.max(sum[key], figures[key]) : sum[key] + figures[key];
    }
  }
  return sum;
}

function main(argv: readonly string[]): number {
  if (argv.includes('--reset')) {
    rmSync(SHARES_DIR, { recursive: true, force: true });
    return 0;
  }
  if (argv.includes('--record')) {
    if (!existsSync(LAST_RUN_FILE)) {
      console.error('reliability figures: no run to record yet (run `npm run test:reliability` first)');
      return 1;
    }
    const run = JSON.parse(readFileSync(LAST_RUN_FILE, 'utf8')) as Figures & { recordedAt: string; node: string };
    writeFileSync(FIGURES_FILE, readFileSync(LAST_RUN_FILE));
    writeFileSync(README_FILE, withFiguresTable(readFileSync(README_FILE, 'utf8'), run));
    console.log(`reliability figures: the run of ${run.recordedAt} is now in figures.json and README.md`);
    return 0;
  }
  const shares = readShares();
  if (shares.length === 0) {
    console.error('reliability figures: no test recorded any figures (run the suite first)');
    return 1;
  }
  const total = totals(shares);
  mkdirSync(dirname(LAST_RUN_FILE), { recursive: true });
  const run = {
    ...total,
    scenarios: Object.fromEntries(shares.map((s) => [s.name, s.figures])),
    node: process.version,
    recordedAt: new Date().toISOString(),
  };
  writeFileSync(LAST_RUN_FILE, `${JSON.stringify(run, null, 2)}\n`);
  const rows: [string, number | string][] = [
    ['deliveries sent', total.deliveriesSent],
    ['  attempts (retries included)', total.attempts],
    ['acknowledged (2xx)', total.acknowledged],
    ['  never acknowledged, by design', total.neverAcknowledgedByDesign],
    ['acknowledged but lost', total.acknowledgedButLost],
    ['forged accepted', total.forgedAccepted],
    ['hostile cases tried', total.hostileCasesTried],
    ['duplicates seen', total.duplicatesSeen],
    ['peak receiver RSS under load', `${total.peakReceiverRssMiB} MiB`],
  ];
  console.log('\nReliability figures');
  for (const [label, value] of rows) console.log(`  ${label.padEnd(32)} ${value}`);
  console.log(
    `  (${shares.length} scenarios; kept in .local/reliability-figures.json, ` +
      '`npm run figures:record` publishes them)',
  );
  if (total.acknowledgedButLost !== 0 || total.forgedAccepted !== 0) {
    console.error('reliability figures: an invariant is broken (acknowledged-but-lost and forged-accepted must be 0)');
    return 1;
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = main(process.argv.slice(2));
