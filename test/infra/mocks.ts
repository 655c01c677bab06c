/**
 * Pulumi mocks for the infra tests: the model of a fresh Google Cloud project in gcp-model.ts.
 * Every registration is recorded with the inputs the program really passed and checked against
 * the model's rules; the few outputs Google computes (ids, emails, URLs) are filled in so that
 * dependent resources resolve, and tests never assert on those invented values.
 *
 * `setMocks` must run before the program creates resources, and each test file is its own process.
 */
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import type { BuildSourceOptions } from '../../infra/archive.ts';
import type { GeminiWebhooksArgs, Settings } from '../../infra/settings.ts';
import { parseStackConfig, type RawConfig } from '../../infra/stack-config.ts';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { installGcpModel, type GcpModel, type ModelRecord } from './gcp-model.ts';

export const PROJECT = 'acme-webhooks';

export type RecordedResource = ModelRecord;

/** Every registration of this process, in order (the model's records). */
export let recorded: RecordedResource[] = [];
export let model: GcpModel | undefined;

/**
 * Installs the model of a fresh project as Pulumi's mocks. What the model refuses is recorded, and
 * the file fails at its end with an assertion that lists every violation by its rule, rather than
 * with a registration rejected after some test has already ended.
 */
export async function installMocks(options: { enabledApis?: readonly string[] } = {}): Promise<GcpModel> {
  const installed = await installGcpModel({ project: PROJECT, onViolation: 'record', ...options });
  model = installed;
  recorded = installed.records;
  after(async () => {
    await settled();
    installed.finish();
    assert.deepEqual(installed.violations, [], 'Google Cloud (the model) refused nothing');
  });
  return installed;
}

/** Resolves an Output (or plain value) to its value. */
export function resolve<T>(value: pulumi.Input<T>): Promise<T> {
  return new Promise((done) =>
    pulumi.output(value).apply((v) => {
      done(v as T);
      return v;
    }),
  );
}

/** Waits until every given resource has been registered (so its inputs are recorded). */
export async function registered(...resources: pulumi.Resource[]): Promise<void> {
  await Promise.all(resources.map((r) => resolve(r.urn)));
}

export function ofType(type: string): RecordedResource[] {
  return recorded.filter((r) => r.type === type);
}

export function named(type: string, name: string): RecordedResource {
  const found = recorded.find((r) => r.type === type && r.name === name);
  if (found === undefined)
    throw new Error(
      `no ${type} named ${name}; have: ${ofType(type)
        .map((r) => r.name)
        .join(', ')}`,
    );
  return found;
}

/** Test secrets: valid `whsec_` values (24 random-looking bytes). */
export const SECRET_NEW = `whsec_${Buffer.from('new-secret-0123456789ab').toString('base64')}`;
export const SECRET_OLD = `whsec_${Buffer.from('old-secret-0123456789ab').toString('base64')}`;
export const SECRET_NEXT = `whsec_${Buffer.from('next-secret-123456789ab').toString('base64')}`;

/** A test `jwtReceiverSecret`: 44 characters, as `openssl rand -base64 32` prints. */
export const RECEIVER_SECRET = Buffer.from('receiver-secret-0123456789abcdefghijk').toString('base64').slice(0, 44);

/** The full-featured stack config of the mock tests, as Pulumi would hand it over. */
export function fixtureConfig(overrides: RawConfig = {}): RawConfig {
  return {
    'gcp:project': PROJECT,
    'gcp:region': 'europe-west1',
    signingSecrets: JSON.stringify([SECRET_NEW, SECRET_OLD]),
    schemes: 'static,jwt',
    jwtAudience: 'https://hooks.example.com',
    subscriptions: JSON.stringify([
      {
        name: 'billing',
        eventTypes: ['batch.succeeded', 'batch.failed'],
        push: { endpoint: 'https://billing.example.com/gemini' },
      },
      {
        name: 'analytics',
        eventTypes: ['*'],
        filter: 'attributes.user_metadata_tenant = "acme"',
        exactlyOnce: true,
        ackDeadlineSeconds: 120,
      },
    ]),
    alertEmails: JSON.stringify(['oncall@example.com']),
    ...overrides,
  };
}

/** The fixture config as the GeminiWebhooks component's args. */
export function fixtureArgs(overrides: RawConfig = {}): GeminiWebhooksArgs {
  return parseStackConfig(fixtureConfig(overrides)).args;
}

/** The fixture config resolved, every default applied. */
export function fixtureSettings(overrides: RawConfig = {}): Settings {
  return parseStackConfig(fixtureConfig(overrides)).settings;
}

/** The name `infra/index.ts` gives the deployment; every resource name of the stack starts with it. */
export const DEPLOYMENT = 'gemini-webhooks';

/** Waits until every registration the program started (children of children included) has been answered. */
export async function settled(): Promise<void> {
  await pulumi.runtime.disconnect();
}

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A copy of the receiver's sources with extra files, for the archive tests. */
export function fixtureSource(extraFiles: Record<string, string> = {}): BuildSourceOptions {
  const dir = mkdtempSync(path.join(tmpdir(), 'gw-functions-'));
  cpSync(path.join(REPO_ROOT, 'functions'), dir, { recursive: true });
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(path.join(dir, name), text);
  return { sourceDir: dir, lockfile: path.join(REPO_ROOT, 'package-lock.json') };
}
