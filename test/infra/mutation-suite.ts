/**
 * The strength of the Google Cloud model, tested: each mutation of mutations.ts is applied to a copy
 * of the program, the copy is run against the model the way first-deploy.test.ts runs the real one,
 * and the run must violate the mutation's rule. The unmutated program must pass each run first, so
 * that a violation is the mutation's doing; and every rule of the model must have a mutation, since a
 * rule nothing can make fail guards nothing. `npm run test:mutations`.
 *
 * Pulumi's mocks are per process and a program runs once per process, so each run is a process of
 * its own; two run side by side.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MODEL_APIS, RULES, type OrgPolicies, type PriorResource } from './gcp-model.ts';
import { fixtureConfig, RECEIVER_SECRET } from './mocks.ts';
import { MUTATIONS, type Mutation, type Scenario } from './mutations.ts';
import { runProgramAsync, type ProgramResult, type ProgramRun } from './run-program.ts';

const REPO = path.resolve(import.meta.dirname, '..', '..');
// With the receiver secret, so that its secret, version and grant meet every rule (first-deploy.test.ts
// keeps the fixture without it: its recorded pre-component state has none).
const FULL = fixtureConfig({ jwtReceiverSecret: RECEIVER_SECRET });
const ORG_POLICIES: OrgPolicies = {
  domainRestrictedSharing: true,
  allowedIngress: ['ALLOW_INTERNAL_AND_GCLB'],
  resourceLocations: ['europe-west1'],
};

/** The consumers of FULL with the analytics consumer's filter changed. */
function withNewFilter(): string {
  const consumers = JSON.parse(FULL['subscriptions'] ?? '[]') as Record<string, unknown>[];
  return JSON.stringify(
    consumers.map((c) =>
      c['name'] === 'analytics' ? { ...c, filter: 'attributes.user_metadata_tenant = "globex"' } : c,
    ),
  );
}

/** Each scenario as a run; the updates start from the state a fresh deploy of the unmutated program left. */
function scenarioRun(scenario: Scenario, deployed: PriorResource[]): Omit<ProgramRun, 'root'> {
  switch (scenario) {
    case 'fresh-full':
      return { program: 'stack', config: FULL };
    case 'fresh-minimal':
      return {
        program: 'stack',
        config: { 'gcp:project': FULL['gcp:project']!, enableApis: 'false' },
        enabledApis: MODEL_APIS,
      };
    case 'prefix-change':
      return { program: 'stack', config: { ...FULL, topicPrefix: 'acme' }, prior: deployed };
    case 'filter-change':
      return { program: 'stack', config: { ...FULL, subscriptions: withNewFilter() }, prior: deployed };
    case 'subscription-alone':
      return { program: 'subscription', config: FULL, enabledApis: MODEL_APIS };
    case 'org-policies':
      return {
        program: 'stack',
        config: { ...FULL, publicInvoker: 'none', ingress: 'internal-and-gclb', secretReplication: 'europe-west1' },
        orgPolicies: ORG_POLICIES,
      };
  }
}

/** A copy of the package's program (infra/, functions/ and what they read), with the mutation's edits. */
function mutant(mutation: Mutation): string {
  const root = mkdtempSync(path.join(tmpdir(), `gw-mutant-${mutation.id}-`));
  for (const entry of ['infra', 'functions', 'package.json', 'package-lock.json'])
    cpSync(path.join(REPO, entry), path.join(root, entry), { recursive: true });
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  for (const edit of mutation.edits) {
    const file = path.join(root, edit.file);
    const text = readFileSync(file, 'utf8');
    const count = text.split(edit.find).length - 1;
    if (count !== 1)
      throw new Error(`mutation ${mutation.id}: ${edit.file} has ${count} occurrences of ${JSON.stringify(edit.find)}`);
    writeFileSync(
      file,
      text.replace(edit.find, () => edit.replace),
    );
  }
  return root;
}

/** Runs `jobs` with at most `width` at a time. */
async function pooled<T>(jobs: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const index = next++;
        results[index] = await jobs[index]!();
      }
    }),
  );
  return results;
}

const SCENARIOS: Scenario[] = [
  'fresh-full',
  'fresh-minimal',
  'prefix-change',
  'filter-change',
  'subscription-alone',
  'org-policies',
];
const started = Date.now();
const baseline = new Map<Scenario, ProgramResult>();
const mutated = new Map<string, ProgramResult>();
const roots: string[] = [];

before(async () => {
  const deployed = (await runProgramAsync(scenarioRun('fresh-full', []))).state;
  const baselines = await pooled(
    SCENARIOS.map((scenario) => () => runProgramAsync(scenarioRun(scenario, deployed))),
    2,
  );
  SCENARIOS.forEach((scenario, i) => baseline.set(scenario, baselines[i]!));
  const results = await pooled(
    MUTATIONS.map((mutation) => () => {
      const root = mutant(mutation);
      roots.push(root);
      return runProgramAsync({ ...scenarioRun(mutation.scenario, deployed), root });
    }),
    2,
  );
  MUTATIONS.forEach((mutation, i) => mutated.set(mutation.id, results[i]!));
});

after(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  process.stdout.write(
    `# mutation suite: ${MUTATIONS.length} mutations in ${((Date.now() - started) / 1000).toFixed(0)} s\n`,
  );
});

describe('the unmutated program', () => {
  for (const scenario of SCENARIOS) {
    it(`passes every rule: ${scenario}`, () => {
      assert.deepEqual(baseline.get(scenario)!.violations, []);
    });
  }
});

describe('each mutation', () => {
  for (const mutation of MUTATIONS) {
    it(`${mutation.id}: ${mutation.mistake}, fails [${mutation.rule}]`, () => {
      const { violations } = mutated.get(mutation.id)!;
      assert.ok(
        violations.some((v) => v.startsWith(`[${mutation.rule}] `)),
        `no [${mutation.rule}] violation; the run gave:\n${violations.join('\n') || '(none)'}`,
      );
    });
  }
});

describe('the rules', () => {
  it('each have a mutation that makes them fail', () => {
    const covered = new Set(MUTATIONS.map((m) => m.rule));
    assert.deepEqual(
      Object.keys(RULES).filter((rule) => !covered.has(rule as never)),
      [],
      'rules no mutation shows',
    );
  });

  it('include the six mistakes issue 18 found passing', () => {
    for (const id of [
      'service-identity-before-apis',
      'build-sources-grant-viewer',
      'log-metrics-wait-zero',
      'run-api-dropped',
      'consumers-not-after-topics',
      'consumer-grant-hard-coded-agent',
    ])
      assert.ok(
        MUTATIONS.some((m) => m.id === id),
        id,
      );
  });
});
