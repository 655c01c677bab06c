/**
 * The body takeover whatever way the framework was told its port (issue 20 item 1). The second
 * adversarial pass started the receiver with the Functions Framework CLI's `--port=N` and no
 * `PORT`: the takeover compared the server's port with `PORT` (default 8080), matched nothing and
 * said nothing, and the framework's parsers read every body first. A stalled 1 MiB body then got
 * no answer in 25 s, and validly signed deliveries got 400 (trailing comma), 415 (unknown charset)
 * and 400 (gzip label), on every retry. Here the receiver runs exactly so, against the real
 * emulator: the same deliveries must be published and the stalled body cut.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { generateSigningSecret } from '../../scripts/lib/dev-keys.ts';
import { sendRaw } from '../support/raw-http.ts';
import { recordFigures } from './figures.ts';
import { logLines, PubSubWorld, startReceiver, type ReceiverHandle } from './harness.ts';
import { newWebhookId, SenderSimulator } from './sender-simulator.ts';

const secret = generateSigningSecret();
let world: PubSubWorld;
let receiver: ReceiverHandle;
let signer: SenderSimulator;

before(async () => {
  world = await PubSubWorld.start();
  receiver = await startReceiver(
    { PUBSUB_EMULATOR_HOST: world.host, WEBHOOK_SIGNING_SECRETS: secret, WEBHOOK_SCHEMES: 'static' },
    { portInEnvironment: false },
  );
  signer = new SenderSimulator({ url: receiver.url, secret });
});

after(async () => {
  signer?.destroy();
  await receiver?.stop();
  await world?.stop();
});

/** A validly signed delivery of `body`, sent with `headers` beside the signature headers. */
async function deliver(body: string, headers: [string, string][]): Promise<{ id: string; status: number | string }> {
  const id = newWebhookId();
  const signature = await signer.sign(id, 'static', Buffer.from(body));
  const answer = await sendRaw(receiver.port, {
    headers: [...headers, ...Object.entries(signature).filter(([name]) => name.startsWith('webhook-'))],
    body: Buffer.from(body),
  });
  return { id, status: answer.status };
}

test('started with --port and no PORT: signed bodies the framework cannot parse are still published', async () => {
  const cases: Array<[string, string, [string, string][]]> = [
    [
      'trailing comma',
      '{"type":"batch.succeeded","data":{"id":"batches/comma"},}',
      [['Content-Type', 'application/json']],
    ],
    [
      'unknown charset',
      '{"type":"batch.succeeded","data":{"id":"batches/charset"}}',
      [['Content-Type', 'application/json; charset=x-unknown']],
    ],
    [
      'gzip label on a plain body',
      '{"type":"batch.succeeded","data":{"id":"batches/gzip"}}',
      [
        ['Content-Type', 'application/json'],
        ['Content-Encoding', 'gzip'],
      ],
    ],
  ];
  const results = [];
  for (const [name, body, headers] of cases) results.push({ name, body, ...(await deliver(body, headers)) });
  assert.deepEqual(
    results.map(({ name, status }) => [name, status]),
    cases.map(([name]) => [name, 200]),
  );
  const messages = await world.drain();
  for (const { name, id, body } of results)
    assert.ok(
      messages.some((m) => m.attributes['webhook_id'] === id && m.data.toString() === body),
      `${name} is in Pub/Sub byte for byte`,
    );
  recordFigures('hostile-takeover-cli', {
    deliveriesSent: results.length,
    attempts: results.length,
    acknowledged: results.length,
    hostileCasesTried: 1,
  });
});

test('started with --port and no PORT: a stalled 1 MiB body is cut within its deadline', async () => {
  const started = performance.now();
  const answer = await sendRaw(
    receiver.port,
    {
      headers: [
        ['Content-Type', 'application/json'],
        ['webhook-id', 'msg_stalled'],
        ['webhook-timestamp', String(Math.floor(Date.now() / 1000))],
        ['webhook-signature', 'v1,AAAA'],
      ],
      body: Buffer.alloc(1024 * 1024, 0x20),
      stallAfterBytes: 1000,
    },
    30_000,
  );
  assert.equal(answer.status, 408);
  assert.ok(performance.now() - started < 10_000, `answered after ${Math.round(performance.now() - started)} ms`);
});

test('no request reached the handler already parsed', () => {
  const parsed = logLines(receiver.output()).filter((line) => line['reason'] === 'body_takeover_missing');
  assert.deepEqual(parsed, []);
});
