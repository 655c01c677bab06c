/**
 * The setting table is the one declaration of every setting: everything that lists the settings
 * (the argument interface, Pulumi.yaml, the stack decoder, the docs table) follows it, including a
 * setting added to it, and every declaration is consistent with itself.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ACK_DEADLINE_SECONDS } from '../../infra/consumer.ts';
import {
  declarationOf,
  describeSetting,
  SETTING_KEYS,
  SETTINGS,
  stackKeyOf,
  type SettingDeclaration,
} from '../../infra/setting-table.ts';
import { decodeStackValue, parseStackConfig, StackConfigError, type RawConfig } from '../../infra/stack-config.ts';
import { withGeneratedTables } from '../../scripts/lib/reference-tables.ts';
import { argsFile, configBlock, configDeclaration } from '../../scripts/lib/setting-files.ts';

const PROJECT: RawConfig = { 'gcp:project': 'acme-webhooks' };

/** A config value as the program receives it: primitives as text, arrays and objects as JSON. */
const asProgramSees = (value: unknown): string =>
  typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);

describe('every declaration', () => {
  for (const key of SETTING_KEYS) {
    const declaration = declarationOf(key);
    it(`${key}: has a meaning, and a default within its own bounds`, () => {
      assert.ok(declaration.description.length > 20 && declaration.description.endsWith('.'), key);
      if (declaration.kind === 'integer') {
        assert.ok(declaration.min <= declaration.default && declaration.default <= declaration.max, key);
      }
      if (declaration.kind === 'string' && declaration.choices !== undefined && declaration.default !== undefined) {
        assert.ok(declaration.choices.includes(declaration.default), key);
      }
    });
  }

  it('decodes from its own declared default in stack config to what leaving it unset gives', () => {
    const defaults: RawConfig = { ...PROJECT };
    for (const key of SETTING_KEYS) {
      const declared = configDeclaration(key);
      if (declared !== undefined) (defaults as Record<string, string>)[key] = asProgramSees(declared.default);
    }
    assert.deepEqual(parseStackConfig(defaults).settings, parseStackConfig(PROJECT).settings);
  });

  it('puts its bounds before the full stop of its description, then the detail', () => {
    assert.equal(describeSetting(SETTINGS.maxInstances), 'Upper bound on receiver instances (1-1000).');
    assert.match(describeSetting(SETTINGS.publishTimeoutMs), /hangs \(100-60000\)\. Must be below `timeoutSeconds`\.$/);
    assert.match(
      describeSetting(SETTINGS.logMetricsWait),
      /uses one \(a number and ms, s, m or h; 0s to 1h\)\. It overlaps/,
    );
  });
});

describe('stack values decode by the kind their setting declares', () => {
  const ofKind = (kind: SettingDeclaration['kind']) => SETTING_KEYS.filter((key) => declarationOf(key).kind === kind);

  const fallback = (key: (typeof SETTING_KEYS)[number]): string => {
    const declaration = declarationOf(key);
    return 'default' in declaration ? String(declaration.default) : '';
  };

  it('booleans: true and false, anything else refused as not true or false', () => {
    assert.ok(ofKind('boolean').length >= 3);
    for (const key of ofKind('boolean')) {
      assert.equal(decodeStackValue(key, 'true'), true, key);
      assert.equal(decodeStackValue(key, 'false'), false, key);
      assert.throws(
        () => decodeStackValue(key, 'yes'),
        (error: unknown) =>
          error instanceof StackConfigError &&
          error.message ===
            `Config \`${key}\` must be true or false (got "yes"); fix: pulumi config set ${key} ${fallback(key)}.`,
      );
    }
  });

  it('integers: whole numbers, anything else refused with the bounds', () => {
    for (const key of ofKind('integer')) {
      const { min, max } = declarationOf(key) as { min: number; max: number };
      assert.equal(decodeStackValue(key, String(max)), max, key);
      assert.throws(
        () => decodeStackValue(key, '7.5'),
        new RegExp(`^StackConfigError: Config \`${key}\` must be a whole number from ${min} to ${max} \\(got "7.5"\\)`),
      );
    }
  });

  it('lists, JSON and Pulumi arrays; JSON that does not parse is refused without quoting it', () => {
    assert.deepEqual(decodeStackValue('schemes', ' static , jwt ,'), ['static', 'jwt']);
    assert.deepEqual(decodeStackValue('alertEmails', '["a@example.com"]'), ['a@example.com']);
    assert.throws(
      () => decodeStackValue('signingSecrets', '["whsec_secret-value"'),
      (error: unknown) =>
        error instanceof StackConfigError &&
        /is not valid JSON/.test(error.message) &&
        !/secret-value/.test(error.message),
    );
  });
});

