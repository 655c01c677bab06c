/**
 * GeminiWebhooks takes the same settings as the stack config, with the same defaults and checks,
 * and says what is wrong in the component's terms: the argument, not a `pulumi config set`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { installMocks, PROJECT } from './mocks.ts';

await installMocks();
const { GeminiWebhooks } = await import('../../infra/components/gemini-webhooks.ts');
const { EventSubscription } = await import('../../infra/components/event-subscription.ts');

describe('GeminiWebhooks args', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['project', { project: 'Bad_Project' }, /`project` is not a Google Cloud project id \(got "Bad_Project"\)/],
    ['maxInstances', { maxInstances: 0 }, /`maxInstances` must be a whole number from 1 to 1000 \(got 0\)/],
    [
      'maxInstances',
      { maxInstances: '10' },
      /`maxInstances` must be a whole number from 1 to 1000, not the string "10"/,
    ],
    ['enableApis', { enableApis: 'true' }, /`enableApis` must be true or false, not the string "true"/],
    ['schemes', { schemes: ['static', 'hmac'] }, /`schemes` lists unknown scheme "hmac"/],
    ['schemes', { schemes: 'static' }, /`schemes` must be a list of schemes/],
    ['schemes', { schemes: ['jwt'] }, /`schemes` enables jwt but `jwtAudience` is not set/],
    ['subscriptions', { subscriptions: [{ name: 'b', eventTypes: ['batch.completed'] }] }, /unknown event type/],
    ['signingSecrets', { signingSecrets: ['whsec_!!'] }, /`signingSecrets` entry 1 is not a Standard Webhooks secret/],
    ['publicInvoker', { publicInvoker: 'everyone' }, /`publicInvoker` must be "allUsers" or "none"/],
    ['logMetricsWait', { logMetricsWait: '2h' }, /`logMetricsWait` must be one number and a unit/],
  ];
  for (const [key, args, pattern] of cases) {
    it(`refuses a bad ${key} in one sentence that names the argument`, () => {
      assert.throws(
        () => new GeminiWebhooks(`bad-${key}`, { project: PROJECT, ...args }),
        (error: Error) => {
          assert.match(error.message, new RegExp(`^GeminiWebhooks bad-${key}: `));
          assert.match(error.message, pattern);
          assert.doesNotMatch(error.message, /pulumi config set|\n/);
          return true;
        },
      );
    });
  }

  it('never echoes a signing secret it refuses', () => {
    const secret = `whsec_${Buffer.from('a-secret-that-is-too-sh').toString('base64')}`;
    assert.throws(
      () => new GeminiWebhooks('dup', { project: PROJECT, signingSecrets: [secret, secret] }),
      (error: Error) =>
        /entry 2 repeats an earlier secret/.test(error.message) && !error.message.includes(secret.slice(6)),
    );
  });
});

describe('EventSubscription args', () => {
  it('checks a consumer exactly as the deployment checks its subscriptions', () => {
    const base = { project: PROJECT, topicPrefix: 'gemini', consumer: 'billing', eventTypes: ['batch.failed'] };
    assert.throws(
      () => new EventSubscription('c1', { ...base, consumer: 'Billing' }),
      /^Error: EventSubscription c1: consumer must be 1-30 lowercase letters/,
    );
    assert.throws(
      () => new EventSubscription('c2', { ...base, eventTypes: ['batch.completed'] }),
      /^Error: EventSubscription c2: lists unknown event type "batch.completed"/,
    );
    assert.throws(
      () => new EventSubscription('c3', { ...base, push: { endpoint: 'http://x.example.com' }, exactlyOnce: false }),
      /EventSubscription c3: push.endpoint must be an https:\/\/ URL/,
    );
    assert.throws(
      () => new EventSubscription('c4', { ...base, maxDeliveryAttempts: 4 }),
      /EventSubscription c4: `maxDeliveryAttempts` must be a whole number from 5 to 100 \(got 4\)/,
    );
  });
});
