// Per-instance dedupe of recently published webhook ids, with an injected clock.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RecentDeliveries } from '../../functions/recent-deliveries.ts';

function setup(options: { maxEntries?: number; ttlMs?: number } = {}) {
  const clock = { t: 1_000_000 };
  const recent = new RecentDeliveries<string>({
    maxEntries: options.maxEntries ?? 100,
    ttlMs: options.ttlMs ?? 60_000,
    now: () => clock.t,
  });
  return { clock, recent };
}

/** A publish the test settles by hand, counting how often it was started. */
function manualPublish() {
  let calls = 0;
  let resolve!: (value: string) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return {
    publish: () => {
      calls++;
      return promise;
    },
    calls: () => calls,
    resolve: (value: string) => resolve(value),
    reject: (error: Error) => reject(error),
  };
}

describe('RecentDeliveries', () => {
  test('an id is unknown until its publish succeeds, then known', async () => {
    const { recent } = setup();
    assert.equal(recent.wasPublished('msg_1'), false);
    const result = await recent.once('msg_1', async () => 'message-1');
    assert.deepEqual(result, { value: 'message-1', shared: false });
    assert.equal(recent.wasPublished('msg_1'), true);
    assert.equal(recent.wasPublished('msg_2'), false);
    assert.equal(recent.size, 1);
  });

  test('an id is not known while its publish is still running', async () => {
    const { recent } = setup();
    const pending = manualPublish();
    const running = recent.once('msg_1', pending.publish);
    assert.equal(recent.wasPublished('msg_1'), false);
    pending.resolve('m');
    await running;
    assert.equal(recent.wasPublished('msg_1'), true);
  });

  test('a failed publish is not recorded, and the next attempt publishes again', async () => {
    const { recent } = setup();
    await assert.rejects(
      recent.once('msg_1', async () => {
        throw new Error('pubsub down');
      }),
      /pubsub down/,
    );
    assert.equal(recent.wasPublished('msg_1'), false);
    assert.equal(recent.size, 0);
    let calls = 0;
    const retry = await recent.once('msg_1', async () => {
      calls++;
      return 'message-1';
    });
    assert.deepEqual(retry, { value: 'message-1', shared: false });
    assert.equal(calls, 1);
    assert.equal(recent.wasPublished('msg_1'), true);
  });

  test('concurrent deliveries of one id share a single publish (single flight)', async () => {
    const { recent } = setup();
    const pending = manualPublish();
    const first = recent.once('msg_1', pending.publish);
    const second = recent.once('msg_1', pending.publish);
    const third = recent.once('msg_1', pending.publish);
    assert.equal(pending.calls(), 1);
    pending.resolve('message-1');
    assert.deepEqual(await Promise.all([first, second, third]), [
      { value: 'message-1', shared: false },
      { value: 'message-1', shared: true },
      { value: 'message-1', shared: true },
    ]);
    assert.equal(pending.calls(), 1);
  });

  test('when a shared publish fails, every waiter sees the failure and nothing is recorded', async () => {
    const { recent } = setup();
    const pending = manualPublish();
    const first = recent.once('msg_1', pending.publish);
    const second = recent.once('msg_1', pending.publish);
    pending.reject(new Error('deadline exceeded'));
    await assert.rejects(first, /deadline exceeded/);
    await assert.rejects(second, /deadline exceeded/);
    assert.equal(recent.wasPublished('msg_1'), false);
    // The in-flight slot is free again: a retry starts a new publish.
    let calls = 0;
    await recent.once('msg_1', async () => {
      calls++;
      return 'm';
    });
    assert.equal(calls, 1);
  });

  test('different ids publish independently', async () => {
    const { recent } = setup();
    const a = manualPublish();
    const b = manualPublish();
    const first = recent.once('msg_a', a.publish);
    const second = recent.once('msg_b', b.publish);
    assert.equal(a.calls() + b.calls(), 2);
    b.resolve('b');
    a.resolve('a');
    assert.deepEqual(await Promise.all([first, second]), [
      { value: 'a', shared: false },
      { value: 'b', shared: false },
    ]);
  });

  test('an id is forgotten once older than the TTL', async () => {
    const { clock, recent } = setup({ ttlMs: 60_000 });
    await recent.once('msg_1', async () => 'm');
    clock.t += 60_000;
    assert.equal(recent.wasPublished('msg_1'), true, 'exactly at the TTL it is still known');
    clock.t += 1;
    assert.equal(recent.wasPublished('msg_1'), false);
    assert.equal(recent.size, 0, 'an expired id is removed when looked up');
  });

  test('republishing an id restarts its TTL', async () => {
    const { clock, recent } = setup({ ttlMs: 60_000 });
    await recent.once('msg_1', async () => 'm');
    clock.t += 50_000;
    await recent.once('msg_1', async () => 'm');
    clock.t += 50_000;
    assert.equal(recent.wasPublished('msg_1'), true);
  });

  test('beyond maxEntries the oldest ids are evicted first', async () => {
    const { clock, recent } = setup({ maxEntries: 3 });
    for (const id of ['a', 'b', 'c']) {
      await recent.once(id, async () => id);
      clock.t += 1;
    }
    await recent.once('d', async () => 'd');
    assert.equal(recent.size, 3);
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((id) => recent.wasPublished(id)),
      [false, true, true, true],
    );
    // Re-publishing b makes it the youngest: c goes next.
    await recent.once('b', async () => 'b');
    await recent.once('e', async () => 'e');
    assert.deepEqual(
      ['b', 'c', 'd', 'e'].map((id) => recent.wasPublished(id)),
      [true, false, true, true],
    );
  });

  test('memory stays bounded under many ids', async () => {
    const { recent } = setup({ maxEntries: 50 });
    for (let i = 0; i < 1000; i++) await recent.once(`msg_${i}`, async () => 'm');
    assert.equal(recent.size, 50);
    assert.equal(recent.wasPublished('msg_999'), true);
    assert.equal(recent.wasPublished('msg_949'), false);
  });
});
