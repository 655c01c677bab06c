import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import * as pulumi from '@pulumi/pulumi';
import { ROUTE_KEYS } from '../../functions/catalog.ts';
import { parseSleepDuration } from '../../infra/durations.ts';
import { DEFAULTS, resolveSettings, resolveSigningSecrets, type Settings } from '../../infra/settings.ts';
import { fingerprintOf } from '../../infra/signing-secret.ts';
import { parseStackConfig, readStackConfig, StackConfigError, type RawConfig } from '../../infra/stack-config.ts';

const SECRET_A = `whsec_${Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaa').toString('base64')}`;
const SECRET_B = `whsec_${Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbb').toString('base64')}`;
const BASE: RawConfig = { 'gcp:project': 'acme-webhooks' };

const parseSettings = (raw: RawConfig): Settings => parseStackConfig(raw).settings;

function errorOf(raw: RawConfig): StackConfigError {
  try {
    parseSettings({ ...BASE, ...raw });
  } catch (error) {
    assert.ok(error instanceof StackConfigError, `expected StackConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(Object.keys(raw))} to be rejected`);
}

describe('parseStackConfig', () => {
  it('applies documented defaults', () => {
    const s = parseSettings(BASE);
    assert.equal(s.region, 'us-central1');
    assert.deepEqual(s.schemes, ['static']);
    assert.equal(s.jwtAllowAnyAudience, false);
    assert.equal(s.topicPrefix, 'gemini');
    assert.deepEqual(s.receiver, {
      minInstances: 0,
      maxInstances: 10,
      concurrency: 80,
      memory: '512Mi',
      timeoutSeconds: 60,
    });
    assert.equal(s.maxDeliveryAttempts, 5);
    assert.deepEqual(s.tunables, {
      timestampToleranceSeconds: 300,
      maxBodyBytes: 1_048_576,
      publishTimeoutMs: 5000,
      secretRefreshSeconds: 300,
      maxInFlight: 256,
    });
    assert.equal(s.publicInvoker, 'allUsers');
    assert.equal(s.enableApis, true);
    assert.deepEqual(s.signingSecrets, []);
    assert.deepEqual(s.subscriptions, []);
    assert.equal(s.jwtAudience, undefined);
    assert.deepEqual(s.waits, { apiEnablement: '60s', buildGrants: '120s', logMetrics: '10m', serviceAgent: '60s' });
    assert.deepEqual(s.secretReplication, { kind: 'automatic' });
    assert.equal(s.ingress, 'ALLOW_ALL');
    assert.equal(s.allowReplacement, false);
    assert.equal(s.protectData, true);
  });

  it('reads the settings organisations with secure-by-default policies need', () => {
    const s = parseSettings({
      ...BASE,
      secretReplication: 'europe-west1, europe-west4',
      ingress: 'internal-and-gclb',
      allowReplacement: 'true',
      protectData: 'false',
    });
    assert.deepEqual(s.secretReplication, { kind: 'user-managed', locations: ['europe-west1', 'europe-west4'] });
    assert.equal(s.ingress, 'ALLOW_INTERNAL_AND_GCLB');
    assert.equal(s.allowReplacement, true);
    assert.equal(s.protectData, false);
    assert.equal(parseSettings({ ...BASE, ingress: 'internal-only' }).ingress, 'ALLOW_INTERNAL_ONLY');
  });

  const cases: [string, RawConfig, RegExp][] = [
    ['gcp:project', { 'gcp:project': '' }, /pulumi config set gcp:project/],
    ['gcp:project', { 'gcp:project': 'Bad_Project' }, /not a Google Cloud project id/],
    ['gcp:project', { 'gcp:project': 'example.com:Bad_Project' }, /not a Google Cloud project id/],
    ['gcp:project', { 'gcp:project': 'example:my-project' }, /not a Google Cloud project id/],
    ['gcp:project', { 'gcp:project': ':my-project' }, /not a Google Cloud project id/],
    ['gcp:region', { 'gcp:region': 'mars' }, /not a Google Cloud region/],
    ['maxDeliveryAttempts', { maxDeliveryAttempts: '4' }, /from 5 to 100/],
    ['maxDeliveryAttempts', { maxDeliveryAttempts: '101' }, /from 5 to 100/],
    ['maxDeliveryAttempts', { maxDeliveryAttempts: 'ten' }, /whole number/],
    ['maxInstances', { minInstances: '5', maxInstances: '2' }, /below minInstances/],
    ['concurrency', { concurrency: '0' }, /from 1 to 1000/],
    ['memory', { memory: '512MB' }, /256Mi to 32Gi/],
    ['timeoutSeconds', { timeoutSeconds: '3601' }, /from 1 to 3600/],
    ['timestampToleranceSeconds', { timestampToleranceSeconds: '0' }, /from 1 to 86400/],
    ['maxBodyBytes', { maxBodyBytes: '10000000' }, /from 1 to 9000000/],
    ['publishTimeoutMs', { publishTimeoutMs: '50' }, /from 100 to 60000/],
    ['publishTimeoutMs', { timeoutSeconds: '5', publishTimeoutMs: '5000' }, /must be below timeoutSeconds/],
    ['secretRefreshSeconds', { secretRefreshSeconds: '1' }, /from 5 to 86400/],
    ['maxInFlight', { maxInFlight: '-1' }, /from 1 to 100000/],
    [
      'maximumBackoffSeconds',
      { minimumBackoffSeconds: '100', maximumBackoffSeconds: '50' },
      /below minimumBackoffSeconds/,
    ],
    ['deadLetterRetentionSeconds', { deadLetterRetentionSeconds: String(32 * 24 * 3600) }, /from 600 to 2678400/],
    ['topicPrefix', { topicPrefix: 'Gemini' }, /lowercase/],
    ['topicPrefix', { topicPrefix: 'goog-x' }, /goog/],
    ['schemes', { schemes: 'static,hmac' }, /unknown scheme "hmac"/],
    ['schemes', { schemes: ',' }, /enables no scheme/],
    ['schemes', { schemes: 'static,jwt' }, /enables jwt but `jwtAudience` is not set/],
    ['jwtAllowAnyAudience', { jwtAllowAnyAudience: 'sure' }, /true or false/],
    ['jwksUrl', { jwksUrl: 'http://example.com/jwks' }, /https:\/\//],
    ['jwtRequireBodyBinding', { jwtRequireBodyBinding: 'yes' }, /true or false/],
    ['enableApis', { enableApis: '1' }, /true or false/],
    ['publicInvoker', { publicInvoker: 'everyone' }, /"allUsers" or "none"/],
    ['alertEmails', { alertEmails: '["not-an-email"]' }, /"not-an-email", which is not an email address/],
    [
      'alertEmails',
      { alertEmails: 'oncall@example.com' },
      /not valid JSON.*pulumi config set --path 'alertEmails\[0\]' oncall@example\.com\.$/,
    ],
    [
      'alertEmails',
      { alertEmails: '["not-an-email"]' },
      /pulumi config set --path 'alertEmails\[0\]' oncall@example\.com\.$/,
    ],
    [
      'apiEnablementWait',
      { apiEnablementWait: '60' },
      /one number and a unit \(ms, s, m or h\) such as 90s or 10m.*pulumi config set apiEnablementWait 60s\.$/,
    ],
    ['buildGrantsWait', { buildGrantsWait: '-5s' }, /one number and a unit/],
    ['serviceAgentWait', { serviceAgentWait: '1m0s' }, /one number and a unit/],
    [
      'secretReplication',
      { secretReplication: 'global' },
      /pulumi config set secretReplication europe-west1,europe-west4\.$/,
    ],
    ['secretReplication', { secretReplication: 'europe-west1,europe-west1' }, /names a region twice/],
    ['ingress', { ingress: 'ALLOW_ALL' }, /must be one of "all", "internal-and-gclb", "internal-only"/],
    ['allowReplacement', { allowReplacement: 'yes' }, /must be true or false/],
    ['buildGrantsWait', { buildGrantsWait: '1m30s' }, /one number and a unit .*\(got "1m30s"\)/],
    ['logMetricsWait', { logMetricsWait: '2h' }, /from 0s to 1h \(got "2h"\)/],
    ['logMetricsWait', { logMetricsWait: '10 m' }, /one number and a unit/],
    [
      'subscriptions',
      {
        subscriptions:
          '[{"name":"a1","eventTypes":["*"],"push":{"endpoint":"https://x.example.com","serviceAccountEmail":"someone@gmail.com"}}]',
      },
      /serviceAccountEmail must be a service account email/,
    ],
    [
      'subscriptions',
      {
        subscriptions:
          '[{"name":"a1","eventTypes":["*"],"push":{"endpoint":"https://x.example.com","serviceAccountEmail":"push@acme.iam.gserviceaccount.com.evil.example"}}]',
      },
      /serviceAccountEmail/,
    ],
    ['subscriptions', { subscriptions: '{}' }, /is not a list of consumers/],
    ['subscriptions', { subscriptions: '[{' }, /is not valid JSON/],
    [
      'subscriptions',
      { subscriptions: '[{"name":"Billing","eventTypes":["batch.failed"]}]' },
      /subscriptions\[0\] name/,
    ],
    [
      'subscriptions',
      { subscriptions: '[{"name":"billing","eventTypes":["batch.completed"]}]' },
      /unknown event type "batch.completed"/,
    ],
    ['subscriptions', { subscriptions: '[{"name":"billing","eventTypes":[]}]' }, /non-empty `eventTypes`/],
    [
      'subscriptions',
      { subscriptions: '[{"name":"billing","eventTypes":["*"],"push":{"endpoint":"http://x.example.com"}}]' },
      /https:\/\//,
    ],
    [
      'subscriptions',
      {
        subscriptions:
          '[{"name":"billing","eventTypes":["*"],"push":{"endpoint":"https://x.example.com"},"exactlyOnce":true}]',
      },
      /only to pull/,
    ],
    [
      'subscriptions',
      { subscriptions: '[{"name":"billing","eventTypes":["*"],"ackDeadline":30}]' },
      /unknown field "ackDeadline"/,
    ],
    [
      'subscriptions',
      { subscriptions: '[{"name":"a1","eventTypes":["*"]},{"name":"a1","eventTypes":["*"]}]' },
      /twice/,
    ],
    [
      'subscriptions',
      { subscriptions: `[{"name":"a1","eventTypes":["*"],"filter":"${'x'.repeat(300)}"}]` },
      /256 bytes/,
    ],
    ['signingSecrets', { signingSecrets: 'whsec_abc' }, /is not valid JSON/],
    ['signingSecrets', { signingSecrets: '{}' }, /is not a list of `whsec_` secrets/],
  ];
  it('accepts jwt with an audience, or with an explicit acceptance of any audience', () => {
    assert.deepEqual(
      parseSettings({ ...BASE, schemes: 'static,jwt', jwtAudience: 'https://hooks.example.com' }).schemes,
      ['static', 'jwt'],
    );
    const any = parseSettings({ ...BASE, schemes: 'jwt', jwtAllowAnyAudience: 'true' });
    assert.deepEqual([any.schemes, any.jwtAllowAnyAudience, any.jwtAudience], [['jwt'], true, undefined]);
  });

  for (const [key, raw, pattern] of cases) {
    it(`rejects a bad ${key} (${JSON.stringify(raw).slice(0, 60)}) in one sentence naming the key and the fix`, () => {
      const error = errorOf(raw);
      assert.equal(error.key, key);
      assert.match(error.message, pattern);
      assert.match(
        error.message,
        new RegExp(`^Config \`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\` .*; fix: .*\\.$`),
      );
      assert.equal(error.message.split('\n').length, 1);
    });
  }

  it('accepts domain-scoped project ids', () => {
    assert.equal(parseSettings({ 'gcp:project': 'example.com:acme-webhooks' }).project, 'example.com:acme-webhooks');
    assert.equal(
      parseSettings({ 'gcp:project': 'corp.example.co.uk:acme-webhooks' }).project,
      'corp.example.co.uk:acme-webhooks',
    );
  });

  it('accepts every form of service-account email Google issues as a push identity', () => {
    const emails = [
      'push@acme-webhooks.iam.gserviceaccount.com',
      'push@acme-webhooks.example.com.iam.gserviceaccount.com',
      '123456789012-compute@developer.gserviceaccount.com',
      'acme-webhooks@appspot.gserviceaccount.com',
      '123456789012@cloudbuild.gserviceaccount.com',
    ];
    for (const email of emails) {
      const s = parseSettings({
        ...BASE,
        subscriptions: JSON.stringify([
          { name: 'a1', eventTypes: ['*'], push: { endpoint: 'https://x.example.com', serviceAccountEmail: email } },
        ]),
      });
      assert.equal(s.subscriptions[0]?.push?.serviceAccountEmail, email);
    }
  });

  it('takes the waits as the Sleep takes them, kept as written', () => {
    const s = parseSettings({ ...BASE, apiEnablementWait: '90s', buildGrantsWait: '1.5m', logMetricsWait: '0s' });
    assert.deepEqual(s.waits, { apiEnablement: '90s', buildGrants: '1.5m', logMetrics: '0s', serviceAgent: '60s' });
  });

  it('parses consumers, expanding "*" to every route in catalog order', () => {
    const s = parseSettings({
      ...BASE,
      subscriptions: JSON.stringify([
        {
          name: 'billing',
          eventTypes: ['batch.failed', 'batch.succeeded'],
          push: { endpoint: 'https://b.example.com/x', audience: 'aud' },
        },
        { name: 'all', eventTypes: ['*'], exactlyOnce: true, filter: 'attributes.user_metadata_tenant = "acme"' },
      ]),
    });
    assert.deepEqual(s.subscriptions[0], {
      name: 'billing',
      eventTypes: ['batch.succeeded', 'batch.failed'],
      ackDeadlineSeconds: 60,
      exactlyOnce: false,
      push: { endpoint: 'https://b.example.com/x', audience: 'aud' },
    });
    assert.deepEqual(s.subscriptions[1]?.eventTypes, [...ROUTE_KEYS]);
  });
});

describe('signing secrets', () => {
  it('keeps order (newest first) and derives stable fingerprints independent of position', () => {
    const [a, b] = resolveSigningSecrets([SECRET_A, SECRET_B]);
    const [b2, a2] = resolveSigningSecrets([SECRET_B, SECRET_A]);
    assert.equal(a?.reveal(), SECRET_A);
    assert.equal(a?.fingerprint, a2?.fingerprint);
    assert.equal(b?.fingerprint, b2?.fingerprint);
    assert.notEqual(a?.fingerprint, b?.fingerprint);
    assert.match(a.fingerprint, /^[0-9a-f]{12}$/);
    assert.ok(!SECRET_A.includes(a.fingerprint));
    assert.equal(fingerprintOf(SECRET_A), a?.fingerprint);
  });

  it('never prints a secret: not via JSON, string conversion or inspect', () => {
    const settings = parseSettings({ ...BASE, signingSecrets: JSON.stringify([SECRET_A]) });
    const body = SECRET_A.slice('whsec_'.length);
    for (const text of [
      JSON.stringify(settings),
      String(settings.signingSecrets[0]),
      inspect(settings, { depth: 5 }),
      // How a template literal shows the secret is the point of this case:
      // eslint-disable-next-line @typescript-eslint/restrict-template-expressions
      `${settings.signingSecrets[0]}`,
    ]) {
      assert.ok(!text.includes(body), text);
    }
  });

  const bad: [string, string, RegExp][] = [
    ['missing prefix', JSON.stringify([SECRET_A.slice(6)]), /entry 1 does not start with `whsec_`/],
    [
      'not base64',
      JSON.stringify([SECRET_A, 'whsec_!!!not-base64!!!']),
      /entry 2 is not a Standard Webhooks secret: expected "whsec_" followed by base64/,
    ],
    ['too short', JSON.stringify([`whsec_${Buffer.from('short').toString('base64')}`]), /fewer than the 16/],
    ['not a string', JSON.stringify([42]), /entry 1 is not a string/],
    ['duplicate', JSON.stringify([SECRET_A, SECRET_A]), /entry 2 repeats/],
    [
      'too many',
      JSON.stringify(
        Array.from({ length: 6 }, (_, i) => `whsec_${Buffer.from(`secret-number-${i}-0123456789`).toString('base64')}`),
      ),
      /more than the 5/,
    ],
    ['not json', `["${SECRET_A}"`, /is not valid JSON/],
  ];
  for (const [label, text, pattern] of bad) {
    it(`rejects ${label} without echoing any value`, () => {
      const error = errorOf({ signingSecrets: text });
      assert.equal(error.key, 'signingSecrets');
      assert.match(error.message, pattern);
      assert.ok(!error.message.includes(SECRET_A.slice(6, 20)), 'secret body absent');
      assert.ok(!error.message.includes('not-base64'), 'bad value absent');
      assert.match(error.message, /pulumi config set --secret signingSecrets/);
    });
  }
});

describe('the JWT receiver secret', () => {
  const RECEIVER_SECRET = 'r'.repeat(20) + 'S3cr3t-receiver-value';

  it('is unset by default, and kept when at least 32 characters', () => {
    assert.equal(parseSettings(BASE).jwtReceiverSecret, undefined);
    assert.equal(parseSettings({ ...BASE, jwtReceiverSecret: '   ' }).jwtReceiverSecret, undefined);
    const settings = parseSettings({ ...BASE, jwtReceiverSecret: RECEIVER_SECRET });
    assert.equal(settings.jwtReceiverSecret?.reveal(), RECEIVER_SECRET);
    assert.equal(
      parseSettings({ ...BASE, jwtReceiverSecret: 'x'.repeat(32) }).jwtReceiverSecret?.reveal(),
      'x'.repeat(32),
    );
  });

  it('never prints the secret: not via JSON, string conversion or inspect', () => {
    const settings = parseSettings({ ...BASE, jwtReceiverSecret: RECEIVER_SECRET });
    for (const text of [JSON.stringify(settings), String(settings.jwtReceiverSecret), inspect(settings, { depth: 5 })])
      assert.ok(!text.includes('S3cr3t'), text);
  });

  it('refuses a value shorter than 32 characters in one line that says its length, never the value', () => {
    const short = 'S3cr3t-but-short-31-characters!';
    assert.equal(short.length, 31);
    const error = errorOf({ jwtReceiverSecret: short });
    assert.equal(error.key, 'jwtReceiverSecret');
    assert.equal(
      error.message,
      'Config `jwtReceiverSecret` is 31 characters, fewer than the 32 the receiver requires; ' +
        'fix: pulumi config set --secret jwtReceiverSecret "$(openssl rand -base64 32)".',
    );
    assert.ok(!error.message.includes('S3cr3t'));
  });

  it('is refused the same way as a component argument', () => {
    assert.throws(
      () => resolveSettings({ project: 'acme-webhooks', jwtReceiverSecret: 'S3cr3t' }),
      (error: unknown) =>
        error instanceof Error &&
        error.message === '`jwtReceiverSecret` is 6 characters, fewer than the 32 the receiver requires' &&
        !error.message.includes('S3cr3t'),
    );
  });
});

describe('readStackConfig', () => {
  it('reads the project namespace and gcp:* from the stack config', () => {
    pulumi.runtime.setAllConfig(
      {
        'gcp:project': 'acme-webhooks',
        'gcp:region': 'europe-west1',
        'gemini-webhooks-pubsub:signingSecrets': JSON.stringify([SECRET_A]),
        'gemini-webhooks-pubsub:maxDeliveryAttempts': '7',
        'gemini-webhooks-pubsub:alertEmails': '["a@example.com"]',
      },
      ['gemini-webhooks-pubsub:signingSecrets'],
    );
    const s = resolveSettings(readStackConfig());
    assert.equal(s.project, 'acme-webhooks');
    assert.equal(s.region, 'europe-west1');
    assert.equal(s.maxDeliveryAttempts, 7);
    assert.deepEqual(s.alertEmails, ['a@example.com']);
    assert.equal(s.signingSecrets[0]?.reveal(), SECRET_A);
    assert.equal(s.topicPrefix, DEFAULTS.topicPrefix);
  });

  it('fails with the StackConfigError sentence for a bad stack value', () => {
    pulumi.runtime.setAllConfig({
      'gcp:project': 'acme-webhooks',
      'gemini-webhooks-pubsub:maxDeliveryAttempts': '200',
    });
    assert.throws(
      () => readStackConfig(),
      (e: unknown) =>
        e instanceof StackConfigError &&
        /^Config `maxDeliveryAttempts` must be a whole number from 5 to 100/.test(e.message),
    );
  });
});

describe('parseSleepDuration', () => {
  it("reads the forms terraform-provider-time's time_sleep accepts", () => {
    assert.deepEqual(
      ['0s', '90s', '5m', '1.5h', '250ms', '0.5s', '10m'].map(parseSleepDuration),
      [0, 90_000, 300_000, 5_400_000, 250, 500, 600_000],
    );
  });

  it('refuses the Go durations the provider refuses at deploy time, and everything else', () => {
    // The first five pass time.ParseDuration, and fail the provider's ^[0-9]+(\.[0-9]+)?(ms|s|m|h)$.
    for (const text of ['1m30s', '2m0s', '0', '.5s', '100us', '', '60', 's', '5 m', '-5s', '+5s', '5min', '1d', '5s '])
      assert.equal(parseSleepDuration(text), undefined, text);
  });
});

describe('the error the docs show', () => {
  it('is the one the program gives', () => {
    const example = [
      'Config `maxDeliveryAttempts` must be a whole number from 5 to 100 (got 200);',
      'fix: pulumi config set maxDeliveryAttempts 5.',
    ].join(' ');
    assert.equal(errorOf({ maxDeliveryAttempts: '200' }).message, example);
    for (const doc of ['docs/configuration.md', 'docs/deploy.md']) {
      assert.ok(readFileSync(path.join(import.meta.dirname, '..', '..', doc), 'utf8').includes(example), doc);
    }
  });
});
