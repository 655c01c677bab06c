// The receiver's configuration: defaults, and one clear ConfigError line per bad value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError, DEFAULT_JWKS_URL, EMULATOR_PROJECT, loadConfig } from '../../functions/config.ts';
import { newEd25519Signer, newSecret } from '../support/signing.ts';

const SECRET = newSecret();
const BASE = { GOOGLE_CLOUD_PROJECT: 'my-project', WEBHOOK_SIGNING_SECRETS: SECRET } as const;

function load(env: Record<string, string | undefined>) {
  return loadConfig({ ...BASE, ...env });
}

/** Asserts a one-line ConfigError naming `variable` and not echoing `secretValue`. */
function assertConfigError(env: Record<string, string | undefined>, variable: string, secretValue?: string): void {
  assert.throws(
    () => loadConfig(env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, `expected ConfigError for ${JSON.stringify(env)}, got ${String(error)}`);
      assert.ok(error.message.includes(variable), `message does not name ${variable}: ${error.message}`);
      assert.ok(!error.message.includes('\n'), `message is not one line: ${error.message}`);
      if (secretValue)
        assert.ok(
          !error.message.includes(secretValue.replace(/^whsec_/, '')),
          `message echoes a secret: ${error.message}`,
        );
      return true;
    },
    `no ConfigError for ${JSON.stringify(env)}`,
  );
}

