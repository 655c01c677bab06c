/**
 * Adding an event type is its line in functions/catalog.ts, then `npm run docs`, its decoder entry in
 * packages/subscriber/src/event-fields.ts and its sample in scripts/lib/samples.ts. Each test here names the one
 * of those that is missing; everything else (topics, dead-letter topics, routing, the subscriber's
 * types, the docs' lists, the CLI's --type choices) follows the catalog by itself.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_TYPES, ROUTE_KEYS, routeFor } from '../../functions/catalog.ts';
import { planRoutes } from '../../functions/topology.ts';
import { eventCatalogTable, subscriberEventTypesFile } from '../../scripts/lib/catalog-files.ts';
import { SAMPLE_DATA, sampleEvent } from '../../scripts/lib/samples.ts';
import { decodeGeminiEvent } from '../../packages/subscriber/src/decode.ts';
import { EVENT_FIELDS } from '../../packages/subscriber/src/event-fields.ts';
import { GEMINI_EVENT_TYPES } from '../../packages/subscriber/src/event-types.ts';

const published = (type: string) => ({
  data: Buffer.from(JSON.stringify(sampleEvent(type))),
  attributes: { webhook_id: 'msg_1', event_type: type },
});

describe('every catalog event type', () => {
  it('is in the subscriber kit (run `npm run docs` to regenerate packages/subscriber/src/event-types.ts)', () => {
    assert.deepEqual([...GEMINI_EVENT_TYPES], [...EVENT_TYPES]);
  });

  for (const type of EVENT_TYPES) {
    it(`${type}: has a decoder entry and a sample, and decodes to its own variant`, () => {
      assert.ok(type in EVENT_FIELDS, `add '${type}' to EVENT_FIELDS in packages/subscriber/src/event-fields.ts`);
      assert.ok(type in SAMPLE_DATA, `add '${type}' to SAMPLE_DATA in scripts/lib/samples.ts`);
      assert.equal(decodeGeminiEvent(published(type)).type, type);
    });
  }

  it('and no other type has a decoder or a sample', () => {
    assert.deepEqual(
      Object.keys(EVENT_FIELDS).sort(),
      [...EVENT_TYPES].sort(),
      'packages/subscriber/src/event-fields.ts',
    );
    assert.deepEqual(Object.keys(SAMPLE_DATA).sort(), [...EVENT_TYPES].sort(), 'scripts/lib/samples.ts');
  });
});

describe('a type the catalog does not list yet', () => {
  const next = 'example.hypothetical';

  it('is routed to unrouted and decoded as unknown, with its body kept', () => {
    assert.equal(routeFor(next), 'unrouted');
    const event = decodeGeminiEvent(published(next));
    assert.equal(event.type, 'unknown');
    assert.equal(event.eventType, next);
  });

  it('once listed, gets its line in the generated kit list; topics and docs follow the catalog itself', () => {
    assert.match(subscriberEventTypesFile([...EVENT_TYPES, next]), /^ {2}'example\.hypothetical',$/m);
    // The topology and the docs table are computed from ROUTE_KEYS, not from a list of their own.
    assert.deepEqual(
      planRoutes('gemini').map((route) => route.route),
      [...ROUTE_KEYS],
    );
    for (const route of ROUTE_KEYS) assert.ok(eventCatalogTable().includes(`gemini-${route.replace(/[._]/g, '-')}\``));
  });
});
