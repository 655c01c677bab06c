/**
 * The reusable components, for other Pulumi programs (import this file, not `infra/index.ts`,
 * which is the deployable program and creates resources when loaded).
 */
export { EventBus, type EventBusArgs, type RouteResources } from './eventBus.ts';
export { EventSubscription, type EventSubscriptionArgs, type EventSubscriptionPushArgs } from './eventSubscription.ts';
export { Monitoring, type MonitoringArgs } from './monitoring.ts';
export { Receiver, type ReceiverArgs } from './receiver.ts';
export { RequiredApis, type RequiredApisArgs } from './requiredApis.ts';
export { SigningSecrets, type SigningSecretInput, type SigningSecretsArgs } from './signingSecrets.ts';