describe('defaults', () => {
  test('every setting has the documented default', () => {
    const config = loadConfig(BASE);
    assert.deepEqual(
      { ...config, schemes: [...config.schemes].sort(), jwksUrl: config.jwksUrl.href },
      {
        port: 8080,
        projectId: 'my-project',
        emulatorHost: undefined,
        signingSecrets: { source: 'env', secrets: [SECRET] },
        ed25519PublicKeys: [],
        schemes: ['static'],
        jwksUrl: DEFAULT_JWKS_URL,
        jwtAudience: undefined,
        jwtIssuer: undefined,
        jwtRequireBodyBinding: false,
        jwtReceiverSecret: undefined,
        jwtAllowAnyAudience: false,
        topicPrefix: 'gemini',
        timestampToleranceSeconds: 300,
        maxBodyBytes: 1_048_576,
        publishTimeoutMs: 5000,
        secretRefreshSeconds: 300,
        maxInFlight: 256,
      },
    );
  });

  test('empty and blank values count as unset', () => {
    const config = load({
      PORT: '',
      WEBHOOK_TOPIC_PREFIX: '  ',
      WEBHOOK_JWT_AUDIENCE: '',
      WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: ' ',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.topicPrefix, 'gemini');
    assert.equal(config.jwtAudience, undefined);
    assert.equal(config.timestampToleranceSeconds, 300);
  });

  test('every setting can be changed', async () => {
    const publicKey = (await newEd25519Signer()).publicKey;
    const config = load({
      PORT: '9090',
      WEBHOOK_SIGNING_PUBLIC_KEYS: publicKey,
      WEBHOOK_SCHEMES: 'jwt',
      WEBHOOK_JWKS_URL: 'https://www.googleapis.com/oauth2/v3/certs',
      WEBHOOK_JWT_AUDIENCE: 'https://hooks.example.com/',
      WEBHOOK_JWT_ISSUER: 'https://accounts.google.com',
      WEBHOOK_JWT_REQUIRE_BODY_BINDING: 'true',
      WEBHOOK_TOPIC_PREFIX: 'acme-gemini',
      WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: '60',
      WEBHOOK_MAX_BODY_BYTES: '65536',
      WEBHOOK_PUBLISH_TIMEOUT_MS: '2500',
      WEBHOOK_SECRET_REFRESH_SECONDS: '30',
      WEBHOOK_MAX_IN_FLIGHT: '8',
    });
    assert.equal(config.port, 9090);
    assert.deepEqual(config.ed25519PublicKeys, [publicKey]);
    assert.deepEqual([...config.schemes], ['jwt']);
    assert.equal(config.jwksUrl.href, 'https://www.googleapis.com/oauth2/v3/certs');
    assert.equal(config.jwtAudience, 'https://hooks.example.com/');
    assert.equal(config.jwtIssuer, 'https://accounts.google.com');
    assert.equal(config.jwtRequireBodyBinding, true);
    assert.equal(config.topicPrefix, 'acme-gemini');
    assert.equal(config.timestampToleranceSeconds, 60);
    assert.equal(config.maxBodyBytes, 65536);
    assert.equal(config.publishTimeoutMs, 2500);
    assert.equal(config.secretRefreshSeconds, 30);
    assert.equal(config.maxInFlight, 8);
  });
});

describe('project and emulator', () => {
  test('with the emulator and no project, the emulator project is used', () => {
    const config = loadConfig({ PUBSUB_EMULATOR_HOST: 'localhost:8085', WEBHOOK_SIGNING_SECRETS: SECRET });
    assert.equal(config.projectId, EMULATOR_PROJECT);
    assert.equal(config.emulatorHost, 'localhost:8085');
  });

  test('an explicit project wins over the emulator default', () => {
    assert.equal(load({ PUBSUB_EMULATOR_HOST: 'localhost:8085' }).projectId, 'my-project');
  });

  test('no project and no emulator is a ConfigError naming GOOGLE_CLOUD_PROJECT', () => {
    assertConfigError({ WEBHOOK_SIGNING_SECRETS: SECRET }, 'GOOGLE_CLOUD_PROJECT');
    assertConfigError({ WEBHOOK_SIGNING_SECRETS: SECRET, GOOGLE_CLOUD_PROJECT: ' ' }, 'GOOGLE_CLOUD_PROJECT');
  });
});

describe('signing secrets', () => {
  test('local: a comma-separated list, newest first, trimmed', () => {
    const other = newSecret();
    assert.deepEqual(load({ WEBHOOK_SIGNING_SECRETS: ` ${SECRET} , ${other},` }).signingSecrets, {
      source: 'env',
      secrets: [SECRET, other],
    });
  });

  test('deployed: a Secret Manager secret resource name', () => {
    const config = loadConfig({
      GOOGLE_CLOUD_PROJECT: 'p',
      WEBHOOK_SIGNING_SECRETS_SECRET: 'projects/my-project/secrets/gemini-webhook-signing',
    });
    assert.deepEqual(config.signingSecrets, {
      source: 'secret-manager',
      secretName: 'projects/my-project/secrets/gemini-webhook-signing',
    });
  });

  test('both at once is a ConfigError naming both', () => {
    const env = { ...BASE, WEBHOOK_SIGNING_SECRETS_SECRET: 'projects/p/secrets/s' };
    assertConfigError(env, 'WEBHOOK_SIGNING_SECRETS_SECRET');
    assertConfigError(env, 'WEBHOOK_SIGNING_SECRETS ');
  });

  test('a bad Secret Manager name is a ConfigError', () => {
    for (const name of [
      'my-secret',
      'projects/p/secrets/s/versions/latest',
      'projects//secrets/s',
      'projects/p/secrets/bad name',
    ]) {
      assertConfigError(
        { GOOGLE_CLOUD_PROJECT: 'p', WEBHOOK_SIGNING_SECRETS_SECRET: name },
        'WEBHOOK_SIGNING_SECRETS_SECRET',
      );
    }
  });

  test('a malformed local secret is a ConfigError naming the variable and entry, not the secret', () => {
    const bad = `whsec_${'s3cr3t-value!'.repeat(3)}`;
    assertConfigError({ ...BASE, WEBHOOK_SIGNING_SECRETS: `${SECRET},${bad}` }, 'WEBHOOK_SIGNING_SECRETS entry 2', bad);
  });

  test('a malformed public key is a ConfigError naming the variable and entry', async () => {
    const good = (await newEd25519Signer()).publicKey;
    assertConfigError(
      { ...BASE, WEBHOOK_SIGNING_PUBLIC_KEYS: `${good},whpk_c2hvcnQ=` },
      'WEBHOOK_SIGNING_PUBLIC_KEYS entry 2',
    );
  });

  test('static webhooks with no key at all is a ConfigError; public keys alone, or JWT only, are fine', async () => {
    assertConfigError({ GOOGLE_CLOUD_PROJECT: 'p' }, 'WEBHOOK_SIGNING_SECRETS');
    assert.equal(
      loadConfig({ GOOGLE_CLOUD_PROJECT: 'p', WEBHOOK_SCHEMES: 'jwt', WEBHOOK_JWT_AUDIENCE: 'a' }).signingSecrets
        .source,
      'none',
    );
    const publicKey = (await newEd25519Signer()).publicKey;
    assert.deepEqual(
      loadConfig({ GOOGLE_CLOUD_PROJECT: 'p', WEBHOOK_SIGNING_PUBLIC_KEYS: publicKey }).ed25519PublicKeys,
      [publicKey],
    );
  });
});

describe('JWKS URL', () => {
  test('https is accepted, and plain http only on loopback', () => {
    for (const url of [
      'https://example.com/jwks.json',
      'http://127.0.0.1:8123/.well-known/jwks.json',
      'http://localhost:9/x',
      'http://[::1]:80/jwks',
    ]) {
      assert.equal(load({ WEBHOOK_JWKS_URL: url }).jwksUrl.href, new URL(url).href);
    }
  });

  test('anything else is a ConfigError naming WEBHOOK_JWKS_URL', () => {
    for (const url of [
      'http://example.com/jwks.json',
      'http://localhost.attacker.example/jwks',
      'http://10.0.0.1/jwks',
      'ftp://example.com/jwks',
      'file:///etc/passwd',
      'not a url',
      '/relative/jwks.json',
    ]) {
      assertConfigError({ ...BASE, WEBHOOK_JWKS_URL: url }, 'WEBHOOK_JWKS_URL');
    }
  });
});

describe('schemes and booleans', () => {
  test('WEBHOOK_SCHEMES takes static and/or jwt', () => {
    const audience = { WEBHOOK_JWT_AUDIENCE: 'https://hooks.example.com/' };
    assert.deepEqual([...load({ WEBHOOK_SCHEMES: 'static' }).schemes], ['static']);
    assert.deepEqual([...load({ WEBHOOK_SCHEMES: ' jwt , static ', ...audience }).schemes].sort(), ['jwt', 'static']);
    assert.deepEqual([...load({ WEBHOOK_SCHEMES: 'jwt,jwt', ...audience }).schemes], ['jwt']);
  });

  test('JWT is off by default, and enabling it takes an audience or an explicit acceptance of any audience', () => {
    assert.deepEqual([...load({}).schemes], ['static']);
    // Google's JWKS signs every Gemini user's tokens: without aud, someone else's token would pass.
    assertConfigError({ ...BASE, WEBHOOK_SCHEMES: 'static,jwt' }, 'WEBHOOK_JWT_AUDIENCE');
    const anyAudience = load({ WEBHOOK_SCHEMES: 'static,jwt', WEBHOOK_JWT_ALLOW_ANY_AUDIENCE: 'true' });
    assert.equal(anyAudience.jwtAllowAnyAudience, true);
    assert.equal(anyAudience.jwtAudience, undefined);
    assertConfigError({ ...BASE, WEBHOOK_JWT_ALLOW_ANY_AUDIENCE: 'maybe' }, 'WEBHOOK_JWT_ALLOW_ANY_AUDIENCE');
  });

  test('WEBHOOK_JWT_REQUIRE_BODY_BINDING takes true/false/1/0 in any case', () => {
    for (const [raw, expected] of [
      ['true', true],
      ['TRUE', true],
      ['1', true],
      ['false', false],
      ['False', false],
      ['0', false],
    ] as const) {
      assert.equal(load({ WEBHOOK_JWT_REQUIRE_BODY_BINDING: raw }).jwtRequireBodyBinding, expected);
    }
  });
});

describe('receiver secret', () => {
  test('WEBHOOK_JWT_RECEIVER_SECRET: unset by default, at least 32 characters, never echoed', () => {
    assert.equal(load({}).jwtReceiverSecret, undefined);
    const secret = 'r'.repeat(32);
    assert.equal(load({ WEBHOOK_JWT_RECEIVER_SECRET: secret }).jwtReceiverSecret, secret);
    const short = 'short-receiver-secret';
    assertConfigError({ ...BASE, WEBHOOK_JWT_RECEIVER_SECRET: short }, 'WEBHOOK_JWT_RECEIVER_SECRET', short);
  });
});

describe('every bad value is a one-line ConfigError naming its variable', () => {
  const cases: Array<[string, string]> = [
    ['PORT', 'abc'],
    ['PORT', '0'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['PORT', '1e3'],
    ['WEBHOOK_SCHEMES', 'hmac'],
    ['WEBHOOK_SCHEMES', 'static,hmac'],
    ['WEBHOOK_SCHEMES', ','],
    ['WEBHOOK_JWT_REQUIRE_BODY_BINDING', 'yes'],
    ['WEBHOOK_JWT_REQUIRE_BODY_BINDING', '2'],
    ['WEBHOOK_TOPIC_PREFIX', 'Gemini'],
    ['WEBHOOK_TOPIC_PREFIX', 'goog-events'],
    ['WEBHOOK_TOPIC_PREFIX', 'gemini-'],
    ['WEBHOOK_TOPIC_PREFIX', '1gemini'],
    ['WEBHOOK_TOPIC_PREFIX', 'gemini_events'],
    ['WEBHOOK_TOPIC_PREFIX', 'gemini.events'],
    ['WEBHOOK_TOPIC_PREFIX', 'a'.repeat(64)],
    ['WEBHOOK_TOPIC_PREFIX', '../x'],
    ['WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', '0'],
    ['WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', '86401'],
    ['WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', '5m'],
    ['WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS', '-300'],
    ['WEBHOOK_MAX_BODY_BYTES', '0'],
    ['WEBHOOK_MAX_BODY_BYTES', '9000001'],
    ['WEBHOOK_MAX_BODY_BYTES', '1MiB'],
    ['WEBHOOK_PUBLISH_TIMEOUT_MS', '99'],
    ['WEBHOOK_PUBLISH_TIMEOUT_MS', '60001'],
    ['WEBHOOK_PUBLISH_TIMEOUT_MS', '5s'],
    ['WEBHOOK_SECRET_REFRESH_SECONDS', '4'],
    ['WEBHOOK_SECRET_REFRESH_SECONDS', '86401'],
    ['WEBHOOK_MAX_IN_FLIGHT', '0'],
    ['WEBHOOK_MAX_IN_FLIGHT', 'many'],
    ['WEBHOOK_JWKS_URL', 'http://example.com/jwks'],
    ['WEBHOOK_SIGNING_SECRETS', 'not base64!'],
    ['WEBHOOK_SIGNING_PUBLIC_KEYS', 'whpk_tooshort'],
    ['WEBHOOK_SIGNING_SECRETS_SECRET', 'secret-id-only'],
    ['WEBHOOK_SIGNING_SECRETS_SECRET', 'projects/-x/secrets/y'],
    ['WEBHOOK_SIGNING_SECRETS_SECRET', 'projects/p/secrets/s/versions/3'],
  ];
  for (const [variable, raw] of cases) {
    test(`${variable}=${JSON.stringify(raw.length > 20 ? `${raw.slice(0, 20)}...` : raw)}`, () => {
      const env: Record<string, string> = { ...BASE, [variable]: raw };
      if (variable === 'WEBHOOK_SIGNING_SECRETS_SECRET') delete env['WEBHOOK_SIGNING_SECRETS'];
      assertConfigError(env, variable);
    });
  }

  test('the edges of each numeric range are accepted', () => {
    const low = load({
      PORT: '1',
      WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: '1',
      WEBHOOK_MAX_BODY_BYTES: '1',
      WEBHOOK_PUBLISH_TIMEOUT_MS: '100',
      WEBHOOK_SECRET_REFRESH_SECONDS: '5',
      WEBHOOK_MAX_IN_FLIGHT: '1',
    });
    assert.deepEqual(
      [
        low.port,
        low.timestampToleranceSeconds,
        low.maxBodyBytes,
        low.publishTimeoutMs,
        low.secretRefreshSeconds,
        low.maxInFlight,
      ],
      [1, 1, 1, 100, 5, 1],
    );
    const high = load({
      PORT: '65535',
      WEBHOOK_TIMESTAMP_TOLERANCE_SECONDS: '86400',
      WEBHOOK_MAX_BODY_BYTES: '9000000',
      WEBHOOK_PUBLISH_TIMEOUT_MS: '60000',
      WEBHOOK_SECRET_REFRESH_SECONDS: '86400',
      WEBHOOK_MAX_IN_FLIGHT: '100000',
    });
    assert.deepEqual(
      [
        high.port,
        high.timestampToleranceSeconds,
        high.maxBodyBytes,
        high.publishTimeoutMs,
        high.secretRefreshSeconds,
        high.maxInFlight,
      ],
      [65535, 86400, 9_000_000, 60_000, 86400, 100_000],
    );
  });
});
