/**
 * resolveSettings on component arguments (no stack config in between): every default comes from the
 * setting table, a value of the wrong type is called what it is, and the rules that tie settings
 * together hold.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RECEIVER_TUNABLES } from '../../functions/config.ts';
import { SETTINGS } from '../../infra/setting-table.ts';
import { resolveSettings, SettingError } from '../../infra/settings.ts';

const PROJECT = { project: 'acme-webhooks' };

function problemOf(args: Record<string, unknown>): SettingError {
  try {
    resolveSettings({ ...PROJECT, ...args });
  } catch (error) {
    assert.ok(error instanceof SettingError, String(error));
    return error;
  }
  assert.fail(`expected ${JSON.stringify(args)} to be refused`);
}

describe('resolveSettings', () => {
  it("applies the table's defaults", () => {
    const settings = resolveSettings(PROJECT);
    assert.equal(settings.region, SETTINGS.region.default);
    assert.equal(settings.receiver.maxInstances, SETTINGS.maxInstances.default);
    assert.equal(settings.receiver.memory, SETTINGS.memory.default);
    assert.equal(settings.enableApis, SETTINGS.enableApis.default);
    assert.equal(settings.waits.logMetrics, SETTINGS.logMetricsWait.default);
    assert.deepEqual(settings.schemes, SETTINGS.schemes.default);
    for (const [key, tunable] of Object.entries(RECEIVER_TUNABLES))
      assert.equal(settings.tunables[key as keyof typeof RECEIVER_TUNABLES], tunable.default, key);
  });

  it("enforces the table's bounds, naming them", () => {
    const error = problemOf({ maxInstances: SETTINGS.maxInstances.max + 1 });
    assert.equal(error.key, 'maxInstances');
    assert.equal(error.problem, 'must be a whole number from 1 to 1000 (got 1001)');
    assert.equal(error.example, String(SETTINGS.maxInstances.default));
  });

  const wrongType: [string, Record<string, unknown>, string][] = [
    ['a boolean given as text', { enableApis: 'true' }, 'must be true or false, not the string "true"'],
    ['a number given as text', { concurrency: '80' }, 'must be a whole number from 1 to 1000, not the string "80"'],
    [
      'a list given as text',
      { alertEmails: 'a@example.com' },
      'must be a list of email addresses, not the string "a@example.com"',
    ],
    ['a string given as a number', { region: 5 }, 'must be a string (got 5)'],
  ];
  for (const [label, args, problem] of wrongType) {
    it(`calls ${label} what it is`, () => assert.equal(problemOf(args).problem, problem));
  }

  const rules: [string, Record<string, unknown>, string, RegExp][] = [
    ['maxInstances below minInstances', { minInstances: 3, maxInstances: 2 }, 'maxInstances', /below minInstances/],
    [
      'a publish timeout at the request timeout',
      { timeoutSeconds: 5, publishTimeoutMs: 5000 },
      'publishTimeoutMs',
      /below timeoutSeconds/,
    ],
    [
      'a backoff range upside down',
      { minimumBackoffSeconds: 60, maximumBackoffSeconds: 30 },
      'maximumBackoffSeconds',
      /below minimumBackoffSeconds/,
    ],
    ['jwt without an audience', { schemes: ['jwt'] }, 'schemes', /`jwtAudience` is not set/],
    [
      'a consumer with a reserved name',
      { subscriptions: [{ name: 'dead-letter', eventTypes: ['*'] }] },
      'subscriptions',
      /dead-letter/,
    ],
  ];
  for (const [label, args, key, pattern] of rules) {
    it(`refuses ${label}`, () => {
      const error = problemOf(args);
      assert.equal(error.key, key);
      assert.match(error.problem, pattern);
    });
  }
});
