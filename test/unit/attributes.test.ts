// Reading the envelope after verification, and the Pub/Sub attributes built from it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  buildAttributes,
  CLOUDEVENTS_SOURCE,
  MAX_METADATA_DEPTH,
  minimalAttributes,
  truncateUtf8,
  type AttributeInput,
} from '../../functions/attributes.ts';
import { routeFor } from '../../functions/catalog.ts';
import { readEnvelope } from '../../functions/envelope.ts';
import {
  MAX_ATTRIBUTE_KEY_BYTES,
  MAX_ATTRIBUTE_VALUE_BYTES,
  MAX_ATTRIBUTES,
  messageProblem,
} from '../../functions/pubsub-limits.ts';
import type { Verified } from '../../functions/verify/result.ts';
import { BODY, NOW, NOW_SECONDS } from '../support/signing.ts';

const RECEIVED = new Date('2026-01-22T12:00:01.234Z');
const STATIC: Verified = { ok: true, scheme: 'static-v1', webhookId: 'msg_1', timestamp: NOW_SECONDS };

function jwt(
  claims: Record<string, unknown> = {},
  binding: 'claims' | 'digest' | 'signature-only' = 'signature-only',
): Verified {
  return { ok: true, scheme: 'jwt', binding, claims };
}

function attributesFor(
  body: string | Buffer | object,
  overrides: Partial<AttributeInput> = {},
): Record<string, string> {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const envelope = readEnvelope(bytes);
  return buildAttributes({
    webhookId: 'msg_1',
    webhookTimestamp: String(NOW_SECONDS),
    route: routeFor(envelope.type),
    envelope,
    verified: STATIC,
    receivedAt: RECEIVED,
    ...overrides,
  });
}

function metadataKeys(attributes: Record<string, string>): string[] {
  return Object.keys(attributes).filter((key) => key.startsWith('user_metadata_') && key !== 'user_metadata_truncated');
}

/** Pub/Sub's limits, and valid UTF-8 everywhere. */
function assertWithinPubSubLimits(attributes: Record<string, string>): void {
  const entries = Object.entries(attributes);
  assert.ok(entries.length <= MAX_ATTRIBUTES, `${entries.length} attributes`);
  for (const [key, value] of entries) {
    assert.ok(Buffer.byteLength(key) <= MAX_ATTRIBUTE_KEY_BYTES, `key of ${Buffer.byteLength(key)} bytes`);
    assert.ok(
      Buffer.byteLength(value) <= MAX_ATTRIBUTE_VALUE_BYTES,
      `value of ${Buffer.byteLength(value)} bytes for ${key}`,
    );
    assert.ok(!key.startsWith('goog'), key);
    assert.equal(Buffer.from(value).toString('utf8'), value, `value of ${key} is not well-formed UTF-8`);
  }
  assert.equal(messageProblem(Buffer.from(BODY), attributes), undefined, 'the event bus would send it');
}

describe('readEnvelope', () => {
  test('reads type, version, timestamp and data.id from the documented envelope', () => {
    assert.deepEqual(readEnvelope(Buffer.from(BODY)), {
      type: 'batch.succeeded',
      version: 'v1',
      timestamp: '2026-01-22T12:00:00Z',
      subject: 'batch_123456',
      userMetadata: undefined,
    });
  });

  test('a body that is not a JSON object has no type and never throws', () => {
    const empty = {
      type: undefined,
      version: undefined,
      timestamp: undefined,
      subject: undefined,
      userMetadata: undefined,
    };
    for (const body of ['', 'not json', '[1,2]', '"batch.succeeded"', 'null', '42', '{"type":', `\ufeff${BODY}`]) {
      assert.deepEqual(readEnvelope(Buffer.from(body)), empty, body);
    }
    assert.deepEqual(readEnvelope(Buffer.from([0xff, 0xfe, 0x7b, 0x7d])), empty);
  });

  test('fields of the wrong type are left out', () => {
    const envelope = readEnvelope(
      Buffer.from(JSON.stringify({ type: 7, version: ['v1'], timestamp: {}, data: { id: 123 }, user_metadata: ['a'] })),
    );
    assert.deepEqual(envelope, {
      type: undefined,
      version: undefined,
      timestamp: undefined,
      subject: undefined,
      userMetadata: undefined,
    });
  });

  test('user_metadata is read at the top level first, then in data', () => {
    assert.deepEqual(
      readEnvelope(Buffer.from(JSON.stringify({ user_metadata: { a: '1' }, data: { user_metadata: { b: '2' } } })))
        .userMetadata,
      { a: '1' },
    );
    assert.deepEqual(readEnvelope(Buffer.from(JSON.stringify({ data: { user_metadata: { b: '2' } } }))).userMetadata, {
      b: '2',
    });
  });
});

