/**
 * What the package gives other Pulumi programs (`gemini-webhooks-pubsub`, and through
 * `pulumi package add`, programs in other languages): the whole deployment, and a consumer's
 * subscriptions on a deployment made elsewhere.
 *
 * The argument types come first: Pulumi's schema analyzer reads the documentation of a type only in
 * the files it visits, in the order this module names them, and it stops once it has found both
 * components, so the file that declares Consumer and PushDelivery must come before theirs.
 */
export type { Consumer, GeminiWebhooksArgs, PushDelivery } from './settings.ts';
export { GeminiWebhooks } from './components/gemini-webhooks.ts';
export {
  EventSubscription,
  type EventSubscriptionArgs,
  type EventSubscriptionPushArgs,
} from './components/event-subscription.ts';
