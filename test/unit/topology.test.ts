/**
 * Names generated next to a topic are reserved in one place (GENERATED_SUFFIXES), and no consumer
 * name can produce one: whatever the catalog holds, `<topic>-<consumer>` is never a dead-letter
 * subscription, a temporary subscription of the CLI, or another consumer's subscription.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ROUTE_KEYS } from '../../functions/catalog.ts';
import {
  consumerNameProblem,
  GENERATED_SUFFIXES,
  planRoutes,
  planSubscription,
  temporarySubscriptionName,
} from '../../functions/topology.ts';

const PREFIX = 'gemini';
const routes = planRoutes(PREFIX);

/** Whether `name` is a subscription this project names itself, on any route's topic. */
function isGenerated(name: string): boolean {
  return routes.some(
    (route) =>
      name === route.deadLetterSubscription ||
      (['tail', 'listen'] as const).some((purpose) =>
        new RegExp(`^${temporarySubscriptionName(route.topic, purpose, '[0-9a-f]{8}')}$`).test(name),
      ),
  );
}

describe('generated names', () => {
  it('are built from the reserved suffixes', () => {
    for (const route of routes) assert.equal(route.deadLetterSubscription, `${route.topic}-dead-letter`);
    assert.equal(temporarySubscriptionName('gemini-unrouted', 'tail', '0a1b2c3d'), 'gemini-unrouted-tail-0a1b2c3d');
    assert.deepEqual(Object.values(GENERATED_SUFFIXES).sort(), ['check', 'dead-letter', 'listen', 'tail']);
  });

  it('are refused as consumer names, and so is anything starting with a reserved suffix', () => {
    for (const name of [
      'dead-letter',
      'tail',
      'listen',
      'check',
      'tail-0a1b2c3d',
      'listen-x',
      'check-1',
      'dead-letter-2',
    ]) {
      assert.match(consumerNameProblem(name) ?? '', /must not be/, name);
    }
    for (const name of ['tailor', 'listener', 'checkout', 'dead', 'letters', 'billing']) {
      assert.equal(consumerNameProblem(name), undefined, name);
    }
  });

  it('never come out of an accepted consumer name, on any route', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,29}$/);
    fc.assert(
      fc.property(fc.oneof(name, fc.constantFrom('tail-0a1b2c3d', 'dead-letter', 'listen-ffffffff')), (consumer) => {
        if (consumerNameProblem(consumer) !== undefined) return;
        for (const route of ROUTE_KEYS) assert.ok(!isGenerated(planSubscription(PREFIX, route, consumer).name));
      }),
      { numRuns: 2000 },
    );
  });

  it('give every (route, consumer) its own subscription: no topic is another topic followed by "-"', () => {
    for (const a of routes) {
      for (const b of routes) {
        assert.ok(
          a === b || !b.topic.startsWith(`${a.topic}-`),
          `${b.topic} starts with ${a.topic}-: a consumer of ${a.route} could take a name of ${b.route}'s`,
        );
      }
    }
  });
});