describe('buildAttributes', () => {
  test('a static delivery carries every documented attribute', () => {
    assert.deepEqual(attributesFor(BODY), {
      webhook_id: 'msg_1',
      webhook_timestamp: String(NOW_SECONDS),
      event_type: 'batch.succeeded',
      event_route: 'batch.succeeded',
      event_version: 'v1',
      verification_scheme: 'static-v1',
      received_at: '2026-01-22T12:00:01.234Z',
      'ce-specversion': '1.0',
      'ce-id': 'msg_1',
      'ce-type': 'batch.succeeded',
      'ce-source': CLOUDEVENTS_SOURCE,
      'ce-time': '2026-01-22T12:00:00Z',
      'ce-subject': 'batch_123456',
      'content-type': 'application/json',
    });
  });

  test('a JWT delivery records the scheme and body binding; no webhook-timestamp, no attribute', () => {
    const attributes = attributesFor(BODY, { verified: jwt({}, 'digest'), webhookTimestamp: undefined });
    assert.equal(attributes['verification_scheme'], 'jwt');
    assert.equal(attributes['body_binding'], 'digest');
    assert.ok(!('webhook_timestamp' in attributes));
    assert.equal(attributesFor(BODY)['body_binding'], undefined, 'static deliveries have no body binding');
  });

  test('numeric user_metadata values carry their source text, from the body or from the signed claims', () => {
    // Issue 20 item 9: ...789 was published as ...800 and 1.0 as 1, so a filter on the value as
    // sent never matched.
    const metadata = '{"order_id":1234567890123456789,"ratio":1.0,"tiny":1e-400,"list":[1.50,2],"text":"1.0"}';
    const expected = {
      user_metadata_order_id: '1234567890123456789',
      user_metadata_ratio: '1.0',
      user_metadata_tiny: '1e-400',
      user_metadata_list: '[1.50,2]',
      user_metadata_text: '1.0',
    };
    for (const body of [
      `{"type":"batch.succeeded","user_metadata":${metadata}}`,
      `{"type":"batch.succeeded","data":{"id":"b","user_metadata":${metadata}}}`,
    ]) {
      const attributes = attributesFor(body);
      for (const [key, value] of Object.entries(expected)) assert.equal(attributes[key], value, `${key} in ${body}`);
    }
    const payload = `{"aud":"x","user_metadata":${metadata}}`;
    const claims = JSON.parse(payload) as Record<string, unknown>;
    const verified: Verified = { ok: true, scheme: 'jwt', binding: 'digest', claims, payload };
    const fromClaims = attributesFor(BODY, { verified });
    for (const [key, value] of Object.entries(expected)) assert.equal(fromClaims[key], value, `${key} in the claims`);
  });

  test('the receiver secret in user_metadata is never an attribute', () => {
    const metadata = { receiver_secret: 'x'.repeat(40), tenant: 'acme' };
    for (const attributes of [
      attributesFor({ type: 'batch.succeeded', user_metadata: metadata }),
      attributesFor(BODY, { verified: jwt({ user_metadata: metadata }, 'digest') }),
    ]) {
      assert.equal(attributes['user_metadata_tenant'], 'acme');
      assert.ok(!('user_metadata_receiver_secret' in attributes));
      assert.ok(!Object.values(attributes).includes(metadata.receiver_secret));
      assert.ok(!('user_metadata_truncated' in attributes));
    }
  });

  test('a v1a delivery says so', () => {
    assert.equal(
      attributesFor(BODY, { verified: { ...STATIC, scheme: 'static-v1a' } })['verification_scheme'],
      'static-v1a',
    );
  });

  test('an unknown type is kept as sent, routed to unrouted', () => {
    const attributes = attributesFor({ type: 'batch.completed', data: { id: 'b' } });
    assert.equal(attributes['event_type'], 'batch.completed');
    assert.equal(attributes['event_route'], 'unrouted');
    assert.equal(attributes['ce-type'], 'batch.completed');
  });

  test('a non-JSON body has no type attribute; ce-type is "unknown"', () => {
    const attributes = attributesFor('not json at all');
    assert.ok(!('event_type' in attributes));
    assert.ok(!('event_version' in attributes));
    assert.ok(!('ce-subject' in attributes));
    assert.equal(attributes['event_route'], 'unrouted');
    assert.equal(attributes['ce-type'], 'unknown');
    assert.equal(attributes['ce-time'], new Date(NOW_SECONDS * 1000).toISOString());
    assert.equal(attributesFor({ type: '' })['ce-type'], 'unknown');
  });

  test('ce-time: the envelope timestamp when RFC 3339, else the webhook timestamp, else the receive time', () => {
    assert.equal(
      attributesFor({ type: 'x', timestamp: '2026-01-22T11:59:59.5+01:00' })['ce-time'],
      '2026-01-22T11:59:59.5+01:00',
    );
    assert.equal(attributesFor({ type: 'x', timestamp: 'yesterday' })['ce-time'], NOW.toISOString());
    assert.equal(attributesFor({ type: 'x' }, { webhookTimestamp: undefined })['ce-time'], RECEIVED.toISOString());
  });

  test('an unusable webhook timestamp falls back to the receive time instead of throwing', () => {
    for (const webhookTimestamp of ['abc', '1e400', '99999999999999999999']) {
      assert.equal(
        attributesFor({ type: 'x' }, { webhookTimestamp })['ce-time'],
        RECEIVED.toISOString(),
        webhookTimestamp,
      );
    }
  });

  test('an oversized type is cut to 1024 bytes, still routed to unrouted', () => {
    const attributes = attributesFor({ type: 'é'.repeat(2000) });
    assert.equal(attributes['event_type'], 'é'.repeat(512));
    assert.equal(attributes['ce-type'], 'é'.repeat(512));
    assert.equal(attributes['event_route'], 'unrouted');
  });

  describe('user_metadata', () => {
    test('top-level entries are flattened: strings as-is, everything else as JSON', () => {
      const attributes = attributesFor({
        type: 'batch.succeeded',
        user_metadata: {
          team: 'billing',
          priority: 2,
          urgent: true,
          tags: ['a', 'b'],
          nested: { x: 1 },
          nothing: null,
        },
      });
      assert.deepEqual(Object.fromEntries(metadataKeys(attributes).map((key) => [key, attributes[key]])), {
        user_metadata_team: 'billing',
        user_metadata_priority: '2',
        user_metadata_urgent: 'true',
        user_metadata_tags: '["a","b"]',
        user_metadata_nested: '{"x":1}',
        user_metadata_nothing: 'null',
      });
      assert.ok(!('user_metadata_truncated' in attributes));
    });

    test('entries inside data are flattened too', () => {
      const attributes = attributesFor({
        type: 'batch.succeeded',
        data: { id: 'b', user_metadata: { job: 'nightly' } },
      });
      assert.equal(attributes['user_metadata_job'], 'nightly');
    });

    test('a JWT whose claims carry user_metadata: the claims, never the body', () => {
      const attributes = attributesFor(BODY, { verified: jwt({ user_metadata: { from: 'claims' } }) });
      assert.equal(attributes['user_metadata_from'], 'claims');
      // The adversarial pass: a body with another tenant under a token that names one.
      for (const binding of ['claims', 'digest', 'signature-only'] as const) {
        const both = attributesFor(
          { type: 'x', user_metadata: { tenant: 'globex', extra: 'body' } },
          { verified: jwt({ user_metadata: { tenant: 'acme' } }, binding) },
        );
        assert.equal(both['user_metadata_tenant'], 'acme', binding);
        assert.ok(!('user_metadata_extra' in both), binding);
      }
      // A token that carries user_metadata that is not an object flattens nothing, not the body's.
      assert.deepEqual(
        metadataKeys(
          attributesFor(
            { type: 'x', user_metadata: { a: '1' } },
            { verified: jwt({ user_metadata: 'not an object' }) },
          ),
        ),
        [],
      );
      // A token without user_metadata leaves the body's.
      assert.equal(
        attributesFor({ type: 'x', user_metadata: { from: 'body' } }, { verified: jwt({}) })['user_metadata_from'],
        'body',
      );
    });

    test('an empty user_metadata adds nothing', () => {
      const attributes = attributesFor({ type: 'x', user_metadata: {} });
      assert.deepEqual(metadataKeys(attributes), []);
      assert.ok(!('user_metadata_truncated' in attributes));
    });

    test('more than fit: at most 100 attributes in all, the rest dropped and flagged', () => {
      // Inserted in reverse order: which entries are kept must not depend on the sender's key order.
      const metadata = Object.fromEntries(
        Array.from({ length: 150 }, (_, i) => [`k${String(149 - i).padStart(3, '0')}`, String(149 - i)]),
      );
      for (const verified of [STATIC, jwt({}, 'claims')]) {
        const attributes = attributesFor(
          { type: 'batch.succeeded', data: { id: 'b' }, user_metadata: metadata },
          { verified },
        );
        assert.equal(Object.keys(attributes).length, MAX_ATTRIBUTES);
        assert.equal(attributes['user_metadata_truncated'], 'true');
        assertWithinPubSubLimits(attributes);
        // The standard attributes are never the ones dropped.
        for (const key of [
          'webhook_id',
          'event_type',
          'event_route',
          'ce-id',
          'ce-type',
          'ce-time',
          'verification_scheme',
        ])
          assert.ok(key in attributes, key);
        // Which ones are kept is deterministic: the first keys in sorted order.
        const kept = metadataKeys(attributes);
        const room = MAX_ATTRIBUTES - 1 - (Object.keys(attributes).length - 1 - kept.length);
        assert.equal(kept.length, room);
        assert.deepEqual(
          kept.sort(),
          Array.from({ length: room }, (_, i) => `user_metadata_k${String(i).padStart(3, '0')}`),
        );
      }
    });

    test('exactly as many as fit: no flag', () => {
      const standard = Object.keys(attributesFor(BODY)).length;
      const fit = MAX_ATTRIBUTES - standard - 1;
      const metadata = Object.fromEntries(Array.from({ length: fit }, (_, i) => [`k${i}`, 'v']));
      const attributes = attributesFor({ ...(JSON.parse(BODY) as Record<string, unknown>), user_metadata: metadata });
      assert.equal(metadataKeys(attributes).length, fit);
      assert.ok(!('user_metadata_truncated' in attributes));
    });

    test('a key too long for Pub/Sub (300 bytes) is dropped and flagged; 256 bytes with the prefix fits', () => {
      const maxKey = 'k'.repeat(MAX_ATTRIBUTE_KEY_BYTES - 'user_metadata_'.length);
      const attributes = attributesFor({
        type: 'x',
        user_metadata: { ['k'.repeat(300)]: 'v', [maxKey]: 'fits', ok: 'yes' },
      });
      assert.deepEqual(metadataKeys(attributes).sort(), [`user_metadata_${maxKey}`, 'user_metadata_ok']);
      assert.equal(attributes['user_metadata_truncated'], 'true');
      // Bytes, not characters: 121 two-byte characters are 242 bytes plus the 14-byte prefix = 256...
      assert.ok(
        `user_metadata_${'é'.repeat(121)}` in attributesFor({ type: 'x', user_metadata: { ['é'.repeat(121)]: 'v' } }),
      );
      // ...and one more is over.
      const over = attributesFor({ type: 'x', user_metadata: { ['é'.repeat(122)]: 'v' } });
      assert.deepEqual(metadataKeys(over), []);
      assert.equal(over['user_metadata_truncated'], 'true');
    });

    test('empty keys and keys with control characters are dropped and flagged', () => {
      for (const key of ['', 'a\nb', 'tab\there', 'nul\u0000', 'del\u007f']) {
        const attributes = attributesFor({ type: 'x', user_metadata: { [key]: 'v', ok: 'yes' } });
        assert.deepEqual(metadataKeys(attributes), ['user_metadata_ok'], JSON.stringify(key));
        assert.equal(attributes['user_metadata_truncated'], 'true');
      }
    });

    test('a user key named "truncated" cannot forge the truncation flag', () => {
      const forged = attributesFor({ type: 'x', user_metadata: { truncated: 'false', ok: 'yes' } });
      assert.deepEqual(metadataKeys(forged), ['user_metadata_ok']);
      assert.equal(forged['user_metadata_truncated'], 'true');
    });

    test('__proto__ and constructor keys are ordinary entries', () => {
      const attributes = attributesFor(
        '{"type":"x","user_metadata":{"__proto__":{"polluted":"yes"},"constructor":"c"}}',
      );
      assert.equal(attributes['user_metadata___proto__'], '{"polluted":"yes"}');
      assert.equal(attributes['user_metadata_constructor'], 'c');
      assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
      assert.equal(Object.getPrototypeOf(attributes), Object.prototype);
    });

    test('a 5000-byte value is cut to at most 1024 bytes at a character boundary, and flagged', () => {
      for (const [unit, expected] of [
        ['a', 1024],
        ['é', 1024], // 2 bytes
        ['€', 1023], // 3 bytes: 341 fit
        ['🎬', 1024], // 4 bytes
      ] as const) {
        const value = unit.repeat(Math.ceil(5000 / Buffer.byteLength(unit)));
        const offsets = ['', 'x', 'xy', 'xyz'];
        for (const offset of offsets) {
          const full = offset + value;
          const attributes = attributesFor({ type: 'x', user_metadata: { v: full } });
          const cut = attributes['user_metadata_v']!;
          assert.ok(full.startsWith(cut), 'the cut is a prefix');
          assert.ok(Buffer.byteLength(cut) <= MAX_ATTRIBUTE_VALUE_BYTES);
          assert.ok(
            Buffer.byteLength(cut) > MAX_ATTRIBUTE_VALUE_BYTES - Buffer.byteLength(unit),
            'no more cut than needed',
          );
          assert.ok(!cut.includes('\ufffd'), 'no split character');
          if (offset === '') assert.equal(Buffer.byteLength(cut), expected);
          assert.equal(attributes['user_metadata_truncated'], 'true');
        }
      }
    });

    test('a value of exactly 1024 bytes is kept whole and not flagged', () => {
      const attributes = attributesFor({ type: 'x', user_metadata: { v: 'é'.repeat(512) } });
      assert.equal(attributes['user_metadata_v'], 'é'.repeat(512));
      assert.ok(!('user_metadata_truncated' in attributes));
    });

    test('property: whatever user_metadata holds, the attributes fit Pub/Sub and the standard ones survive', () => {
      fc.assert(
        fc.property(
          fc.dictionary(
            fc.string({ unit: 'binary', maxLength: 300 }),
            fc.oneof(fc.string({ unit: 'binary', maxLength: 1500 }), fc.jsonValue({ maxDepth: 2 })),
            {
              maxKeys: 140,
            },
          ),
          fc.boolean(),
          (metadata, inData) => {
            const body = inData
              ? { type: 'batch.failed', data: { id: 'b', user_metadata: metadata } }
              : { type: 'batch.failed', user_metadata: metadata };
            const attributes = attributesFor(body, { verified: jwt({}, 'claims') });
            assertWithinPubSubLimits(attributes);
            assert.equal(attributes['event_type'], 'batch.failed');
            assert.equal(attributes['body_binding'], 'claims');
          },
        ),
        { numRuns: 300 },
      );
    });
  });
});

