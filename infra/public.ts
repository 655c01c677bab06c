/**
 * What the package gives other Pulumi programs (`gemini-webhooks-pubsub`, and through
 * `pulumi package add`, programs in other languages): the whole deployment, and a consumer's
 * subscriptions on a deployment made elsewhere.
 */
export {
  GeminiWebhooks,
  type Consumer,
  type GeminiWebhooksArgs,
  type PushDelivery,
} from './components/gemini-webhooks.ts';
export {
  EventSubscription,
  type EventSubscriptionArgs,
  type EventSubscriptionPushArgs,
} from './components/event-subscription.ts';
