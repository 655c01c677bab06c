// The budget for incomplete bodies and the body deadline (reading itself is tested through HTTP in
// receiver.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyDeadlineMs, PendingBodies } from '../../functions/body-reader.ts';

test('over the budget, the body idle longest is cut, however much the body arriving at full speed holds', () => {
  // Issue 20 item 2: the body holding the most was cut, and a genuine body arriving at line rate
  // soon held the most.
  let now = 0;
  const pending = new PendingBodies(1000, () => now);
  const cut: string[] = [];
  const stalled = pending.open(() => cut.push('stalled'));
  const streaming = pending.open(() => cut.push('streaming'));
  stalled.add(300);
  now = 1500; // the stalled sender has sent nothing since
  streaming.add(600);
  now = 1510;
  streaming.add(200); // 1100 > 1000: the stalled body goes, although the streaming one holds more
  assert.deepEqual(cut, ['stalled']);
  assert.equal(pending.heldBytes, 800);
  stalled.add(10); // a cut body counts nothing more
  assert.equal(pending.heldBytes, 800);
  streaming.close();
  assert.equal(pending.heldBytes, 0);
});

test('among bodies idle equally long, the one holding the most is cut', () => {
  const pending = new PendingBodies(1000, () => 0);
  const cut: string[] = [];
  const big = pending.open(() => cut.push('big'));
  const small = pending.open(() => cut.push('small'));
  big.add(900);
  small.add(150);
  assert.deepEqual(cut, ['big']);
});

test('a body alone over the budget is cut itself', () => {
  const pending = new PendingBodies(100);
  const cut: string[] = [];
  const only = pending.open(() => cut.push('only'));
  only.add(101);
  assert.deepEqual(cut, ['only']);
  assert.equal(pending.heldBytes, 0);
});

test('the deadline: the base for any body, plus the bytes received at the minimum rate', () => {
  const limits = { maxBytes: 1 << 20, baseTimeoutMs: 2000, minBytesPerSecond: 64 * 1024, idleTimeoutMs: 2000 };
  assert.equal(bodyDeadlineMs(limits, 0), 2000);
  assert.equal(bodyDeadlineMs(limits, 4096), 2063);
  assert.equal(bodyDeadlineMs(limits, 1 << 20), 18_000);
});
