/**
 * The reference tables of docs/configuration.md say what the code says: they are generated from
 * Pulumi.yaml and functions/config.ts, and the receiver reads exactly the variables the table lists.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig, RECEIVER_ENVIRONMENT, RECEIVER_TUNABLES } from '../../functions/config.ts';
import { CONFIGURATION_DOC, withGeneratedTables } from '../../scripts/lib/reference-tables.ts';

describe('docs/configuration.md', () => {
  it('holds the tables the code generates (run `npm run docs` after changing a setting)', () => {
    const document = readFileSync(CONFIGURATION_DOC, 'utf8');
    assert.equal(document, withGeneratedTables(document));
  });
});

describe('the receiver environment', () => {
  /** Runs loadConfig on `env` and returns every variable it looked at. */
  function variablesRead(env: Record<string, string>): Set<string> {
    const read = new Set<string>();
    const watched = new Proxy(env, {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return target[name as string];
      },
    });
    loadConfig(watched);
    return read;
  }

  it('is read exactly as documented: every listed variable, and no other', () => {
    // Both sources of secrets and both schemes, so every branch that reads a variable runs.
    const read = new Set([
      ...variablesRead({
        PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
        WEBHOOK_SIGNING_SECRETS: `whsec_${Buffer.from('0123456789abcdef').toString('base64')}`,
        WEBHOOK_SCHEMES: 'static,jwt',
        WEBHOOK_JWT_AUDIENCE: 'aud',
      }),
      ...variablesRead({
        GOOGLE_CLOUD_PROJECT: 'p',
        WEBHOOK_SIGNING_SECRETS_SECRET: 'projects/p/secrets/s',
      }),
    ]);
    const documented = new Set([
      ...Object.keys(RECEIVER_ENVIRONMENT),
      ...Object.values(RECEIVER_TUNABLES).map((tunable) => tunable.env),
    ]);
    assert.deepEqual([...read].sort(), [...documented].sort());
  });
});
