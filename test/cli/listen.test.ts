// `gemini-webhooks listen` on the Pub/Sub emulator: the push request it forwards (checked against
// what Pub/Sub's documentation shows, and its token with jose), ack on success and redelivery
// otherwise, its one-line errors, and end to end as a real process in front of the example push
// consumer (examples/push-consumer.ts), stopped with SIGINT.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Message } from '@google-cloud/pubsub';
import { jwtVerify } from 'jose';
import { Limiter } from '../../cli/listen.ts';
import { pushRequestBody } from '../../cli/push-request.ts';
import { temporaryLabels } from '../../cli/temporary-subscriptions.ts';
import { planRoute, planRoutes, planSubscription } from '../../functions/topology.ts';
import { freePort } from '../../scripts/lib/emulator.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { startPushConsumer } from '../../examples/push-consumer.ts';
import { decodeGeminiEvent, type GeminiEvent } from '../../packages/subscriber/src/index.ts';
import { serveOnLoopback } from '../support/loopback-server.ts';
import { startPubSub, type EmulatorPubSub } from '../support/pubsub-emulator.ts';
import { runCli } from './harness.ts';
import { EMULATOR_PROJECT } from '../../functions/config.ts';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PROJECT = EMULATOR_PROJECT;
const SECRET = `listen_${randomBytes(32).toString('base64url')}`;
let world: EmulatorPubSub;

before(async () => {
  world = await startPubSub();
});

after(() => world?.stop());

/** Resolves `until(...)` waiters whenever something they may wait for happened. */
class Changes extends EventEmitter {
  until(what: string, ready: () => boolean, timeoutMs = 60_000): Promise<void> {
    if (ready()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('change', check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const check = (): void => {
        if (!ready()) return;
        clearTimeout(timer);
        this.off('change', check);
        resolve();
      };
      this.on('change', check);
    });
  }
  changed(): void {
    this.emit('change');
  }
}

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A consumer stand-in that records each request and answers with `answer(request number)`. */
async function recordingServer(t: TestContext, changes: Changes, answer: (index: number, res: ServerResponse) => void) {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      answer(received.length - 1, res);
      changes.changed();
    });
  });
  return { url: `${await serveOnLoopback(t, server)}/hook`, received };
}

/** Runs `listen` in-process until `stop` is aborted; resolves once its subscriptions exist. */
async function startListen(args: readonly string[], changes: Changes, env: Record<string, string | undefined> = {}) {
  const stop = new AbortController();
  const out: string[] = [];
  const err: string[] = [];
  const done = runCli(['listen', ...args], {
    env: { PUBSUB_EMULATOR_HOST: world.emulator.host, PATH: process.env['PATH'], ...env },
    signal: stop.signal,
    onOut: (line) => {
      out.push(line);
      changes.changed();
    },
    onErr: (line) => {
      err.push(line);
      changes.changed();
    },
  });
  let finished = false;
  void done.finally(() => {
    finished = true;
    changes.changed();
  });
  await changes.until('listen to start', () => finished || err.some((line) => line.startsWith('Forwarding events')));
  assert.ok(!finished, `listen ended early: ${err.join('\n')}`);
  return {
    out,
    err,
    stop: async () => {
      stop.abort();
      return done;
    },
  };
}

async function temporarySubscriptions(prefix: string): Promise<string[]> {
  const [subscriptions] = await world.pubsub.getSubscriptions();
  return subscriptions
    .map((s) => s.name.split('/').at(-1)!)
    .filter((name) => name.startsWith(`${prefix}-`) && name.includes('-listen-'));
}

