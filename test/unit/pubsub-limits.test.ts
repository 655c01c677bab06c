// The message checks the event bus makes before a message may join a Publish batch.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  MAX_ATTRIBUTE_KEY_BYTES,
  MAX_ATTRIBUTE_VALUE_BYTES,
  MAX_ATTRIBUTES,
  MAX_MESSAGE_BYTES,
  messageProblem,
} from '../../functions/pubsub-limits.ts';

const data = Buffer.from('{"type":"batch.succeeded"}');

test('a message within every limit has no problem, at the edges too', () => {
  assert.equal(messageProblem(data, { webhook_id: 'msg_1' }), undefined);
  const full = Object.fromEntries(
    Array.from({ length: MAX_ATTRIBUTES }, (_, i) => [
      `k${i}`.padEnd(MAX_ATTRIBUTE_KEY_BYTES, 'k'),
      'é'.repeat(MAX_ATTRIBUTE_VALUE_BYTES / 2),
    ]),
  );
  assert.equal(messageProblem(data, full), undefined);
  assert.equal(messageProblem(data, { ok: 'fine 🎬' }), undefined, 'a surrogate pair is well-formed');
});

test('each limit Pub/Sub documents is a problem named in one phrase', () => {
  const cases: Array<[Record<string, string>, RegExp, Buffer?]> = [
    [Object.fromEntries(Array.from({ length: MAX_ATTRIBUTES + 1 }, (_, i) => [`k${i}`, 'v'])), /101 attributes/],
    [{ ['k'.repeat(MAX_ATTRIBUTE_KEY_BYTES + 1)]: 'v' }, /key of 257 bytes/],
    [{ '': 'v' }, /key of 0 bytes/],
    [{ googReserved: 'v' }, /"goog"/],
    [{ v: 'x'.repeat(MAX_ATTRIBUTE_VALUE_BYTES + 1) }, /value of 1025 bytes/],
    [{ v: '\ud800' }, /not valid UTF-8/],
    [{ '\udc00': 'v' }, /not valid UTF-8/],
    [{ v: 'a' }, /bytes in all/, Buffer.alloc(MAX_MESSAGE_BYTES)],
  ];
  for (const [attributes, problem, body] of cases)
    assert.match(messageProblem(body ?? data, attributes) ?? '', problem);
});
