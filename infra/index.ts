/**
 * The Pulumi program (`main` in Pulumi.yaml): read the stack's config once, build the deployment,
 * export what a user needs next. Components live in `components/`, planning in `plan.ts`.
 */
import { readSettings } from './config.ts';
import { createStack } from './stack.ts';

const stack = createStack(readSettings()).outputs;

/** The HTTPS endpoint to register with Gemini. */
export const receiverUrl = stack.receiverUrl;
export const topicPrefix = stack.topicPrefix;
/** Topic id per event type (and `unrouted`). */
export const topics = stack.topics;
/** Dead-letter subscription id per event type: where undeliverable events wait for replay. */
export const deadLetterSubscriptions = stack.deadLetterSubscriptions;
export const consumerSubscriptions = stack.consumerSubscriptions;
/** Secret Manager secret holding the signing keys (the resource id, never a value). */
export const signingSecretId = stack.signingSecretId;
export const signingSecretFingerprints = stack.signingSecretFingerprints;
export const receiverServiceAccount = stack.receiverServiceAccount;
export const dashboardId = stack.dashboardId;
export const nextStep = stack.nextStep;
