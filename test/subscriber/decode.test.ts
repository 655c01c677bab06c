// decodeGeminiEvent on the messages the receiver really publishes: attributes from the receiver's
// own functions/attributes.ts, bodies shaped like Gemini's, and — on the Pub/Sub emulator — a real
// pulled `Message` and a real push request body.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { Message } from '@google-cloud/pubsub';
import { buildAttributes } from '../../functions/attributes.ts';
import { EVENT_TYPES, routeFor } from '../../functions/catalog.ts';
import { readEnvelope } from '../../functions/envelope.ts';
import type { Verified } from '../../functions/verify/result.ts';
import { SAMPLE_DATA, sampleEvent } from '../../scripts/lib/samples.ts';
import { decodeGeminiEvent, GeminiEventDecodeError } from '../../packages/subscriber/src/index.ts';
import { EMULATOR_PROJECT } from '../../functions/config.ts';
import { startPubSub } from '../support/pubsub-emulator.ts';
import { serveOnLoopback } from '../support/loopback-server.ts';

const STATIC: Verified = { ok: true, scheme: 'static-v1', webhookId: 'msg_1', timestamp: 1767225600 };

function published(
  body: Buffer,
  verified: Verified = STATIC,
  webhookId = 'msg_1',
): { data: Buffer; attributes: Record<string, string> } {
  const envelope = readEnvelope(body);
  return {
    data: body,
    attributes: buildAttributes({
      webhookId,
      webhookTimestamp: '1767225600',
      route: routeFor(envelope.type),
      envelope,
      verified,
      receivedAt: new Date('2026-01-01T00:00:01Z'),
    }),
  };
}

function pushBody(message: { data: Buffer; attributes: Record<string, string> }): unknown {
  return {
    message: {
      data: message.data.toString('base64'),
      attributes: message.attributes,
      messageId: '42',
      publishTime: '2026-01-01T00:00:02.123Z',
    },
    subscription: 'projects/p/subscriptions/gemini-batch-succeeded-billing',
    deliveryAttempt: 2,
  };
}

test('batch.succeeded decodes with outputFileUri and the delivery metadata', () => {
  const body = Buffer.from(
    JSON.stringify(sampleEvent('batch.succeeded', { id: 'batches/b1', userMetadata: { tenant: 'acme', priority: 3 } })),
  );
  const event = decodeGeminiEvent(published(body));
  assert.equal(event.type, 'batch.succeeded');
  if (event.type !== 'batch.succeeded') return;
  assert.equal(event.outputFileUri, 'gs://my-bucket/batches/results.jsonl');
  assert.equal(event.id, 'batches/b1');
  assert.equal(event.version, 'v1');
  assert.equal(event.delivery.webhookId, 'msg_1');
  assert.equal(event.delivery.scheme, 'static-v1');
  assert.equal(event.delivery.binding, undefined);
  assert.equal(event.delivery.route, 'batch.succeeded');
  assert.deepEqual(event.delivery.webhookTimestamp, new Date(1767225600 * 1000));
  assert.deepEqual(event.delivery.receivedAt, new Date('2026-01-01T00:00:01Z'));
  assert.deepEqual(event.delivery.userMetadata, { tenant: 'acme', priority: '3' });
  assert.equal(event.delivery.userMetadataTruncated, false);
  assert.equal(event.delivery.replayCount, 0);
});

test('every catalog type decodes to its own variant with its fields', () => {
  // `output_file_uri` -> `outputFileUri`: the kit names every field a sample's data carries.
  const camel = (name: string): string => name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  for (const type of EVENT_TYPES) {
    const event = decodeGeminiEvent(published(Buffer.from(JSON.stringify(sampleEvent(type)))));
    assert.equal(event.type, type, `${type} has a variant of its own`);
    assert.equal(event.eventType, type);
    for (const [field, value] of Object.entries(SAMPLE_DATA[type])) {
      assert.equal((event as unknown as Record<string, unknown>)[camel(field)], value, `${type}.${camel(field)}`);
    }
  }
  const video = decodeGeminiEvent(published(Buffer.from(JSON.stringify(sampleEvent('video.generated')))));
  assert.deepEqual(video.type === 'video.generated' && [video.outputFileUri, video.fileName], [
    'gs://my-bucket/videos/video.mp4',
    'files/abc123',
  ]);
  const failed = decodeGeminiEvent(published(Buffer.from(JSON.stringify(sampleEvent('batch.expired')))));
  assert.equal(failed.type === 'batch.expired' && failed.errorCode, 'DEADLINE_EXCEEDED');
});

