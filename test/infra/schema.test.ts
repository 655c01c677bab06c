/**
 * The schema this package serves when a program in another language runs `pulumi package add` on it:
 * the components, every input and output, their types and descriptions. Made in process by the
 * provider the plugin host serves (infra/component-provider.ts; test/install/ starts the real host),
 * and checked against Pulumi's published package metaschema: `pkg/codegen/schema/pulumi.json` at
 * https://github.com/pulumi/pulumi/blob/bd47908e0d1dc907596f419a001dcbd0f76a4425/pkg/codegen/schema/pulumi.json,
 * stored unchanged as test/fixtures/pulumi-package-metaschema.json.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROUTE_KEYS } from '../../functions/catalog.ts';
import { GeminiWebhooksProvider } from '../../infra/component-provider.ts';
import { EVENT_SUBSCRIPTION_ARGUMENTS } from '../../infra/components/event-subscription.ts';
import { GEMINI_WEBHOOKS_ARGUMENTS } from '../../infra/components/gemini-webhooks.ts';
import {
  PUBLIC_INVOKERS,
  resolveConsumer,
  resolveRetryPolicy,
  resolveSettings,
  SCHEMES,
  SettingError,
} from '../../infra/settings.ts';
import { CONFIG_KEYS } from '../../infra/stack-config.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PACKAGE = 'gemini-webhooks-pubsub';

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  plain?: boolean;
  optional?: boolean;
  description?: string;
}
interface EnumType {
  type: string;
  description?: string;
  enum: { name: string; value: string; description?: string }[];
}
interface Resource {
  isComponent?: boolean;
  description?: string;
  inputProperties: Record<string, Property>;
  requiredInputs?: string[];
  properties: Record<string, Property>;
}
interface Schema {
  name: string;
  resources: Record<string, Resource>;
  types: Record<string, { description?: string; properties: Record<string, Property>; required?: string[] }>;
}

let schema: Schema;
before(async () => {
  schema = JSON.parse(await new GeminiWebhooksProvider(ROOT).getSchema()) as Schema;
});

/** Pulumi's package metaschema, compiled; `regex` and `uri-reference` are the formats it uses. */
function metaschemaValidator() {
  const metaschema = JSON.parse(
    readFileSync(path.join(ROOT, 'test', 'fixtures', 'pulumi-package-metaschema.json'), 'utf8'),
  ) as object;
  const ajv = new Ajv2020({ allErrors: true, strict: false });
  ajv.addFormat('regex', (text: string) => {
    try {
      new RegExp(text, 'u');
      return true;
    } catch {
      return false;
    }
  });
  ajv.addFormat('uri-reference', (text: string) => !/\s/.test(text));
  return ajv.compile(metaschema);
}

/** Every property of every resource and object type, with where it is. */
function allProperties(): [string, Property][] {
  const found: [string, Property][] = [];
  for (const [name, resource] of Object.entries(schema.resources)) {
    for (const [key, p] of Object.entries(resource.inputProperties)) found.push([`${name} input ${key}`, p]);
    for (const [key, p] of Object.entries(resource.properties)) found.push([`${name} output ${key}`, p]);
  }
  for (const [name, type] of Object.entries(schema.types)) {
    for (const [key, p] of Object.entries(type.properties ?? {})) found.push([`${name}.${key}`, p]);
  }
  return found;
}

const resource = (name: string): Resource => {
  const found = schema.resources[`${PACKAGE}:index:${name}`];
  assert.ok(found, `${name} is in the schema; it has ${Object.keys(schema.resources).join(', ')}`);
  return found;
};

function assertDocumented(where: string, properties: Record<string, Property>): void {
  for (const [name, property] of Object.entries(properties)) {
    assert.ok(property.type !== undefined || property.$ref !== undefined, `${where}.${name} has a type`);
    assert.ok((property.description ?? '').length > 15, `${where}.${name} is described`);
  }
}

