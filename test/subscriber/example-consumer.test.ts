// The example consumer (examples/consumer.ts) on the emulator: it processes an event once even
// when the same webhook id arrives again, as a dlq replay or a Gemini retry would deliver it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planRoute } from '../../functions/topology.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { startExampleConsumer } from '../../examples/consumer.ts';
import type { GeminiEvent } from '../../packages/subscriber/src/index.ts';
import { startPubSub } from '../support/pubsub-emulator.ts';

test('the example consumer dedupes on webhook_id and retries what failed', async (t) => {
  const world = await startPubSub();
  t.after(() => world.stop());
  const { pubsub } = world;
  const prefix = 'example';
  await createLocalTopology(pubsub, { topicPrefix: prefix });
  const processed: GeminiEvent[] = [];
  const lines: string[] = [];
  let failOnce = true;
  const consumer = await startExampleConsumer({
    pubsub,
    prefix,
    log: (line) => lines.push(line),
    process: (event) => {
      if (event.delivery.webhookId === 'msg_flaky' && failOnce) {
        failOnce = false;
        throw new Error('temporary');
      }
      processed.push(event);
    },
  });
  t.after(() => consumer.close());

  const topic = pubsub.topic(planRoute(prefix, 'batch.succeeded').topic);
  const data = Buffer.from(JSON.stringify(sampleEvent('batch.succeeded')));
  await topic.publishMessage({ data, attributes: { webhook_id: 'msg_once', event_route: 'batch.succeeded' } });
  await topic.publishMessage({
    data,
    attributes: { webhook_id: 'msg_once', event_route: 'batch.succeeded', replay_count: '1' },
  });
  await topic.publishMessage({ data, attributes: { webhook_id: 'msg_flaky', event_route: 'batch.succeeded' } });

  const deadline = Date.now() + 120_000;
  while (
    Date.now() < deadline &&
    !(
      processed.some((e) => e.delivery.webhookId === 'msg_flaky') &&
      lines.some((l) => l.startsWith('duplicate webhook_id=msg_once'))
    )
  ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.deepEqual(processed.map((e) => e.delivery.webhookId).sort(), ['msg_flaky', 'msg_once']);
  assert.ok(
    lines.some((line) => /^duplicate webhook_id=msg_once/.test(line)),
    lines.join('\n'),
  );
  assert.ok(lines.some((line) => /webhook_id=msg_flaky failed: temporary/.test(line)));
  assert.ok(lines.some((line) => /webhook_id=msg_once batch .* finished; results at gs:\/\//.test(line)));
});
