/**
 * What the package's Pulumi schema says beyond what Pulumi's TypeScript analyzer infers
 * (`@pulumi/pulumi/provider/experimental`, the version this package pins). The analyzer types every
 * `number` as `number` (float64 in Go, float in Python) and has no way to say "whole number"; it can
 * make an enum only from a TypeScript `enum` or an `as const` object literal written in the source,
 * while the closed sets here are computed (the event catalog, the schemes, the invoker choices); and
 * it drops the description of every object type. So the provider refines the inferred schema:
 *
 * - every `number` becomes `integer`: each numeric argument is validated as a whole number
 *   (settings.ts; test/infra/schema.test.ts proves it for each one);
 * - `eventTypes`, `schemes` and `publicInvoker` take enums built from the code's own lists;
 * - object types get the documentation written on their TypeScript declarations.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { ROUTE_KEYS } from '../functions/catalog.ts';
import { PUBLIC_INVOKERS, SCHEMES } from './settings.ts';

interface Property {
  type?: string;
  $ref?: string;
  items?: Property;
  additionalProperties?: Property;
  description?: string;
  [key: string]: unknown;
}
interface EnumValue {
  name: string;
  value: string;
  description: string;
}
interface TypeSpec {
  type: string;
  description?: string;
  properties?: Record<string, Property>;
  enum?: EnumValue[];
  [key: string]: unknown;
}
interface PackageSpec {
  name: string;
  resources: Record<string, { inputProperties?: Record<string, Property>; properties?: Record<string, Property> }>;
  types?: Record<string, TypeSpec>;
  [key: string]: unknown;
}

/** `batch.succeeded` -> `BatchSucceeded`: the name SDKs give the enum member. */
function memberName(value: string): string {
  if (value === '*') return 'All';
  return value
    .split(/[^a-zA-Z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('');
}

/** The closed sets: which argument takes which enum, and its members. */
const ENUMS: Record<string, { type: string; description: string; members: EnumValue[] }> = {
  eventTypes: {
    type: 'EventType',
    description: 'An event type to subscribe to: a catalog event type, `unrouted`, or `*` for all of them.',
    members: [...ROUTE_KEYS, '*'].map((value) => ({
      name: memberName(value),
      value,
      description:
        value === '*'
          ? 'Every route: all catalog event types and `unrouted`.'
          : value === 'unrouted'
            ? 'Deliveries whose event type the catalog does not know, or that carry none.'
            : `Deliveries of type \`${value}\`.`,
    })),
  },
  schemes: {
    type: 'Scheme',
    description: 'A signature scheme the receiver accepts.',
    members: SCHEMES.map((value) => ({
      name: memberName(value),
      value,
      description:
        value === 'static'
          ? 'Standard Webhooks HMAC signatures, for project-level webhooks.'
          : 'RS256 JWTs signed by Google, for dynamic (per-request) webhooks.',
    })),
  },
  publicInvoker: {
    type: 'PublicInvoker',
    description: 'Who may call the receiver.',
    members: PUBLIC_INVOKERS.map((value) => ({
      name: memberName(value),
      value,
      description:
        value === 'allUsers'
          ? 'Anyone, which Gemini needs unless you front the receiver yourself.'
          : 'No invoker binding, for organisations whose domain-restricted sharing forbids allUsers.',
    })),
  },
};

/** The files that declare the components' argument types (the ones infra/public.ts exports). */
const DECLARING_FILES = [
  'infra/args.ts',
  'infra/consumer.ts',
  'infra/settings.ts',
  'infra/components/gemini-webhooks.ts',
  'infra/components/event-subscription.ts',
];

/** The JSDoc text of every interface declared in `files`, by name. */
export function interfaceDocs(files: readonly string[]): Map<string, string> {
  // The TypeScript the analyzer itself uses (the package's, else the one @pulumi/pulumi vendors).
  const ts = createRequire(import.meta.url)('@pulumi/pulumi/typescript-shim.js') as typeof import('typescript');
  const docs = new Map<string, string>();
  for (const file of files) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    for (const statement of source.statements) {
      if (!ts.isInterfaceDeclaration(statement)) continue;
      const text = ts
        .getJSDocCommentsAndTags(statement)
        .filter(ts.isJSDoc)
        .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
        .join('\n')
        .trim();
      if (text !== '') docs.set(statement.name.text, text);
    }
  }
  return docs;
}

function wholeNumbers(property: Property): void {
  if (property.type === 'number') property.type = 'integer';
  for (const inner of [property.items, property.additionalProperties]) if (inner !== undefined) wholeNumbers(inner);
}

function refineProperty(name: string, property: Property, ref: (type: string) => string): void {
  wholeNumbers(property);
  const closed = ENUMS[name];
  if (closed === undefined) return;
  const target = property.type === 'array' ? property.items : property;
  if (target?.type !== 'string') throw new Error(`schema: ${name} was expected to be a string or a list of strings`);
  delete target.type;
  target.$ref = ref(closed.type);
}

/**
 * The inferred schema (JSON text), refined. `sourceDir` is the package root: the object types'
 * documentation is read from the TypeScript files of infra/ that declare them.
 */
export function refineSchema(schemaText: string, sourceDir: string): string {
  const schema = JSON.parse(schemaText) as PackageSpec;
  const token = (type: string): string => `${schema.name}:index:${type}`;
  const ref = (type: string): string => `#/types/${token(type)}`;
  const types = (schema.types ??= {});
  const used = new Set<string>();
  const refine = (properties: Record<string, Property> | undefined): void => {
    for (const [name, property] of Object.entries(properties ?? {})) {
      refineProperty(name, property, (type) => {
        used.add(type);
        return ref(type);
      });
    }
  };
  for (const resource of Object.values(schema.resources)) {
    refine(resource.inputProperties);
    refine(resource.properties);
  }
  for (const type of Object.values(types)) refine(type.properties);

  for (const closed of Object.values(ENUMS)) {
    if (!used.has(closed.type)) continue;
    types[token(closed.type)] = { type: 'string', description: closed.description, enum: closed.members };
  }
  const docs = interfaceDocs(DECLARING_FILES.map((file) => path.join(sourceDir, file)));
  for (const [key, type] of Object.entries(types)) {
    if (type.description !== undefined) continue;
    const doc = docs.get(key.slice(token('').length));
    if (doc !== undefined) type.description = doc;
  }
  return JSON.stringify(schema);
}
