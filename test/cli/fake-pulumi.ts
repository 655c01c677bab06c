// A stand-in for the Pulumi CLI: an executable `pulumi` script in a temp directory that tests put
// first on PATH. It implements the three invocations the CLI makes — `config get <key> --json`,
// `config set <key> [--secret] [value | stdin]` and `stack output --json` — on a JSON state file,
// and records every argv (never stdin) to a log, so tests can assert a secret never reached argv.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export interface FakePulumiState {
  config: Record<string, { value: string; secret: boolean }>;
  outputs: Record<string, unknown>;
  /** When set, `config set` fails with this message. */
  failSet?: string;
}

export interface FakePulumi {
  dir: string;
  /** PATH with the fake first. */
  path: string;
  state(): FakePulumiState;
  setState(state: FakePulumiState): void;
  /** Every argv the fake was called with. */
  calls(): string[][];
  cleanup(): void;
}

const SCRIPT = String.raw`
const fs = require('node:fs');
const dir = __dirname;
const statePath = dir + '/state.json';
const args = process.argv.slice(2);
fs.appendFileSync(dir + '/calls.log', JSON.stringify(args) + '\n');
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const flags = new Set(args.filter((a) => a.startsWith('--')));
const valueAfter = (flag) => { const i = args.indexOf(flag); return i >= 0 ? args[i + 1] : undefined; };
const positional = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--stack' || args[i] === '--cwd') { i++; continue; }
  if (!args[i].startsWith('--')) positional.push(args[i]);
}
const stack = valueAfter('--stack') || 'dev';
const save = () => fs.writeFileSync(statePath, JSON.stringify(state));
const [group, verb, key, value] = positional;
if (group === 'config' && verb === 'get') {
  const entry = state.config[key];
  if (!entry) {
    process.stderr.write("error: configuration key '" + key + "' not found for stack '" + stack + "'\n");
    process.exit(255);
  }
  process.stdout.write(JSON.stringify({ value: entry.value, secret: entry.secret }, null, 2) + '\n');
} else if (group === 'config' && verb === 'set') {
  if (state.failSet) { process.stderr.write('error: ' + state.failSet + '\n'); process.exit(255); }
  const stored = value !== undefined ? value : fs.readFileSync(0, 'utf8').replace(/\n$/, '');
  state.config[key] = { value: stored, secret: flags.has('--secret') };
  save();
} else if (group === 'stack' && verb === 'output') {
  process.stdout.write(JSON.stringify(state.outputs) + '\n');
} else {
  process.stderr.write('fake pulumi: unsupported ' + args.join(' ') + '\n');
  process.exit(2);
}
`;

export function installFakePulumi(initial: Partial<FakePulumiState> = {}): FakePulumi {
  const dir = mkdtempSync(join(tmpdir(), 'fake-pulumi-'));
  // CommonJS body in a .cjs file; the `pulumi` entry is a shell script running it with this Node.
  writeFileSync(join(dir, 'pulumi.cjs'), SCRIPT);
  writeFileSync(join(dir, 'pulumi'), `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'pulumi.cjs')}" "$@"\n`);
  chmodSync(join(dir, 'pulumi'), 0o755);
  writeFileSync(join(dir, 'calls.log'), '');
  const fake: FakePulumi = {
    dir,
    path: `${dir}${delimiter}${process.env['PATH'] ?? ''}`,
    state: () => JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as FakePulumiState,
    setState: (state) => writeFileSync(join(dir, 'state.json'), JSON.stringify(state)),
    calls: () =>
      readFileSync(join(dir, 'calls.log'), 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as string[]),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  fake.setState({ config: {}, outputs: {}, ...initial });
  return fake;
}

/** The stored `signingSecrets` array, or undefined when unset. */
export function storedSecrets(fake: FakePulumi): string[] | undefined {
  const entry = fake.state().config['signingSecrets'];
  return entry === undefined ? undefined : (JSON.parse(entry.value) as string[]);
}
