/**
 * `node bench/profile.ts [--connections=16] [--seconds=8] [--contestant=ours] [--source=<entry module>]`: where a
 * contestant's CPU goes under load on the instant backend. The contestant runs under the
 * Functions Framework CLI with `--cpu-prof`; after a warm-up and a measured window it is stopped
 * (the framework exits on SIGTERM, which writes the profile), and the profile's self time is
 * summed per package (or Node internal) and per function, and printed. The .cpuprofile file is
 * kept (its path is printed) for Chrome DevTools or https://www.speedscope.app.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../scripts/lib/emulator.ts';
import { startInstantBackend } from './backends.ts';
import { createSigner, generateSecret } from './deliveries.ts';
import { measurePoint, warmUp } from './load.ts';
import { CONTESTANTS, spawnFunction, type ContestantKey } from './processes.ts';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** What a profile frame belongs to: an npm package, a Node internal module, or a file of this repository. */
export function frameGroup(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (url === '') return functionName === '' ? '(native)' : `(${functionName.replace(/^\(|\)$/g, '')})`;
  const inPackage = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '').replace(/^.*\/(functions|bench|scripts)\//, '$1/');
}

export interface ProfileSummary {
  totalMs: number;
  groups: Array<{ name: string; ms: number; share: number }>;
  functions: Array<{ name: string; ms: number; share: number }>;
}

/** Self time per group and per function, largest first. */
export function summarizeProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const groups = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) return;
    total += delta;
    const group = frameGroup(node.callFrame);
    groups.set(group, (groups.get(group) ?? 0) + delta);
    const name = `${node.callFrame.functionName || '(anonymous)'} ${group}:${node.callFrame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + delta);
  });
  const rank = (map: Map<string, number>) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: Math.round(us / 100) / 10, share: Math.round((us / total) * 1000) / 10 }));
  return { totalMs: Math.round(total / 1000), groups: rank(groups), functions: rank(functions) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '16' },
      seconds: { type: 'string', default: '8' },
      contestant: { type: 'string', default: 'ours' },
      source: { type: 'string' },
      top: { type: 'string', default: '25' },
    },
  });
  const key = values.contestant as ContestantKey;
  const known = CONTESTANTS[key];
  // --source serves another entry module as that contestant (an experiment, a variant).
  const contestant = known && values.source !== undefined ? { ...known, source: values.source } : known;
  if (!contestant) throw new Error(`--contestant must be one of ${Object.keys(CONTESTANTS).join(', ')}`);
  const connections = Number(values.connections);
  const dir = mkdtempSync(join(tmpdir(), 'bench-profile-'));
  const backend = await startInstantBackend();
  const secret = generateSecret();
  const sign = createSigner(secret);
  let sequence = 0;
  const next = () => sign(sequence++);
  const env = {
    PUBSUB_EMULATOR_HOST: backend.host,
    GOOGLE_CLOUD_PROJECT: 'local-project',
    WEBHOOK_SIGNING_SECRETS: secret,
    WEBHOOK_SECRET: secret,
    TOPIC_NAME: 'bench-baseline',
  };
  const fn = spawnFunction(contestant, await freePort(), env, ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  try {
    await fn.listening;
    await warmUp(fn, { connections, durationSeconds: 1, sign: next });
    const point = await measurePoint(fn, { connections, durationSeconds: Number(values.seconds), sign: next });
    process.stdout.write(
      `${contestant.label}, ${connections} connection(s): ${point.requestsPerSecond} req/s, ` +
        `${point.cpuMsPerRequest} ms CPU per request, p50 ${point.p50Ms} ms, p99 ${point.p99Ms} ms\n`,
    );
  } finally {
    await fn.stop();
    await backend.stop();
  }
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no profile was written to ${dir}`);
  const summary = summarizeProfile(JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile, Number(values.top));
  const line = (entry: { name: string; ms: number; share: number }) =>
    `${entry.ms.toFixed(1).padStart(9)} ms ${entry.share.toFixed(1).padStart(5)} %  ${entry.name}`;
  process.stdout.write(
    [
      `profile: ${join(dir, file)} (${summary.totalMs} ms sampled, whole process life)`,
      'self time by package:',
      ...summary.groups.map(line),
      'self time by function:',
      ...summary.functions.map(line),
      '',
    ].join('\n'),
  );
}

if (import.meta.main) await main();