describe('a setting added to the table', () => {
  const table = SETTINGS as unknown as Record<string, SettingDeclaration>;
  table['exampleRetries'] = {
    kind: 'integer',
    argType: 'number',
    default: 3,
    min: 1,
    max: 9,
    description: 'How often the example retries.',
  };
  // SETTING_KEYS was read before the entry existed; the generators read the table itself.
  after(() => delete table['exampleRetries']);

  it('is an argument of GeminiWebhooks, documented with its bounds and default', () => {
    assert.match(
      argsFile(),
      /\/\*\* How often the example retries \(1-9\)\. Default 3\. \*\/\n {2}exampleRetries\?: number;/,
    );
  });

  it('is declared in Pulumi.yaml and listed in docs/configuration.md', () => {
    const config = (parse(configBlock()) as { config: Record<string, unknown> }).config;
    assert.deepEqual(config['exampleRetries'], {
      type: 'integer',
      default: 3,
      description: 'How often the example retries (1-9).',
    });
    const document = withGeneratedTables(
      '<!-- generated:stack-settings (npm run docs) --><!-- /generated:stack-settings -->\n' +
        '<!-- generated:receiver-environment (npm run docs) --><!-- /generated:receiver-environment -->',
    );
    assert.match(document, /\| `exampleRetries` \| integer \| `3` \| How often the example retries \(1-9\)\. \|/);
  });

  it('decodes from stack config by its kind', () => {
    assert.equal(decodeStackValue('exampleRetries' as never, '4'), 4);
    assert.equal(stackKeyOf('exampleRetries' as never), 'exampleRetries');
  });
});

describe('hand-written argument docs that restate a setting', () => {
  // EventSubscription takes the retry settings too; its JSDoc is written by hand, so its figures are checked here.
  const source = readFileSync(
    path.join(import.meta.dirname, '..', '..', 'infra/components/event-subscription.ts'),
    'utf8',
  );
  it("Consumer's and EventSubscriptionArgs' ackDeadlineSeconds give its bounds and default", () => {
    const { min, max, default: fallback } = ACK_DEADLINE_SECONDS;
    const consumer = readFileSync(path.join(import.meta.dirname, '..', '..', 'infra/consumer.ts'), 'utf8');
    for (const text of [source, consumer]) {
      const doc = /\/\*\*([^*]|\*(?!\/))*\*\/\n\s*ackDeadlineSeconds\?:/.exec(text)?.[0] ?? '';
      assert.ok(doc.includes(`(${min}-${max}). Default ${fallback}.`), doc);
    }
  });

  for (const key of ['maxDeliveryAttempts', 'minimumBackoffSeconds', 'maximumBackoffSeconds'] as const) {
    it(`EventSubscriptionArgs.${key} gives the table's bounds and default`, () => {
      const doc = new RegExp(`/\\*\\*([^*]|\\*(?!/))*\\*/\\n\\s*${key}\\?:`).exec(source)?.[0] ?? '';
      const { min, max, default: fallback } = SETTINGS[key];
      assert.ok(doc.includes(`(${min}-${max})`) && doc.includes(`Default ${fallback}.`), `${key}: ${doc}`);
    });
  }
});
