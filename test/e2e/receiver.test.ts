/**
 * End to end: signed deliveries over real HTTP into the receiver under the Functions Framework
 * CLI, published to the real Pub/Sub emulator, read back from the local topology.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { Message } from '@google-cloud/pubsub';
import { EVENT_TYPES, UNROUTED, type RouteKey } from '../../functions/catalog.ts';
import { planRoute } from '../../functions/topology.ts';
import { sampleEvent } from '../../scripts/lib/samples.ts';
import { newWebhookId, post, signJwt, signStatic } from '../support/deliveries.ts';
import { PREFIX, PROJECT, startLocalStack, type LocalStack } from '../support/local-stack.ts';

let stack: LocalStack;

before(async () => {
  stack = await startLocalStack();
});

after(async () => {
  await stack?.stop();
});

function onlyMessage(messages: Message[], webhookId: string): Message {
  const matching = messages.filter((message) => message.attributes['webhook_id'] === webhookId);
  assert.equal(matching.length, 1, `exactly one message with webhook_id ${webhookId}`);
  return matching[0]!;
}

/**
 * Sends a valid delivery on `route` and waits until it is received: what the receiver published
 * before it has had every chance to arrive, so a test can assert on what did not arrive without
 * sleeping. Returns the sentinel's webhook id.
 */
async function sentinel(route: RouteKey): Promise<string> {
  const id = newWebhookId();
  const before = stack.received.get(route)!.length;
  const response = await post(stack.receiver.url, signStatic(stack.secrets[0]!, sampleEvent(route), { id }));
  assert.equal(response.status, 200, response.body);
  const received = await stack.waitFor(route, before + 1);
  assert.ok(
    received.some((m) => m.attributes['webhook_id'] === id),
    'the sentinel arrived',
  );
  return id;
}

