// The event catalog (routing, topic names) and the topology plan derived from it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CATALOGUED_ONLY_EVENT_TYPES,
  DEFAULT_TOPIC_PREFIX,
  EVENT_TYPES,
  isEventType,
  MAX_TOPIC_PREFIX_LENGTH,
  ROUTE_KEYS,
  routeFor,
  SUBSCRIBABLE_EVENT_TYPES,
  topicFor,
  topicPrefixProblem,
  UNROUTED,
} from '../../functions/catalog.ts';
import {
  consumerNameProblem,
  MAX_DELIVERY_ATTEMPTS,
  MIN_DELIVERY_ATTEMPTS,
  planRoute,
  planRoutes,
  planSubscription,
  TOPOLOGY_DEFAULTS,
} from '../../functions/topology.ts';

/** Pub/Sub topic and subscription ids: https://cloud.google.com/pubsub/docs/pubsub-basics#resource_names */
function assertPubSubId(name: string): void {
  assert.match(name, /^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$/, `not a valid Pub/Sub id: ${name}`);
  assert.ok(!name.toLowerCase().startsWith('goog'), `Pub/Sub reserves "goog": ${name}`);
}

/** The topic names users' subscriptions and dashboards depend on, pinned; a new catalog type adds its line here. */
const EXPECTED_TOPICS: Readonly<Record<string, string>> = {
  'batch.succeeded': 'gemini-batch-succeeded',
  'batch.failed': 'gemini-batch-failed',
  'batch.expired': 'gemini-batch-expired',
  'interaction.requires_action': 'gemini-interaction-requires-action',
  'interaction.completed': 'gemini-interaction-completed',
  'interaction.failed': 'gemini-interaction-failed',
  'video.generated': 'gemini-video-generated',
  'batch.cancelled': 'gemini-batch-cancelled',
  'interaction.cancelled': 'gemini-interaction-cancelled',
  unrouted: 'gemini-unrouted',
};

