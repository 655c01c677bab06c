/**
 * What another Pulumi program can use against a deployed bus, as `gemini-webhooks-pubsub/infra`.
 * Only components that need nothing beyond the deployment's own dependencies belong here: the
 * Receiver, for one, builds its archive with `typescript` from a checkout of this repository.
 */
export {
  EventSubscription,
  type EventSubscriptionArgs,
  type EventSubscriptionPushArgs,
} from './components/eventSubscription.ts';