test('unknown and missing types decode to the generic variant, never throw', () => {
  const unknown = decodeGeminiEvent(
    published(Buffer.from(JSON.stringify({ type: 'batch.completed', data: { id: 'x' } }))),
  );
  assert.equal(unknown.type, 'unknown');
  assert.equal(unknown.eventType, 'batch.completed');
  assert.equal(unknown.delivery.route, 'unrouted');
  assert.equal(unknown.id, 'x');
  const typeless = decodeGeminiEvent(published(Buffer.from('{"hello":"world"}')));
  assert.equal(typeless.type, 'unknown');
  assert.equal(typeless.eventType, undefined);
  assert.deepEqual(typeless.data, {});
  assert.deepEqual(typeless.body, { hello: 'world' });
});

test('a push request body decodes like the pulled message, with push metadata', () => {
  const message = published(Buffer.from(JSON.stringify(sampleEvent('interaction.failed'))));
  const event = decodeGeminiEvent(pushBody(message));
  assert.equal(event.type, 'interaction.failed');
  assert.equal(event.delivery.messageId, '42');
  assert.deepEqual(event.delivery.publishTime, new Date('2026-01-01T00:00:02.123Z'));
  assert.equal(event.delivery.deliveryAttempt, 2);
  assert.equal(event.delivery.subscription, 'projects/p/subscriptions/gemini-batch-succeeded-billing');
  assert.deepEqual(decodeGeminiEvent(message).body, event.body);
});

test('JWT deliveries carry scheme and body binding; replays their count', () => {
  const verified: Verified = { ok: true, scheme: 'jwt', binding: 'digest', claims: {} };
  const message = published(Buffer.from(JSON.stringify(sampleEvent('batch.failed'))), verified);
  message.attributes['replay_count'] = '2';
  const event = decodeGeminiEvent(message);
  assert.equal(event.delivery.scheme, 'jwt');
  assert.equal(event.delivery.binding, 'digest');
  assert.equal(event.delivery.replayCount, 2);
});

test('malformed messages throw GeminiEventDecodeError with a reason', () => {
  const good = published(Buffer.from(JSON.stringify(sampleEvent('batch.failed'))));
  const cases: Array<[unknown, string]> = [
    [null, 'not_a_message'],
    ['text', 'not_a_message'],
    [{ attributes: good.attributes }, 'not_a_message'],
    [{ message: { data: '%%%not base64%%%', attributes: good.attributes } }, 'bad_base64'],
    [{ data: Buffer.from('not json'), attributes: good.attributes }, 'not_json'],
    [{ data: Buffer.from('[1,2]'), attributes: good.attributes }, 'not_an_object'],
    [{ data: good.data, attributes: {} }, 'missing_webhook_id'],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => decodeGeminiEvent(input),
      (error: unknown) => error instanceof GeminiEventDecodeError && error.reason === reason,
      reason,
    );
  }
});

test('on the emulator: a pulled Message and a real push body decode to the same event', async (t) => {
  const world = await startPubSub();
  t.after(() => world.stop());
  const { pubsub } = world;
  const pushes: unknown[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      pushes.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(204).end();
    });
  });
  const pushEndpoint = `${await serveOnLoopback(t, server)}/`;
  const [topic] = await pubsub.createTopic('kit-video-generated');
  const [pull] = await topic.createSubscription('kit-pull');
  await topic.createSubscription('kit-push', {
    pushConfig: { pushEndpoint },
  });
  const message = published(
    Buffer.from(JSON.stringify(sampleEvent('video.generated', { userMetadata: { job: 'nightly' } }))),
  );

  const pulled = new Promise<Message>((resolve) =>
    pull.on('message', (m: Message) => {
      m.ack();
      resolve(m);
    }),
  );
  await topic.publishMessage(message);
  const fromPull = decodeGeminiEvent(await pulled);
  await pull.close();
  const deadline = Date.now() + 60_000;
  while (pushes.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
  const fromPush = decodeGeminiEvent(pushes[0]);

  for (const event of [fromPull, fromPush]) {
    assert.equal(event.type, 'video.generated');
    assert.equal(event.delivery.webhookId, 'msg_1');
    assert.deepEqual(event.delivery.userMetadata, { job: 'nightly' });
    assert.ok(event.delivery.messageId);
    assert.ok(event.delivery.publishTime instanceof Date);
  }
  assert.deepEqual(fromPush.body, fromPull.body);
  assert.equal(fromPush.delivery.messageId, fromPull.delivery.messageId);
  assert.equal(fromPush.delivery.subscription, `projects/${EMULATOR_PROJECT}/subscriptions/kit-push`);
});