describe('event catalog', () => {
  test('lists the 7 subscribable and 2 catalogued-only types, and nothing else', () => {
    assert.deepEqual(
      [...SUBSCRIBABLE_EVENT_TYPES].sort(),
      [
        'batch.expired',
        'batch.failed',
        'batch.succeeded',
        'interaction.completed',
        'interaction.failed',
        'interaction.requires_action',
        'video.generated',
      ],
      'the catalog as Gemini documents it, pinned: a new type adds its line here and to EXPECTED_TOPICS',
    );
    assert.deepEqual([...CATALOGUED_ONLY_EVENT_TYPES].sort(), ['batch.cancelled', 'interaction.cancelled']);
    assert.equal(new Set(EVENT_TYPES).size, EVENT_TYPES.length, 'no type is listed twice');
    assert.ok(!isEventType('batch.completed'), 'batch.completed does not exist in the API');
  });

  test('every type and unrouted has the documented topic name under the default prefix', () => {
    assert.deepEqual(ROUTE_KEYS, [...EVENT_TYPES, UNROUTED]);
    for (const route of ROUTE_KEYS) assert.equal(topicFor(DEFAULT_TOPIC_PREFIX, route), EXPECTED_TOPICS[route]);
    assert.equal(Object.keys(EXPECTED_TOPICS).length, ROUTE_KEYS.length);
  });

  test('a custom prefix replaces "gemini"', () => {
    assert.equal(topicFor('acme-ai', 'interaction.requires_action'), 'acme-ai-interaction-requires-action');
    assert.equal(topicFor('acme-ai', UNROUTED), 'acme-ai-unrouted');
  });

  test('catalog types route to themselves', () => {
    for (const type of EVENT_TYPES) assert.equal(routeFor(type), type);
  });

  test('unknown types, hostile strings and non-strings route to unrouted', () => {
    const hostile: unknown[] = [
      'batch.completed',
      'Batch.Succeeded',
      'batch.succeeded ',
      ' batch.succeeded',
      'batch-succeeded',
      'batch_succeeded',
      'gemini-batch-succeeded',
      'projects/p/topics/gemini-batch-succeeded',
      '../x',
      '../../gemini-batch-succeeded',
      'batch.succeeded\u0000',
      'batch.succeeded\n',
      '\u0007\u001b[31m',
      'x'.repeat(2000),
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'unrouted',
      '',
      undefined,
      null,
      42,
      true,
      {},
      ['batch.succeeded'],
      { toString: () => 'batch.succeeded' },
    ];
    for (const type of hostile) {
      assert.equal(routeFor(type), UNROUTED, `routed ${JSON.stringify(type)}`);
      assert.ok(!isEventType(type));
    }
  });

  test('property: any string outside the catalog routes to unrouted, and every route has a valid topic', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (type) => {
        const route = routeFor(type);
        assert.equal(route, (EVENT_TYPES as readonly string[]).includes(type) ? type : UNROUTED);
        assertPubSubId(topicFor(DEFAULT_TOPIC_PREFIX, route));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('topic prefix', () => {
  test('valid prefixes', () => {
    for (const prefix of ['gemini', 'g', 'acme-gemini-prod', 'a1', `a${'b'.repeat(MAX_TOPIC_PREFIX_LENGTH - 1)}`]) {
      assert.equal(topicPrefixProblem(prefix), undefined, prefix);
    }
  });

  test('invalid prefixes say why', () => {
    for (const prefix of [
      '',
      'Gemini',
      '1gemini',
      '-gemini',
      'gemini-',
      'gemini_x',
      'gemini.x',
      'gemini x',
      '../x',
      'a'.repeat(MAX_TOPIC_PREFIX_LENGTH + 1),
      'é',
    ]) {
      assert.match(topicPrefixProblem(prefix) ?? '', /must/, `accepted ${JSON.stringify(prefix)}`);
    }
    for (const prefix of ['goog', 'google', 'goog-x']) {
      assert.match(topicPrefixProblem(prefix) ?? '', /goog/, `accepted ${prefix}`);
    }
  });
});

describe('topology plan', () => {
  test(
    'one route per catalog type plus unrouted, in catalog order, ' + 'each with its dead-letter topic and subscription',
    () => {
      const plans = planRoutes('gemini');
      assert.deepEqual(
        plans.map((plan) => plan.route),
        [...EVENT_TYPES, UNROUTED],
      );
      assert.deepEqual(plans[0], {
        route: 'batch.succeeded',
        topic: 'gemini-batch-succeeded',
        deadLetterTopic: 'gemini-batch-succeeded-dead-letter',
        deadLetterSubscription: 'gemini-batch-succeeded-dead-letter',
      });
      assert.deepEqual(planRoute('gemini', UNROUTED), {
        route: UNROUTED,
        topic: 'gemini-unrouted',
        deadLetterTopic: 'gemini-unrouted-dead-letter',
        deadLetterSubscription: 'gemini-unrouted-dead-letter',
      });
    },
  );

  test('topic names are unique and disjoint from dead-letter names', () => {
    const plans = planRoutes('gemini');
    const topics = plans.flatMap((plan) => [plan.topic, plan.deadLetterTopic]);
    assert.equal(new Set(topics).size, topics.length);
  });

  test('a consumer subscription is <topic>-<consumer> and keeps the route dead-letter topic', () => {
    assert.deepEqual(planSubscription('gemini', 'batch.failed', 'billing'), {
      name: 'gemini-batch-failed-billing',
      route: 'batch.failed',
      topic: 'gemini-batch-failed',
      deadLetterTopic: 'gemini-batch-failed-dead-letter',
    });
  });

  test('consumer names are validated', () => {
    for (const good of ['billing', 'a', 'ops-2', 'x'.repeat(30)])
      assert.equal(consumerNameProblem(good), undefined, good);
    for (const bad of ['', 'Billing', '2ops', 'ops-', 'ops_x', 'x'.repeat(31), '../x']) {
      assert.match(consumerNameProblem(bad) ?? '', /must/, `accepted ${JSON.stringify(bad)}`);
    }
  });

  test('every derived name is a valid Pub/Sub id, for the shortest and longest prefixes and consumers', () => {
    for (const prefix of ['g', 'gemini', `z${'9'.repeat(MAX_TOPIC_PREFIX_LENGTH - 1)}`]) {
      assert.equal(topicPrefixProblem(prefix), undefined);
      for (const plan of planRoutes(prefix)) {
        assertPubSubId(plan.topic);
        assertPubSubId(plan.deadLetterTopic);
        assertPubSubId(plan.deadLetterSubscription);
        for (const consumer of ['a', 'x'.repeat(30)])
          assertPubSubId(planSubscription(prefix, plan.route, consumer).name);
      }
    }
  });

  test('property: any accepted prefix yields only valid Pub/Sub ids', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z][a-z0-9-]{0,70}$/), (prefix) => {
        if (topicPrefixProblem(prefix) !== undefined) return;
        for (const plan of planRoutes(prefix)) {
          assertPubSubId(plan.topic);
          assertPubSubId(plan.deadLetterTopic);
          assertPubSubId(planSubscription(prefix, plan.route, 'x'.repeat(30)).name);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('defaults are within Pub/Sub limits', () => {
    assert.ok(
      TOPOLOGY_DEFAULTS.maxDeliveryAttempts >= MIN_DELIVERY_ATTEMPTS &&
        TOPOLOGY_DEFAULTS.maxDeliveryAttempts <= MAX_DELIVERY_ATTEMPTS,
    );
    assert.ok(
      TOPOLOGY_DEFAULTS.minimumBackoffSeconds >= 0 &&
        TOPOLOGY_DEFAULTS.minimumBackoffSeconds <= TOPOLOGY_DEFAULTS.maximumBackoffSeconds,
    );
    assert.ok(TOPOLOGY_DEFAULTS.maximumBackoffSeconds <= 600);
    for (const retention of [TOPOLOGY_DEFAULTS.deadLetterRetentionSeconds, TOPOLOGY_DEFAULTS.topicRetentionSeconds]) {
      assert.ok(retention >= 600 && retention <= 31 * 24 * 3600, 'Pub/Sub keeps messages 10 minutes to 31 days');
    }
  });
});
