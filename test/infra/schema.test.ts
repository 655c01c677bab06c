/**
 * The schema Pulumi infers from this package's TypeScript when a program in another language runs
 * `pulumi package add` on it: the components, every input and output, their types and descriptions.
 * Inferred in process with the same ComponentProvider the Node.js plugin host runs
 * (`@pulumi/pulumi/provider/experimental`), from the entry point PulumiPlugin.yaml names.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { ComponentProvider } from '@pulumi/pulumi/provider/experimental/index.js';
import { parse } from 'yaml';
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
  types: Record<string, { properties: Record<string, Property>; required?: string[] }>;
}

let schema: Schema;
before(async () => {
  const plugin = parse(readFileSync(path.join(ROOT, 'PulumiPlugin.yaml'), 'utf8')) as { main: string };
  const entry = (await import(path.join(ROOT, plugin.main))) as Record<string, unknown>;
  const { GeminiWebhooks, EventSubscription } = entry as typeof import('../../index.ts');
  const provider = new ComponentProvider({
    components: [GeminiWebhooks, EventSubscription],
    dirname: ROOT,
    name: PACKAGE,
  });
  schema = JSON.parse(await provider.getSchema()) as Schema;
});

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
    assert.equal(inputs['maxDeliveryAttempts']?.type, 'number');
    assert.equal(inputs['enableApis']?.type, 'boolean');
    assert.deepEqual(inputs['schemes']?.items?.type, 'string');
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
    assert.equal(subscription.inputProperties['eventTypes']?.items?.type, 'string');
    assert.equal(subscription.properties['subscriptionIds']?.additionalProperties?.type, 'string');
  });
});