describe('the inferred schema', () => {
  it('names the package after package.json and holds exactly the two exported components', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { name: string };
    assert.equal(schema.name, manifest.name);
    assert.deepEqual(Object.keys(schema.resources).sort(), [
      `${PACKAGE}:index:EventSubscription`,
      `${PACKAGE}:index:GeminiWebhooks`,
    ]);
    for (const component of Object.values(schema.resources)) assert.equal(component.isComponent, true);
  });

  it('gives GeminiWebhooks every stack setting as a documented input, only the project required', () => {
    const webhooks = resource('GeminiWebhooks');
    const fromStack = CONFIG_KEYS.map((key) =>
      key === 'gcp:project' ? 'project' : key === 'gcp:region' ? 'region' : key,
    );
    assert.deepEqual(Object.keys(webhooks.inputProperties).sort(), [...fromStack].sort());
    assert.deepEqual(webhooks.requiredInputs, ['project']);
    assertDocumented('GeminiWebhooks', webhooks.inputProperties);
    const inputs = webhooks.inputProperties;
    assert.equal(inputs['maxDeliveryAttempts']?.type, 'integer');
    assert.equal(inputs['enableApis']?.type, 'boolean');
    assert.equal(inputs['schemes']?.items?.$ref, `#/types/${PACKAGE}:index:Scheme`);
    assert.equal(inputs['publicInvoker']?.$ref, `#/types/${PACKAGE}:index:PublicInvoker`);
    assert.equal(inputs['subscriptions']?.items?.$ref, `#/types/${PACKAGE}:index:Consumer`);
  });

  it('describes the consumer and push types, with push endpoints that may come from other resources', () => {
    const consumer = schema.types[`${PACKAGE}:index:Consumer`];
    const push = schema.types[`${PACKAGE}:index:PushDelivery`];
    assert.ok(consumer && push);
    assertDocumented('Consumer', consumer.properties);
    assertDocumented('PushDelivery', push.properties);
    assert.deepEqual(consumer.required?.sort(), ['eventTypes', 'name']);
    assert.equal(push.properties['endpoint']?.plain, undefined, 'an endpoint may be an output of another resource');
  });

  it('gives GeminiWebhooks the outputs a program needs next, typed and described', () => {
    const outputs = resource('GeminiWebhooks').properties;
    assertDocumented('GeminiWebhooks outputs', outputs);
    assert.equal(outputs['receiverUrl']?.type, 'string');
    assert.equal(outputs['topics']?.additionalProperties?.type, 'string');
    assert.equal(outputs['consumerSubscriptions']?.additionalProperties?.additionalProperties?.type, 'string');
    assert.equal(outputs['signingSecretFingerprints']?.items?.type, 'string');
    for (const name of [
      'signingSecretId',
      'dashboardId',
      'nextStep',
      'deadLetterSubscriptions',
      'receiverServiceAccount',
    ]) {
      assert.ok(outputs[name], `output ${name}`);
    }
  });

  it('gives EventSubscription its inputs and the ids of its subscriptions', () => {
    const subscription = resource('EventSubscription');
    assertDocumented('EventSubscription', subscription.inputProperties);
    assert.deepEqual(subscription.requiredInputs?.sort(), ['consumer', 'eventTypes', 'project', 'topicPrefix']);
    assert.equal(subscription.inputProperties['eventTypes']?.items?.$ref, `#/types/${PACKAGE}:index:EventType`);
    assert.equal(subscription.properties['subscriptionIds']?.additionalProperties?.type, 'string');
  });
});

describe('the schema against what Pulumi and the code say', () => {
  it("passes Pulumi's package metaschema, which refuses a schema with a type it does not know", () => {
    const validate = metaschemaValidator();
    assert.equal(validate(schema), true, JSON.stringify(validate.errors, null, 2));
    const broken = structuredClone(schema);
    broken.resources[`${PACKAGE}:index:GeminiWebhooks`]!.inputProperties['minInstances']!.type = 'float';
    assert.equal(validate(broken), false);
  });

  it('types counts as integers, and each of them is refused as a fraction', () => {
    const numeric = allProperties().filter(([, p]) => p.type === 'integer' || p.type === 'number');
    assert.ok(numeric.length >= 15, `${numeric.length} numeric properties`);
    for (const [where, property] of numeric) assert.equal(property.type, 'integer', where);
    const refuses = (attempt: () => unknown, where: string) =>
      assert.throws(attempt, (error) => error instanceof SettingError, `${where} refuses 1.5`);
    for (const [where] of numeric) {
      const key = where.split(/[ .]/).at(-1)!;
      if (where.startsWith(`${PACKAGE}:index:GeminiWebhooks input`))
        refuses(() => resolveSettings({ project: 'my-project', [key]: 1.5 }), where);
      else if (where.startsWith(`${PACKAGE}:index:EventSubscription input`) && key !== 'ackDeadlineSeconds')
        refuses(() => resolveRetryPolicy({ [key]: 1.5 }), where);
      else refuses(() => resolveConsumer({ name: 'billing', eventTypes: ['*'], [key]: 1.5 }, ''), where);
    }
  });

  it('offers the closed sets as enums made from the lists the code checks against', () => {
    const members = (type: string) => (schema.types[`${PACKAGE}:index:${type}`] as unknown as EnumType).enum;
    assert.deepEqual(
      members('EventType').map((m) => m.value),
      [...ROUTE_KEYS, '*'],
    );
    assert.deepEqual(
      members('Scheme').map((m) => m.value),
      [...SCHEMES],
    );
    assert.deepEqual(
      members('PublicInvoker').map((m) => m.value),
      [...PUBLIC_INVOKERS],
    );
    assert.equal(members('EventType').find((m) => m.value === '*')?.name, 'All');
    assert.equal(members('EventType').find((m) => m.value === 'batch.succeeded')?.name, 'BatchSucceeded');
    const consumer = schema.types[`${PACKAGE}:index:Consumer`]!;
    assert.equal(consumer.properties['eventTypes']?.items?.$ref, `#/types/${PACKAGE}:index:EventType`);
  });

  it('knows at run time every argument each component takes, so it can refuse the others', () => {
    assert.deepEqual(
      [...GEMINI_WEBHOOKS_ARGUMENTS].sort(),
      Object.keys(resource('GeminiWebhooks').inputProperties).sort(),
    );
    assert.deepEqual(
      [...EVENT_SUBSCRIPTION_ARGUMENTS].sort(),
      Object.keys(resource('EventSubscription').inputProperties).sort(),
    );
  });

  it('describes every type, enum member and property', () => {
    for (const [name, type] of Object.entries(schema.types)) {
      assert.ok((type.description ?? '').length > 15, `${name} is described`);
      for (const member of (type as unknown as Partial<EnumType>).enum ?? [])
        assert.ok((member.description ?? '').length > 10, `${name} ${member.value} is described`);
    }
    for (const [name, resource] of Object.entries(schema.resources))
      assert.ok((resource.description ?? '').length > 15, `${name} is described`);
    for (const [where, property] of allProperties())
      assert.ok((property.description ?? '').length > 15, `${where} is described`);
  });
});
