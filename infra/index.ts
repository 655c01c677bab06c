/**
 * The Pulumi program (`main` in Pulumi.yaml): read the stack's config once, build the deployment,
 * export what a user needs next. The deployment is the GeminiWebhooks component; stack config
 * reading is in `stack-config.ts`.
 */
import { GeminiWebhooks } from './components/gemini-webhooks.ts';
import { readStackConfig } from './stack-config.ts';

const webhooks = new GeminiWebhooks('gemini-webhooks', readStackConfig());

/** The HTTPS endpoint to register with Gemini. */
export const receiverUrl = webhooks.receiverUrl;
export const topicPrefix = webhooks.topicPrefix;
/** Topic id per event type (and `unrouted`). */
export const topics = webhooks.topics;
/** Dead-letter subscription id per event type: where undeliverable events wait for replay. */
export const deadLetterSubscriptions = webhooks.deadLetterSubscriptions;
export const consumerSubscriptions = webhooks.consumerSubscriptions;
/** Secret Manager secret holding the signing keys (the resource id, never a value). */
export const signingSecretId = webhooks.signingSecretId;
export const signingSecretFingerprints = webhooks.signingSecretFingerprints;
export const receiverServiceAccount = webhooks.receiverServiceAccount;
export const dashboardId = webhooks.dashboardId;
export const nextStep = webhooks.nextStep;