describe('static (HMAC) deliveries', () => {
  for (const type of [...EVENT_TYPES, 'batch.completed']) {
    const route: RouteKey = (EVENT_TYPES as readonly string[]).includes(type) ? (type as RouteKey) : UNROUTED;
    test(`${type} lands on ${planRoute(PREFIX, route).topic} with the exact bytes and attributes`, async () => {
      const before = stack.received.get(route)!.length;
      const event = sampleEvent(type, { userMetadata: { team: 'research', run: 7 } });
      // Sign with the older of the two configured secrets: rotation must keep it valid.
      const delivery = signStatic(stack.secrets[1]!, event);
      const response = await post(stack.receiver.url, delivery);
      assert.equal(response.status, 200, response.body);
      assert.equal((JSON.parse(response.body) as { status: string }).status, 'published');

      const messages = await stack.waitFor(route, before + 1);
      const message = onlyMessage(messages, delivery.headers['webhook-id']!);
      assert.deepEqual(message.data, delivery.body, 'published bytes equal the request body');
      const a = message.attributes;
      assert.equal(a['webhook_timestamp'], delivery.headers['webhook-timestamp']);
      assert.equal(a['event_type'], type);
      assert.equal(a['event_route'], route);
      assert.equal(a['event_version'], 'v1');
      assert.equal(a['verification_scheme'], 'static-v1');
      assert.equal(a['body_binding'], undefined);
      assert.ok(!Number.isNaN(Date.parse(a['received_at']!)));
      assert.equal(a['ce-specversion'], '1.0');
      assert.equal(a['ce-id'], delivery.headers['webhook-id']);
      assert.equal(a['ce-type'], type);
      assert.equal(a['ce-source'], 'https://generativelanguage.googleapis.com');
      assert.equal(a['ce-time'], event['timestamp']);
      assert.equal(a['ce-subject'], (event['data'] as { id: string }).id);
      assert.equal(a['user_metadata_team'], 'research');
      assert.equal(a['user_metadata_run'], '7');
    });
  }

  test('a verified body without a readable type goes to unrouted, unchanged', async () => {
    const before = stack.received.get(UNROUTED)!.length;
    const delivery = signStatic(stack.secrets[0]!, 'not json at all \u00e9');
    delivery.headers['content-type'] = 'text/plain';
    const response = await post(stack.receiver.url, delivery);
    assert.equal(response.status, 200, response.body);
    const message = onlyMessage(await stack.waitFor(UNROUTED, before + 1), delivery.headers['webhook-id']!);
    assert.deepEqual(message.data, delivery.body);
    assert.equal(message.attributes['event_type'], undefined);
    assert.equal(message.attributes['ce-type'], 'unknown');
  });

  test('the body is read whatever the Content-Type, including none', async () => {
    for (const contentType of [
      undefined,
      'text/plain; charset=latin1',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
    ]) {
      const before = stack.received.get('batch.failed')!.length;
      const delivery = signStatic(stack.secrets[0]!, sampleEvent('batch.failed'));
      if (contentType === undefined) delete delivery.headers['content-type'];
      else delivery.headers['content-type'] = contentType;
      const response = await post(stack.receiver.url, delivery);
      assert.equal(response.status, 200, `${contentType}: ${response.body}`);
      const message = onlyMessage(await stack.waitFor('batch.failed', before + 1), delivery.headers['webhook-id']!);
      assert.deepEqual(message.data, delivery.body, `${contentType}: exact bytes`);
    }
  });

  test('a duplicate delivery is answered 2xx and published once', async () => {
    const before = stack.received.get('interaction.completed')!.length;
    const id = newWebhookId();
    const event = sampleEvent('interaction.completed');
    const first = await post(stack.receiver.url, signStatic(stack.secrets[0]!, event, { id }));
    // A retry is signed afresh, as Gemini does, but carries the same webhook id.
    const retry = await post(
      stack.receiver.url,
      signStatic(stack.secrets[0]!, event, { id, at: new Date(Date.now() + 1000) }),
    );
    assert.equal(first.status, 200);
    assert.equal(retry.status, 200);
    assert.equal((JSON.parse(retry.body) as { status: string }).status, 'duplicate');
    await stack.waitFor('interaction.completed', before + 1);
    await sentinel('interaction.completed');
    assert.equal(
      stack.received.get('interaction.completed')!.filter((m) => m.attributes['webhook_id'] === id).length,
      1,
    );
  });

  test('a forged signature is refused with 401 and nothing is published', async () => {
    const before = stack.received.get('batch.succeeded')!.length;
    const delivery = signStatic('whsec_' + Buffer.alloc(32, 7).toString('base64'), sampleEvent('batch.succeeded'));
    const response = await post(stack.receiver.url, delivery);
    assert.equal(response.status, 401);
    assert.deepEqual(JSON.parse(response.body), { error: 'verification_failed' });
    const tampered = signStatic(stack.secrets[0]!, sampleEvent('batch.succeeded'));
    tampered.body = Buffer.from(tampered.body.toString().replace('batch.succeeded', 'batch.succeedex'));
    assert.equal((await post(stack.receiver.url, tampered)).status, 401);
    const id = await sentinel('batch.succeeded');
    assert.deepEqual(
      stack.received
        .get('batch.succeeded')!
        .slice(before)
        .map((m) => m.attributes['webhook_id']),
      [id],
      'only the sentinel arrived',
    );
  });

  test('a signed body labelled JSON that is not JSON is still published, to unrouted', async () => {
    // The framework's body-parser never sees webhook bodies (functions/body-takeover.ts): the
    // receiver verifies the raw bytes, and a verified body is never lost for failing to parse.
    const before = stack.received.get(UNROUTED)!.length;
    const delivery = signStatic(stack.secrets[0]!, '{"type": "batch.succeeded",');
    const response = await post(stack.receiver.url, delivery);
    assert.equal(response.status, 200, response.body);
    const message = onlyMessage(await stack.waitFor(UNROUTED, before + 1), delivery.headers['webhook-id']!);
    assert.deepEqual(message.data, delivery.body);
  });

  test('an unsigned body labelled JSON that is not JSON is refused by verification, not parsed', async () => {
    const delivery = signStatic(stack.secrets[0]!, '{"type": "batch.succeeded"}');
    delivery.body = Buffer.from('{"type": "batch.succeeded",');
    const response = await post(stack.receiver.url, delivery);
    assert.equal(response.status, 401);
    assert.deepEqual(JSON.parse(response.body), { error: 'verification_failed' });
  });

  test('malformed headers are 400, other methods 405, other paths 404', async () => {
    const delivery = signStatic(stack.secrets[0]!, sampleEvent('batch.succeeded'));
    const { ['webhook-id']: _, ...withoutId } = delivery.headers;
    assert.equal((await post(stack.receiver.url, { ...delivery, headers: withoutId })).status, 400);
    assert.equal(
      (await post(stack.receiver.url, { ...delivery, headers: { ...delivery.headers, 'webhook-timestamp': '12.5' } }))
        .status,
      400,
    );
    const get = await fetch(stack.receiver.url);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get('allow'), 'POST');
    assert.equal((await post(`${stack.receiver.url}other`, delivery)).status, 404);
  });

  test('a body over the limit is refused with 413, declared or streamed', async () => {
    const big = signStatic(stack.secrets[0]!, { type: 'batch.succeeded', pad: 'x'.repeat(1_100_000) });
    assert.equal((await post(stack.receiver.url, big)).status, 413);
    // Without a Content-Type the framework leaves the stream to us, and we stop at the limit.
    const { ['content-type']: _, ...untyped } = big.headers;
    assert.equal((await post(stack.receiver.url, { ...big, headers: untyped })).status, 413);
  });
});

