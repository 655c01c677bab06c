/** Pulumi.yaml declares exactly the settings infra/config.ts reads, with the same defaults. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RECEIVER_TUNABLES } from '../../functions/config.ts';
import { CONFIG_KEYS, DEFAULTS, parseSettings } from '../../infra/config.ts';

const text = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'Pulumi.yaml'), 'utf8');
const configBlock = text.slice(text.indexOf('\nconfig:\n'));
/** key -> its declaration lines (the block is two-space indented YAML). */
const declarations = new Map<string, string>();
for (const chunk of configBlock.split(/\n(?=  [A-Za-z]+:\n)/).slice(1)) {
  const key = /^ {2}([A-Za-z]+):/.exec(chunk)?.[1];
  if (key !== undefined) declarations.set(key, chunk);
}

describe('Pulumi.yaml', () => {
  it('runs infra/index.ts with Node type stripping, not ts-node', () => {
    assert.match(text, /^name: gemini-webhooks-pubsub$/m);
    assert.match(text, /^main: infra\/index\.ts$/m);
    assert.match(text, /^runtime:\n {2}name: nodejs\n {2}options:\n {4}typescript: false$/m);
  });

  it('declares every project setting with a type and a description', () => {
    const own = CONFIG_KEYS.filter((k) => !k.startsWith('gcp:'));
    assert.deepEqual([...declarations.keys()].sort(), [...own].sort());
    for (const [key, block] of declarations) {
      assert.match(block, /\n {4}type: (string|integer|boolean|array)\n/, key);
      assert.match(block, /\n {4}description: /, key);
    }
    assert.match(declarations.get('signingSecrets')!, /secret: true/);
  });

  it('declares the same defaults the program applies', () => {
    const declared: Record<string, string> = {};
    for (const [key, block] of declarations) {
      const value = /\n {4}default: (.*)\n?/.exec(block)?.[1];
      if (value !== undefined) declared[key] = value.replace(/^"(.*)"$/, '$1');
    }
    for (const [key, value] of Object.entries(DEFAULTS)) {
      if (key in declared) assert.equal(declared[key], String(value), key);
    }
    for (const [key, tunable] of Object.entries(RECEIVER_TUNABLES)) assert.equal(declared[key], String(tunable.default), key);
    // The declared defaults, fed back as a stack would, parse to the program's defaults.
    const parsed = parseSettings({ 'gcp:project': 'acme-webhooks', ...declared, alertEmails: '[]' });
    assert.deepEqual(parsed, parseSettings({ 'gcp:project': 'acme-webhooks' }));
  });
});
