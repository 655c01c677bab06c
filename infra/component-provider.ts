/**
 * The component provider that Pulumi's Node.js plugin host serves when a program in another language
 * uses this package (`pulumi package add`; provider.ts starts it). It is the provider
 * `componentProviderHost` from `@pulumi/pulumi/provider/experimental` builds, with one change: the schema
 * the TypeScript analyzer infers is refined before it is served (package-schema.ts), because the analyzer
 * has no way to say "whole number" or to name the members of a set the code computes.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ComponentProvider } from '@pulumi/pulumi/provider/experimental/index.js';
import { EventSubscription, GeminiWebhooks } from './public.ts';
import { refineSchema } from './package-schema.ts';

/** The package's name: the schema's name and the first part of every resource type. */
export const PACKAGE_NAME = 'gemini-webhooks-pubsub';

/**
 * Where the analyzer reads tsconfig.json, package.json and the TypeScript sources: the directory
 * holding package.json above this module (the checkout, or the installed package when run from dist/).
 */
function packageRoot(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no package.json above ${import.meta.dirname}`);
  }
}

export class GeminiWebhooksProvider extends ComponentProvider {
  private readonly root: string;

  constructor(root: string = packageRoot()) {
    super({ name: PACKAGE_NAME, dirname: root, components: [GeminiWebhooks, EventSubscription] });
    this.root = root;
  }

  override async getSchema(): Promise<string> {
    return refineSchema(await super.getSchema(), this.root);
  }
}
