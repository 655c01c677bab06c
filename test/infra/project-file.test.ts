/**
 * Pulumi.yaml declares exactly the settings infra/stack-config.ts reads, with the same defaults, and
 * Pulumi.dev.yaml.example works as copied: the config Pulumi would hand the program from it passes
 * Pulumi's own checks and the program's.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { RECEIVER_TUNABLES } from '../../functions/config.ts';
import type { Settings } from '../../infra/settings.ts';
import { CONFIG_KEYS, parseStackConfig, PROJECT_NAME, type RawConfig } from '../../infra/stack-config.ts';

const parseSettings = (raw: RawConfig): Settings => parseStackConfig(raw).settings;

const ROOT = path.resolve(import.meta.dirname, '..', '..');

interface Declaration {
  type?: 'string' | 'integer' | 'boolean' | 'array';
  items?: { type: string };
  default?: unknown;
  secret?: boolean;
  description?: string;
}

const project = parse(readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8')) as {
  name: string;
  main: string;
  runtime: any;
  config: Record<string, Declaration>;
};
const declarations = new Map(Object.entries(project.config));
const example = (
  parse(readFileSync(path.join(ROOT, 'Pulumi.dev.yaml.example'), 'utf8')) as { config: Record<string, unknown> }
).config;

/**
 * A config value as the program receives it: Pulumi formats a primitive with Go's `%v` and hands
 * arrays and objects over as JSON (`createConfigValue` in
 * https://github.com/pulumi/pulumi/blob/master/sdk/go/common/workspace/config.go).
 */
function asProgramSees(value: unknown): string {
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/** Pulumi's check of a stack value against a declared type (`ValidateConfigValue`, same source). */
function fitsDeclaredType(declaration: Declaration, value: unknown): boolean {
  switch (declaration.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isInteger(value) || (typeof value === 'string' && /^[-+]?\d+$/.test(value));
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false';
    case 'array':
      return Array.isArray(value) && value.every((item) => typeof item === declaration.items?.type);
    default:
      return false;
  }
}

/** The config the program gets from a stack file: its values, then Pulumi.yaml's defaults for the rest. */
function stackConfig(values: Record<string, unknown>): RawConfig {
  const raw: Record<string, string> = {};
  for (const [key, declaration] of declarations)
    if (declaration.default !== undefined) raw[key] = asProgramSees(declaration.default);
  for (const [key, value] of Object.entries(values)) raw[key.replace(`${PROJECT_NAME}:`, '')] = asProgramSees(value);
  return raw;
}

describe('Pulumi.yaml', () => {
  it('runs infra/index.ts with Node type stripping, not ts-node', () => {
    assert.equal(project.name, PROJECT_NAME);
    assert.equal(project.main, 'infra/index.ts');
    assert.deepEqual(project.runtime, { name: 'nodejs', options: { typescript: false } });
  });

  it('declares every project setting with a type and a description', () => {
    const own = CONFIG_KEYS.filter((k) => !k.startsWith('gcp:'));
    assert.deepEqual([...declarations.keys()].sort(), [...own].sort());
    for (const [key, declaration] of declarations) {
      assert.match(String(declaration.type), /^(string|integer|boolean|array)$/, key);
      assert.ok((declaration.description ?? '').length > 20, key);
    }
  });

  it('declares no secret key with a default, which Pulumi would refuse on every stack that leaves it unset', () => {
    // Pulumi sets the default as a plain value, then requires a `secret: true` key to be encrypted.
    for (const [key, declaration] of declarations)
      assert.ok(!(declaration.secret === true && declaration.default !== undefined), key);
  });

  it('declares the same defaults the program applies', () => {
    const declared = Object.fromEntries(
      [...declarations].filter(([, d]) => d.default !== undefined).map(([key, d]) => [key, asProgramSees(d.default)]),
    );
    for (const [key, tunable] of Object.entries(RECEIVER_TUNABLES))
      assert.equal(declared[key], String(tunable.default), key);
    // The declared defaults, fed back as a stack would, parse to the program's defaults.
    assert.deepEqual(
      parseSettings({ 'gcp:project': 'acme-webhooks', ...stackConfig({}) }),
      parseSettings({ 'gcp:project': 'acme-webhooks' }),
    );
  });
});

describe('Pulumi.dev.yaml.example', () => {
  const own = Object.entries(example).filter(([key]) => key.startsWith(`${PROJECT_NAME}:`));

  it('sets every declared key that has no default, so no "missing configuration value"', () => {
    const set = new Set(own.map(([key]) => key.slice(PROJECT_NAME.length + 1)));
    for (const [key, declaration] of declarations) {
      if (declaration.default === undefined)
        assert.ok(set.has(key), `${key} has no default and is not set in the example`);
    }
  });

  it('sets only declared keys, each of its declared type', () => {
    for (const [key, value] of own) {
      const declaration = declarations.get(key.slice(PROJECT_NAME.length + 1));
      assert.ok(declaration !== undefined, `${key} is not declared in Pulumi.yaml`);
      assert.ok(fitsDeclaredType(declaration, value), `${key} is not a ${declaration.type}`);
      assert.notEqual(declaration.secret, true, `${key} is secret and cannot be shipped in an example`);
    }
  });

  it('parses, once the user has set gcp:project, into the settings it documents', () => {
    const settings = parseSettings({ ...stackConfig(example), 'gcp:project': 'acme-webhooks' });
    assert.equal(settings.region, example['gcp:region']);
    assert.deepEqual(settings.signingSecrets, []);
    assert.deepEqual(settings.alertEmails, example[`${PROJECT_NAME}:alertEmails`]);
    assert.deepEqual(
      settings.subscriptions.map((s) => s.name),
      ['billing', 'analytics'],
    );
  });
});