test('listen forwards the push request Pub/Sub would send, signed for the development option', async (t) => {
  const prefix = 'fwd';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const changes = new Changes();
  const consumer = await recordingServer(t, changes, (_, res) => res.writeHead(204).end());
  const secretFile = join(mkdtempSync(join(tmpdir(), 'listen-secret-')), 'secret');
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  t.after(() => rmSync(dirname(secretFile), { recursive: true, force: true }));
  const listen = await startListen(
    ['--forward-to', consumer.url, '--prefix', prefix, '--type', 'batch.succeeded', '--secret-file', secretFile],
    changes,
  );

  const data = Buffer.from(JSON.stringify(sampleEvent('batch.succeeded')));
  const attributes = {
    webhook_id: 'msg_fwd_1',
    event_type: 'batch.succeeded',
    event_route: 'batch.succeeded',
    verification_scheme: 'static-v1',
  };
  const publishedAt = Date.now();
  const messageId = await world.pubsub
    .topic(planRoute(prefix, 'batch.succeeded').topic)
    .publishMessage({ data, attributes });
  await changes.until('the forwarded request', () => listen.out.length > 0);
  const result = await listen.stop();
  assert.equal(result.code, 0, result.err);

  assert.equal(consumer.received.length, 1);
  const [request] = consumer.received;
  assert.equal(request!.headers['content-type'], 'application/json');
  // The token, checked with jose against the documented claims, not with the code that made it.
  const token = /^Bearer (\S+)$/.exec(request!.headers.authorization ?? '')?.[1];
  assert.ok(token, 'a bearer token');
  const { payload, protectedHeader } = await jwtVerify(token, new TextEncoder().encode(SECRET), {
    algorithms: ['HS256'],
    issuer: 'gemini-webhooks listen',
    audience: 'gemini-webhooks-pubsub development push',
  });
  assert.equal(protectedHeader.alg, 'HS256');
  assert.ok(payload.exp! - payload.iat! <= 120, 'a short lifetime');

  // https://cloud.google.com/pubsub/docs/push: the wrapped format, ids and times in both spellings.
  const body = JSON.parse(request!.body) as {
    message: Record<string, unknown>;
    subscription: string;
    deliveryAttempt?: number;
  };
  // deliveryAttempt is passed on when Pub/Sub reports one: the emulator always does; the cloud only
  // on subscriptions with a dead-letter policy (https://cloud.google.com/pubsub/docs/handling-failures).
  assert.deepEqual(
    Object.keys(body)
      .filter((key) => key !== 'deliveryAttempt')
      .sort(),
    ['message', 'subscription'],
  );
  if ('deliveryAttempt' in body) assert.equal(body.deliveryAttempt, 1);
  assert.deepEqual(Object.keys(body.message).sort(), [
    'attributes',
    'data',
    'messageId',
    'message_id',
    'publishTime',
    'publish_time',
  ]);
  assert.deepEqual(Buffer.from(body.message['data'] as string, 'base64'), data);
  assert.deepEqual(body.message['attributes'], attributes);
  assert.equal(body.message['messageId'], messageId);
  assert.equal(body.message['message_id'], messageId);
  assert.equal(body.message['publish_time'], body.message['publishTime']);
  assert.match(body.message['publishTime'] as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.ok(Math.abs(Date.parse(body.message['publishTime'] as string) - publishedAt) < 60_000);
  assert.match(
    body.subscription,
    new RegExp(`^projects/${PROJECT}/subscriptions/fwd-batch-succeeded-listen-[0-9a-f]{8}$`),
  );
  // And the subscriber kit reads it like any push.
  const event = decodeGeminiEvent(body);
  assert.equal(event.type, 'batch.succeeded');
  assert.equal(event.delivery.webhookId, 'msg_fwd_1');
  assert.equal(event.delivery.messageId, messageId);

  assert.match(listen.out[0]!, /^\d{4}-\S+Z batch\.succeeded webhook_id=msg_fwd_1 -> 204 \(\d+ ms\)$/);
  assert.deepEqual(await temporarySubscriptions(prefix), [], 'deleted on stop');
  assert.match(result.err, /Deleted 1 temporary subscription/);
  assert.doesNotMatch(result.err, /Listen secret for this session/, 'a given secret is not echoed');
});

test('an answer other than 200/201/202/204 is a nack that Pub/Sub redelivers; errors are one line', async (t) => {
  const prefix = 'retry';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const changes = new Changes();
  // 401 (with a hint about the secret), then 205 (a 2xx Pub/Sub does not take as an ack), then 200.
  const statuses = [401, 205, 200];
  const consumer = await recordingServer(t, changes, (index, res) => res.writeHead(statuses[index] ?? 500).end());
  const listen = await startListen(
    ['--forward-to', consumer.url, '--prefix', prefix, '--type', 'video.generated'],
    changes,
    { GEMINI_WEBHOOKS_LISTEN_SECRET: SECRET },
  );
  await world.pubsub.topic(planRoute(prefix, 'video.generated').topic).publishMessage({
    data: Buffer.from(JSON.stringify(sampleEvent('video.generated'))),
    attributes: { webhook_id: 'msg_retry', event_type: 'video.generated', event_route: 'video.generated' },
  });
  await changes.until('the third attempt', () => listen.out.length >= 3);
  const result = await listen.stop();
  assert.equal(result.code, 0, result.err);
  assert.match(
    listen.out[0]!,
    /video\.generated webhook_id=msg_retry -> 401 \(\d+ ms\) nacked, Pub\/Sub redelivers it$/,
  );
  assert.match(
    listen.out[1]!,
    /video\.generated webhook_id=msg_retry attempt 2 -> 205 \(\d+ ms\) nacked, Pub\/Sub redelivers it$/,
  );
  assert.match(listen.out[2]!, /video\.generated webhook_id=msg_retry attempt 3 -> 200 \(\d+ ms\)$/);
  const bodies = consumer.received.map(
    (r) => JSON.parse(r.body) as { message: { messageId: string }; deliveryAttempt?: number },
  );
  assert.equal(new Set(bodies.map((body) => body.message.messageId)).size, 1, 'the same Pub/Sub message each time');
  if (bodies.some((body) => 'deliveryAttempt' in body))
    assert.deepEqual(
      bodies.map((body) => body.deliveryAttempt),
      [1, 2, 3],
    );
  assert.equal(
    listen.err.filter((line) => line.includes('refused the request (401)')).length,
    1,
    'the hint comes once',
  );
  assert.match(result.err, /does your consumer have GEMINI_WEBHOOKS_LISTEN_SECRET set to this session's listen secret/);
});

test('an unreachable or silent consumer is one line per event, and the event stays unacknowledged', async (t) => {
  const prefix = 'down';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const changes = new Changes();
  const closedPort = await freePort();
  const unreachable = await startListen(
    ['--forward-to', `http://127.0.0.1:${closedPort}/`, '--prefix', prefix, '--type', 'batch.failed'],
    changes,
  );
  const topic = world.pubsub.topic(planRoute(prefix, 'batch.failed').topic);
  await topic.publishMessage({
    data: Buffer.from('{}'),
    attributes: { webhook_id: 'msg_down', event_type: 'batch.failed' },
  });
  await changes.until('the failure line', () => unreachable.out.length > 0);
  assert.equal((await unreachable.stop()).code, 0);
  assert.match(
    unreachable.out[0]!,
    new RegExp(
      `batch\\.failed webhook_id=msg_down -> could not reach http://127\\.0\\.0\\.1:${closedPort}/: ECONNREFUSED; nacked, Pub/Sub redelivers it$`,
    ),
  );
  assert.match(
    unreachable.err.join('\n'),
    /Listen secret for this session: listen_[A-Za-z0-9_-]{43}\n {2}Run your consumer with GEMINI_WEBHOOKS_LISTEN_SECRET=listen_/,
  );

  // The real consumer's subscription still has the event: listen never takes messages from it.
  const [pulled] = await world.pubsub.subscription(planSubscription(prefix, 'batch.failed', 'local').name).get();
  const delivered = await new Promise<string>((resolve) =>
    pulled.once('message', (message: Message) => {
      message.ack();
      resolve(message.attributes['webhook_id'] ?? '');
    }),
  );
  await pulled.close();
  assert.equal(delivered, 'msg_down');

  const silent = await recordingServer(t, changes, () => {}); // never answers
  const slow = await startListen(
    ['--forward-to', silent.url, '--prefix', prefix, '--type', 'batch.failed', '--timeout', '1'],
    changes,
  );
  await topic.publishMessage({
    data: Buffer.from('{}'),
    attributes: { webhook_id: 'msg_slow', event_type: 'batch.failed' },
  });
  await changes.until('the timeout line', () => slow.out.length > 0);
  assert.equal((await slow.stop()).code, 0);
  assert.match(slow.out[0]!, /webhook_id=msg_slow -> no answer within 1 s; nacked, Pub\/Sub redelivers it$/);
});

test('listen refuses bad options in one line before touching Pub/Sub', async () => {
  const env = { PUBSUB_EMULATOR_HOST: world.emulator.host };
  const cases: Array<[string[], Record<string, string>, RegExp]> = [
    [[], env, /--forward-to is required: the URL of your consumer/],
    [['--forward-to', 'localhost:8080'], env, /--forward-to must be an http or https URL \(got localhost:\)/],
    [['--forward-to', 'not a url'], env, /--forward-to is not a URL \(got "not a url"\)/],
    [
      ['--forward-to', 'http://127.0.0.1:8080/', '--secret', SECRET],
      env,
      /--secret would show the secret to anyone who lists processes; put it in GEMINI_WEBHOOKS_LISTEN_SECRET or in a file given with --secret-file/,
    ],
    [
      ['--forward-to', 'http://127.0.0.1:8080/', '--secret-file', '/nonexistent/secret'],
      env,
      /cannot read --secret-file \/nonexistent\/secret \(ENOENT\)/,
    ],
    [
      ['--forward-to', 'http://127.0.0.1:8080/'],
      { ...env, GEMINI_WEBHOOKS_LISTEN_SECRET: ' x' },
      /the listen secret \(GEMINI_WEBHOOKS_LISTEN_SECRET\) must not begin or end with white space/,
    ],
    [['--forward-to', 'http://127.0.0.1:8080/', '--timeout', '61'], env, /--timeout must be at most 60 \(got 61\)/],
    [
      ['--forward-to', 'http://127.0.0.1:8080/', '--concurrency', '0'],
      env,
      /--concurrency must be a whole number of at least 1/,
    ],
    [['--forward-to', 'http://127.0.0.1:8080/', '--type', 'batch.completed'], env, /--type must be one of/],
  ];
  for (const [args, caseEnv, message] of cases) {
    const result = await runCli(['listen', ...args], { env: caseEnv });
    assert.equal(result.code, 2, args.join(' '));
    assert.match(result.err, message);
    assert.equal(result.err.split('\n').length, 1, `${args.join(' ')}: one line`);
  }
  const noProject = await runCli(['listen', '--forward-to', 'http://127.0.0.1:8080/'], { env: {} });
  assert.equal(noProject.code, 1);
  assert.match(noProject.err, /^gemini-webhooks: No Google Cloud project: pass --project or set GOOGLE_CLOUD_PROJECT/);
});

test('the push request carries deliveryAttempt and orderingKey only when Pub/Sub has them', () => {
  const message = {
    id: '42',
    data: Buffer.from('{}'),
    attributes: {},
    publishTime: new Date('2026-01-22T12:00:00.000Z'),
    deliveryAttempt: 0,
  };
  const plain = pushRequestBody(message, 'projects/p/subscriptions/s');
  assert.equal('deliveryAttempt' in plain, false);
  assert.equal('orderingKey' in plain.message, false);
  const counted = pushRequestBody(
    { ...message, deliveryAttempt: 3, orderingKey: 'batch_1' },
    'projects/p/subscriptions/s',
  );
  assert.equal(counted.deliveryAttempt, 3);
  assert.equal(counted.message.orderingKey, 'batch_1');
  assert.equal(counted.message.publish_time, '2026-01-22T12:00:00.000Z');
});

test('the limiter runs at most N tasks at once, in arrival order', async () => {
  const limiter = new Limiter(2);
  const releases: Array<() => void> = [];
  const started: number[] = [];
  let running = 0;
  let most = 0;
  const changes = new Changes();
  const tasks = [0, 1, 2, 3, 4].map((n) =>
    limiter.run(async () => {
      started.push(n);
      running++;
      most = Math.max(most, running);
      changes.changed();
      await new Promise<void>((resolve) => releases.push(resolve));
      running--;
    }),
  );
  await changes.until('the first tasks', () => started.length >= 2);
  for (let next = 3; next <= 5; next++) {
    releases.shift()!();
    await changes.until(`task ${next} to start`, () => started.length >= next);
  }
  for (const release of releases.splice(0)) release();
  await Promise.all(tasks);
  assert.equal(most, 2);
  assert.deepEqual(started, [0, 1, 2, 3, 4]);
});

test(
  'listen as a real process feeds the example push consumer: ' + 'redelivery after a failure, Ctrl-C cleans up',
  async (t) => {
    const prefix = 'live';
    await createLocalTopology(world.pubsub, { topicPrefix: prefix });
    const changes = new Changes();
    const processed: GeminiEvent[] = [];
    const lines: string[] = [];
    const handlerLog: Array<Record<string, unknown>> = [];
    let failOnce = true;
    const consumer = await startPushConsumer({
      port: 0,
      audience: 'https://billing-consumer-abc-uc.a.run.app/',
      serviceAccountEmail: 'gemini-push-billing@my-project.iam.gserviceaccount.com',
      listenSecret: SECRET,
      log: (line) => {
        lines.push(line);
        changes.changed();
      },
      handlerLog: (entry) => handlerLog.push(entry),
      process: (event) => {
        if (event.delivery.webhookId === 'msg_flaky' && failOnce) {
          failOnce = false;
          throw new Error('temporary');
        }
        processed.push(event);
      },
    });
    t.after(() => consumer.close());
    assert.match(String(handlerLog[0]?.['message']), /DEVELOPMENT MODE/);

    const child = spawn(
      process.execPath,
      [join(repoRoot, 'cli', 'bin.js'), 'listen', '--forward-to', consumer.url, '--prefix', prefix],
      {
        env: {
          PATH: process.env['PATH'],
          PUBSUB_EMULATOR_HOST: world.emulator.host,
          GEMINI_WEBHOOKS_LISTEN_SECRET: SECRET,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      changes.changed();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      changes.changed();
    });
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        resolve(code);
        changes.changed();
      }),
    );
    t.after(() => void child.kill('SIGKILL'));
    await changes.until('listen to start', () => stderr.includes('Forwarding events') || child.exitCode !== null);
    assert.match(
      stderr,
      new RegExp(
        `Forwarding events from ${planRoutes(prefix).length} topics \\(prefix "live"\\) ` +
          `in project ${PROJECT} to ${consumer.url.replaceAll('.', '\\.')}`,
      ),
    );
    assert.equal((await temporarySubscriptions(prefix)).length, planRoutes(prefix).length, 'one per topic');

    const publish = (
      route: 'batch.succeeded' | 'video.generated',
      webhookId: string,
      extra: Record<string, string> = {},
    ) =>
      world.pubsub.topic(planRoute(prefix, route).topic).publishMessage({
        data: Buffer.from(JSON.stringify(sampleEvent(route))),
        attributes: { webhook_id: webhookId, event_type: route, event_route: route, ...extra },
      });
    await publish('batch.succeeded', 'msg_once');
    await publish('video.generated', 'msg_flaky');
    await changes.until('both events processed', () => processed.length >= 2);
    await publish('batch.succeeded', 'msg_once', { replay_count: '1' });
    await changes.until('the duplicate', () => lines.some((line) => line.startsWith('duplicate webhook_id=msg_once')));

    assert.deepEqual(processed.map((event) => event.delivery.webhookId).sort(), ['msg_flaky', 'msg_once']);
    assert.ok(lines.some((line) => /^webhook_id=msg_flaky failed: temporary/.test(line)));
    for (const event of processed)
      assert.match(
        event.delivery.subscription ?? '',
        new RegExp(`^projects/${PROJECT}/subscriptions/live-[a-z-]+-listen-[0-9a-f]{8}$`),
      );
    await changes.until(
      'three forward lines',
      () => stdout.split('\n').filter((line) => / -> \d{3} /.test(line)).length >= 4,
    );
    assert.match(stdout, /video\.generated webhook_id=msg_flaky -> 500 \(\d+ ms\) nacked, Pub\/Sub redelivers it\n/);
    assert.match(stdout, /video\.generated webhook_id=msg_flaky attempt 2 -> 204 \(\d+ ms\)\n/);
    assert.match(stdout, /batch\.succeeded webhook_id=msg_once -> 204 \(\d+ ms\)\n/);

    child.kill('SIGINT');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, new RegExp(`Deleted ${planRoutes(prefix).length} temporary subscription\\(s\\)`));
    assert.deepEqual(await temporarySubscriptions(prefix), [], 'Ctrl-C removed them');
  },
);

