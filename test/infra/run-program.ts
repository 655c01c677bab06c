/**
 * Runs the Pulumi program once against the Google Cloud model, in a process of its own (Pulumi's
 * mocks are per process, and a program runs once per `pulumi up`), and writes what happened:
 * every registration with its action, the model's violations, the errors the program failed with,
 * and the state to hand the next run. `runProgram` is the caller's side; the file is also the
 * child's entry point.
 */
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RawConfig } from '../../infra/stack-config.ts';
import type { ModelRecord, OrgPolicies, PriorResource } from './gcp-model.ts';

export interface ProgramRun {
  /**
   * `stack`: the whole deployment (infra/index.ts's GeminiWebhooks); `subscription`: one
   * EventSubscription on its own.
   */
  program: 'stack' | 'subscription';
  config: RawConfig;
  /** The state of the previous run; a fresh project when absent. */
  prior?: PriorResource[];
  /** APIs the project had before the run (the model's default: docs/deploy.md's prerequisites). */
  enabledApis?: readonly string[];
  /** The organisation's policies, when it has secure-by-default ones. */
  orgPolicies?: OrgPolicies;
  /**
   * A copy of the package to run instead of this checkout (its `infra/` and `functions/`), for the
   * mutation suite. Default: this repository.
   */
  root?: string;
}

export interface ProgramResult {
  records: ModelRecord[];
  /** What the model refused, as Google would have. */
  violations: string[];
  /** Distinct errors the program failed with, first line of each (as `pulumi up` prints a RunError). */
  errors: string[];
  state: PriorResource[];
}

const SELF = fileURLToPath(import.meta.url);

/** The same, without blocking: several runs may go side by side (each is a process of its own). */
export async function runProgramAsync(run: ProgramRun): Promise<ProgramResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-program-'));
  try {
    const spec = path.join(dir, 'run.json');
    const out = path.join(dir, 'result.json');
    writeFileSync(spec, JSON.stringify(run));
    const child = spawn(process.execPath, [SELF, spec, out], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code, signal] = (await once(child, 'close')) as [number | null, string | null];
    if (code !== 0) throw new Error(`the program run failed (${code ?? signal}):\n${output}`);
    return JSON.parse(readFileSync(out, 'utf8')) as ProgramResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function runProgram(run: ProgramRun): ProgramResult {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-program-'));
  try {
    const spec = path.join(dir, 'run.json');
    const out = path.join(dir, 'result.json');
    writeFileSync(spec, JSON.stringify(run));
    const child = spawnSync(process.execPath, [SELF, spec, out], { encoding: 'utf8', timeout: 120_000 });
    if (child.status !== 0)
      throw new Error(`the program run failed (${child.status ?? child.signal}):\n${child.stdout}\n${child.stderr}`);
    return JSON.parse(readFileSync(out, 'utf8')) as ProgramResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(specPath: string, outPath: string): Promise<void> {
  const run = JSON.parse(readFileSync(specPath, 'utf8')) as ProgramRun;
  const errors = new Set<string>();
  // What the Pulumi language host does with a failed registration or a RunError: report it, once.
  const report = (error: unknown): void => {
    errors.add(String(error instanceof Error ? error.message : error).split('\n')[0]!);
  };
  process.on('unhandledRejection', report);
  process.on('uncaughtException', report);

  const pulumi = await import('@pulumi/pulumi');
  const { installGcpModel } = await import('./gcp-model.ts');
  const { DEPLOYMENT, PROJECT } = await import('./mocks.ts');
  const root = pathToFileURL(`${run.root ?? path.resolve(path.dirname(SELF), '..', '..')}/`);
  const program = (file: string): string => new URL(file, root).href;
  const { parseStackConfig } = (await import(
    program('infra/stack-config.ts')
  )) as typeof import('../../infra/stack-config.ts');
  const { args, settings } = parseStackConfig(run.config);
  const { planRoutes } = (await import(
    program('functions/topology.ts')
  )) as typeof import('../../functions/topology.ts');
  // EventSubscription on its own subscribes to the topics of a deployment made by another stack.
  const existingTopics =
    run.program === 'subscription'
      ? planRoutes(settings.topicPrefix).flatMap((route) => [route.topic, route.deadLetterTopic])
      : [];
  const model = await installGcpModel({
    project: PROJECT,
    existingTopics,
    onViolation: 'record',
    ...(run.prior === undefined ? {} : { prior: run.prior }),
    ...(run.enabledApis === undefined ? {} : { enabledApis: run.enabledApis }),
    ...(run.orgPolicies === undefined ? {} : { orgPolicies: run.orgPolicies }),
  });
  if (run.program === 'stack') {
    const { GeminiWebhooks } = (await import(
      program('infra/components/gemini-webhooks.ts')
    )) as typeof import('../../infra/components/gemini-webhooks.ts');
    new GeminiWebhooks(DEPLOYMENT, args);
  } else {
    const { EventSubscription } = (await import(
      program('infra/components/event-subscription.ts')
    )) as typeof import('../../infra/components/event-subscription.ts');
    for (const consumer of args.subscriptions ?? []) {
      new EventSubscription(consumer.name, {
        project: args.project,
        topicPrefix: args.topicPrefix ?? 'gemini',
        consumer: consumer.name,
        eventTypes: consumer.eventTypes,
        ...(consumer.push === undefined ? {} : { push: consumer.push }),
        ...(consumer.filter === undefined ? {} : { filter: consumer.filter }),
      });
    }
  }
  // Every registration and output registration has been answered once the RPC queue drains.
  await pulumi.runtime.disconnect();
  await new Promise((done) => setImmediate(done));
  model.finish();
  const result: ProgramResult = {
    records: model.records,
    violations: model.violations,
    errors: [...errors],
    state: model.state(),
  };
  writeFileSync(outPath, JSON.stringify(result));
}

if (process.argv[1] === SELF) {
  const [specPath, outPath] = process.argv.slice(2);
  if (specPath === undefined || outPath === undefined)
    throw new Error('usage: node run-program.ts <run.json> <result.json>');
  await main(specPath, outPath);
}
