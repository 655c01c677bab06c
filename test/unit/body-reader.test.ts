// The budget for incomplete bodies and the body deadline (reading itself is tested through HTTP in
// receiver.test.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bodyDeadlineMs, PendingBodies } from '../../functions/body-reader.ts';

test('over the budget, the body holding the most bytes is cut, whoever sent the last chunk', () => {
  const pending = new PendingBodies(1000);
  const cut: string[] = [];
  const big = pending.open(() => cut.push('big'));
  const small = pending.open(() => cut.push('small'));
  big.add(900);
  small.add(50);
  assert.deepEqual(cut, []);
  small.add(100); // 1050 > 1000: the 900-byte body goes, the small one stays
  assert.deepEqual(cut, ['big']);
  assert.equal(pending.heldBytes, 150);
  big.add(10); // a cut body counts nothing more
  assert.equal(pending.heldBytes, 150);
  small.close();
  assert.equal(pending.heldBytes, 0);
});

test('a body alone over the budget is cut itself', () => {
  const pending = new PendingBodies(100);
  const cut: string[] = [];
  const only = pending.open(() => cut.push('only'));
  only.add(101);
  assert.deepEqual(cut, ['only']);
  assert.equal(pending.heldBytes, 0);
});

test('the deadline: the base for any body, plus its size at the minimum rate', () => {
  const limits = { maxBytes: 1 << 20, baseTimeoutMs: 2000, minBytesPerSecond: 64 * 1024 };
  assert.equal(bodyDeadlineMs(limits, 0), 2000);
  assert.equal(bodyDeadlineMs(limits, 4096), 2063);
  assert.equal(bodyDeadlineMs(limits, 1 << 20), 18_000);
});