describe('hostile strings and shapes', () => {
  test(
    'lone UTF-16 surrogates in the type, subject and user_metadata become U+FFFD; ' +
      'bad keys are dropped and flagged',
    () => {
      // Valid JSON escapes for unpaired surrogates: JSON.parse turns them into lone code units.
      const body =
        '{"type":"batch.\\ud800","data":{"id":"\\ud800"},' +
        '"user_metadata":{"v":"\\udc00","\\ud800":"k","ok":"fine \\ud83c\\udfac"}}';
      const attributes = attributesFor(body);
      assertWithinPubSubLimits(attributes);
      assert.equal(attributes['event_type'], 'batch.\ufffd');
      assert.equal(attributes['ce-type'], 'batch.\ufffd');
      assert.equal(attributes['ce-subject'], '\ufffd');
      assert.equal(attributes['user_metadata_v'], '\ufffd');
      assert.equal(attributes['user_metadata_ok'], 'fine 🎬', 'a proper surrogate pair is kept');
      assert.deepEqual(metadataKeys(attributes).sort(), ['user_metadata_ok', 'user_metadata_v']);
      assert.equal(attributes['user_metadata_truncated'], 'true');
    },
  );

  test('property: any string anywhere, lone surrogates included, gives well-formed attributes within limits', () => {
    const units = fc.oneof(
      fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    const text = fc.string({ unit: units, maxLength: 300 });
    fc.assert(
      fc.property(
        text,
        text,
        fc.dictionary(text, fc.oneof(text, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 20 }),
        (type, id, metadata) => {
          assertWithinPubSubLimits(attributesFor({ type, data: { id }, user_metadata: metadata }));
        },
      ),
      { numRuns: 300 },
    );
  });

  test(
    'user_metadata nested 4,500 levels deep: dropped and flagged, ' +
      `not a stack overflow; ${MAX_METADATA_DEPTH} levels still serialise`,
    () => {
      const nested = `${'{"a":'.repeat(4500)}1${'}'.repeat(4500)}`;
      const deep = `{"type":"batch.succeeded","user_metadata":{"deep":${nested},"ok":"yes"}}`;
      const attributes = attributesFor(deep);
      assert.equal(attributes['user_metadata_ok'], 'yes');
      assert.ok(!('user_metadata_deep' in attributes));
      assert.equal(attributes['user_metadata_truncated'], 'true');
      const fits = JSON.parse(`${'{"a":'.repeat(MAX_METADATA_DEPTH)}1${'}'.repeat(MAX_METADATA_DEPTH)}`) as unknown;
      const kept = attributesFor({ type: 'x', user_metadata: { fits } });
      assert.equal(kept['user_metadata_fits'], JSON.stringify(fits));
      assert.ok(!('user_metadata_truncated' in kept));
    },
  );

  test('the same depth in JWT claims is bounded the same way', () => {
    const deep = JSON.parse(`${'['.repeat(4500)}${']'.repeat(4500)}`) as unknown;
    const attributes = attributesFor(BODY, { verified: jwt({ user_metadata: { deep, ok: 'yes' } }, 'digest') });
    assert.equal(attributes['user_metadata_ok'], 'yes');
    assert.equal(attributes['user_metadata_truncated'], 'true');
  });

  test('minimal attributes: routing facts only, flagged incomplete', () => {
    const minimal = minimalAttributes({
      webhookId: 'jwt:abc',
      route: 'unrouted',
      verified: jwt({}, 'digest'),
      receivedAt: RECEIVED,
    });
    assert.deepEqual(minimal, {
      webhook_id: 'jwt:abc',
      event_route: 'unrouted',
      verification_scheme: 'jwt',
      body_binding: 'digest',
      received_at: RECEIVED.toISOString(),
      'ce-specversion': '1.0',
      'ce-id': 'jwt:abc',
      'ce-source': CLOUDEVENTS_SOURCE,
      attributes_incomplete: 'true',
    });
    assertWithinPubSubLimits(minimal);
  });
});

describe('truncateUtf8', () => {
  test('short strings are unchanged; cuts never split a character', () => {
    assert.equal(truncateUtf8('abc', 3), 'abc');
    assert.equal(truncateUtf8('abcd', 3), 'abc');
    assert.equal(truncateUtf8('aé', 2), 'a');
    assert.equal(truncateUtf8('a€', 3), 'a');
    assert.equal(truncateUtf8('🎬🎬', 7), '🎬');
    assert.equal(truncateUtf8('🎬', 3), '');
    assert.equal(truncateUtf8('x', 0), '');
  });

  test('property: the longest well-formed prefix within the byte budget', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.integer({ min: 0, max: 400 }),
        (text, maxBytes) => {
          const cut = truncateUtf8(text, maxBytes);
          assert.ok(text.startsWith(cut));
          assert.ok(Buffer.byteLength(cut) <= maxBytes);
          const codePoints = [...text];
          const kept = [...cut].length;
          if (kept < codePoints.length)
            assert.ok(Buffer.byteLength(cut + codePoints[kept]!) > maxBytes, 'stopped too early');
        },
      ),
      { numRuns: 1000 },
    );
  });
});