describe('dynamic (JWT) deliveries', () => {
  test(
    'an RS256 token from the JWKS is accepted, ' + 'its body binding recorded, and its id taken from the signed jti',
    async () => {
      const before = stack.received.get('video.generated')!.length;
      const event = sampleEvent('video.generated');
      const body = JSON.stringify(event);
      const digest = { body_sha256: createHash('sha256').update(body).digest('hex') };
      const cases = [
        [digest, 'digest'],
        [{ ...event }, 'claims'],
        [{}, 'signature-only'],
      ] as const;
      for (const [index, [claims, binding]] of cases.entries()) {
        const jti = newWebhookId();
        // The webhook-id header is not signed: it must not become the id consumers dedupe on.
        const delivery = await signJwt(stack.jwtKeys.privateJwk, event, { ...claims, jti }, { id: newWebhookId() });
        const response = await post(stack.receiver.url, delivery);
        assert.equal(response.status, 200, response.body);
        assert.equal((JSON.parse(response.body) as { id: string }).id, `jwt:${jti}`);
        const messages = await stack.waitFor('video.generated', before + index + 1);
        const message = onlyMessage(messages, `jwt:${jti}`);
        assert.deepEqual(message.data, delivery.body);
        assert.equal(message.attributes['verification_scheme'], 'jwt');
        assert.equal(message.attributes['body_binding'], binding);
        assert.equal(message.attributes['ce-id'], `jwt:${jti}`);
      }
    },
  );

  test('a token without jti is published under the digest of its body', async () => {
    const before = stack.received.get('batch.cancelled')!.length;
    const event = sampleEvent('batch.cancelled');
    const delivery = await signJwt(stack.jwtKeys.privateJwk, event, {
      body_sha256: createHash('sha256').update(JSON.stringify(event)).digest('hex'),
    });
    assert.equal((await post(stack.receiver.url, delivery)).status, 200);
    const id = `jwt:body-sha256:${createHash('sha256').update(delivery.body).digest('hex')}`;
    onlyMessage(await stack.waitFor('batch.cancelled', before + 1), id);
  });

  test("a genuine token minted for another Gemini user's webhook is refused", async () => {
    // Same JWKS, valid signature, but the audience is someone else's endpoint: the replay a
    // receiver without an audience check would accept.
    const event = sampleEvent('batch.succeeded');
    const body = JSON.stringify(event);
    const delivery = await signJwt(
      stack.jwtKeys.privateJwk,
      event,
      { body_sha256: createHash('sha256').update(body).digest('hex') },
      {
        audience: 'https://attacker.example/hook',
      },
    );
    const response = await post(stack.receiver.url, delivery);
    assert.equal(response.status, 401);
  });

  test('a token signed by a key outside the JWKS is refused', async () => {
    const { generateJwtKeyPair } = await import('../../scripts/lib/dev-keys.ts');
    const stranger = await generateJwtKeyPair(stack.jwtKeys.kid);
    const response = await post(stack.receiver.url, await signJwt(stranger.privateJwk, sampleEvent('batch.succeeded')));
    assert.equal(response.status, 401);
  });
});

describe('dead letters on the local topology', () => {
  test('a message its consumer keeps refusing moves to the dead-letter subscription', async () => {
    stack.nack.add('batch.expired');
    const deadLetters: Message[] = [];
    const deadLetterSubscription = stack.subscription(planRoute(PREFIX, 'batch.expired').deadLetterSubscription);
    deadLetterSubscription.on('message', (message: Message) => {
      deadLetters.push(message);
      message.ack();
    });
    try {
      const delivery = signStatic(stack.secrets[0]!, sampleEvent('batch.expired'));
      assert.equal((await post(stack.receiver.url, delivery)).status, 200);
      const deadline = Date.now() + 60_000;
      while (deadLetters.length === 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(deadLetters.length, 1, 'dead-lettered once');
      const [dead] = deadLetters;
      assert.deepEqual(dead!.data, delivery.body);
      assert.equal(dead!.attributes['webhook_id'], delivery.headers['webhook-id']);
      assert.equal(
        dead!.attributes['CloudPubSubDeadLetterSourceSubscription'],
        `${planRoute(PREFIX, 'batch.expired').topic}-e2e`,
      );
      assert.ok(stack.received.get('batch.expired')!.length >= 5, 'delivered max attempts times before dead-lettering');
    } finally {
      stack.nack.delete('batch.expired');
      await deadLetterSubscription.close();
    }
  });
});

describe('when Pub/Sub is down', () => {
  test('the receiver answers 503 with Retry-After, never 2xx, within the publish deadline', async () => {
    await stack.emulator.stop();
    for (const type of ['batch.succeeded', 'something.new']) {
      const started = Date.now();
      const response = await post(stack.receiver.url, signStatic(stack.secrets[0]!, sampleEvent(type)), {
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(response.status, 503, response.body);
      assert.ok(Number(response.headers.get('retry-after')) > 0);
      // Generous bound against a 2 s deadline: the point is "does not hang", not speed.
      assert.ok(Date.now() - started < 10_000, 'answered without hanging');
    }
    assert.ok(PROJECT);
  });
});
