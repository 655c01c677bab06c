/**
 * The package's entry point for Pulumi programs: `import { GeminiWebhooks } from 'gemini-webhooks-pubsub'`
 * in TypeScript, and the module `pulumi package add` introspects to generate SDKs for other languages
 * (PulumiPlugin.yaml). It exports the components and nothing else, since every component exported here
 * becomes part of the package's schema. The consumer kit is `gemini-webhooks-pubsub/subscriber`.
 */
export * from './infra/public.ts';