test('listen keeps its secret out of the process list, and cleans up when its terminal closes (SIGHUP)', async () => {
  const prefix = 'hup';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  const dir = mkdtempSync(join(tmpdir(), 'listen-hup-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, SECRET, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'cli', 'bin.js'),
      'listen',
      '--forward-to',
      'http://127.0.0.1:9/',
      '--prefix',
      prefix,
      '--type',
      'batch.succeeded',
      '--secret-file',
      secretFile,
    ],
    {
      env: { PATH: process.env['PATH'], PUBSUB_EMULATOR_HOST: world.emulator.host },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let stderr = '';
    const changes = new Changes();
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      changes.changed();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await changes.until('listen to start', () => stderr.includes('Forwarding events') || child.exitCode !== null);
    assert.equal((await temporarySubscriptions(prefix)).length, 1, stderr);
    // What `ps` shows: /proc/<pid>/cmdline, the argv of the process.
    const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8');
    assert.ok(cmdline.includes('--secret-file') && !cmdline.includes(SECRET), 'the secret is not in the argv');
    child.kill('SIGHUP');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /Deleted 1 temporary subscription\(s\)/);
    assert.deepEqual(await temporarySubscriptions(prefix), [], 'SIGHUP removed it');
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('listen removes the temporary subscriptions a killed listen on this machine left behind', async () => {
  const prefix = 'orph';
  await createLocalTopology(world.pubsub, { topicPrefix: prefix });
  // A process that has exited: its pid is free, as after SIGKILL.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const left = `${planRoute(prefix, 'batch.failed').topic}-listen-0badf00d`;
  await world.pubsub
    .topic(planRoute(prefix, 'batch.failed').topic)
    .createSubscription(left, { labels: temporaryLabels('listen', new Date(), Number(dead.stdout)) });
  const changes = new Changes();
  const listen = await startListen(['--forward-to', 'http://127.0.0.1:9/', '--prefix', prefix], changes);
  await listen.stop();
  assert.ok(
    listen.err.includes(`Deleted 1 temporary subscription(s) an earlier command left behind: ${left}.`),
    listen.err.join('\n'),
  );
  assert.deepEqual(await temporarySubscriptions(prefix), []);
});
