/**
 * Policy pack with the deployment's invariants. Run it against a preview:
 *   pulumi preview --policy-pack policy
 * The policies themselves live in policies.ts (pure, unit-tested).
 */
import { PolicyPack } from '@pulumi/policy';
import { POLICIES } from './policies.ts';

new PolicyPack('gemini-webhooks-pubsub', { policies: POLICIES });
