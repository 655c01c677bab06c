/**
 * Wiring: builds the receiver's parts from a ReceiverConfig. Clients are created once here and
 * reused for every request.
 */
import { PubSub } from '@google-cloud/pubsub';
import type { ReceiverConfig } from './config.ts';
import { createPubSubEventBus, type EventBus } from './event-bus.ts';
import { createJsonLogger, type Logger } from './log.ts';
import { createWebhookHandler, type JwtSettings, type WebhookHandler } from './receiver.ts';
import { createStaticKeyProvider, fixedSecretSource, type SigningSecretSource } from './signing-keys.ts';
import { createJwksCache } from './verify/jwks.ts';
import { parseEd25519PublicKeys } from './verify/keys.ts';

export interface Receiver {
  handler: WebhookHandler;
  bus: EventBus;
  close(): Promise<void>;
}

/** How long `exp`/`nbf` may be off: senders' and our clocks drift a little. */
const JWT_CLOCK_TOLERANCE_SECONDS = 60;

async function secretSource(config: ReceiverConfig): Promise<SigningSecretSource | undefined> {
  const { signingSecrets } = config;
  switch (signingSecrets.source) {
    case 'none':
      return undefined;
    case 'env':
      // loadConfig has already checked every entry's format.
      return fixedSecretSource(signingSecrets.secrets);
    case 'secret-manager': {
      // Loaded only by deployments that use it: the client library is large and slows cold starts.
      const { createSecretManagerSource } = await import('./secrets/secret-manager.ts');
      return createSecretManagerSource({
        secretName: signingSecrets.secretName,
        refreshIntervalMs: config.secretRefreshSeconds * 1000,
        // A load happens inside a request at worst: it must not outlast the publish deadline.
        timeoutMs: Math.min(5000, config.publishTimeoutMs),
      });
    }
  }
}

function jwtSettings(config: ReceiverConfig): JwtSettings | undefined {
  if (!config.schemes.has('jwt')) return undefined;
  return {
    // A JWKS fetch happens inside a request: it must leave time to publish before the deadline.
    jwks: createJwksCache({
      url: config.jwksUrl,
      fetchTimeoutMs: Math.min(3000, Math.floor(config.publishTimeoutMs / 2)),
    }),
    ...(config.jwtAudience !== undefined && { audience: config.jwtAudience }),
    ...(config.jwtIssuer !== undefined && { issuer: config.jwtIssuer }),
    clockToleranceSeconds: JWT_CLOCK_TOLERANCE_SECONDS,
    requireBodyBinding: config.jwtRequireBodyBinding,
    ...(config.jwtReceiverSecret !== undefined && { receiverSecret: config.jwtReceiverSecret }),
  };
}

export interface ReceiverParts {
  log?: Logger;
  /** Wraps the Pub/Sub event bus before the handler gets it (tests inject faults through it). */
  wrapBus?: (bus: EventBus) => EventBus;
}

export async function createReceiver(config: ReceiverConfig, parts: ReceiverParts = {}): Promise<Receiver> {
  const log = parts.log ?? createJsonLogger();
  if (config.schemes.has('jwt') && config.jwtAudience === undefined) {
    log(
      'WARNING',
      'JWT deliveries are accepted without an audience check (WEBHOOK_JWT_ALLOW_ANY_AUDIENCE=true): ' +
        'a token Google minted for another Gemini user would be accepted too',
      {},
    );
  }
  const pubsub = new PubSub({ projectId: config.projectId });
  const pubsubBus = createPubSubEventBus(pubsub, {
    topicPrefix: config.topicPrefix,
    publishTimeoutMs: config.publishTimeoutMs,
  });
  const bus = parts.wrapBus ? parts.wrapBus(pubsubBus) : pubsubBus;
  const secrets = await secretSource(config);
  const staticKeys = createStaticKeyProvider(
    secrets,
    parseEd25519PublicKeys(config.ed25519PublicKeys, 'WEBHOOK_SIGNING_PUBLIC_KEYS'),
    (problem) => log('ERROR', `unusable signing secret: ${problem}`, {}),
  );
  // Load the secrets now, not on the first delivery: a cold instance then verifies without
  // waiting for Secret Manager, and a permission problem shows in the log at start.
  staticKeys
    .keys()
    .catch((error: unknown) => log('ERROR', `signing secrets not loaded at start: ${(error as Error).message}`, {}));
  const handler = createWebhookHandler({
    bus,
    staticKeys,
    jwt: jwtSettings(config),
    schemes: config.schemes,
    toleranceSeconds: config.timestampToleranceSeconds,
    maxBodyBytes: config.maxBodyBytes,
    maxInFlight: config.maxInFlight,
    log,
  });
  return {
    handler,
    bus,
    async close() {
      await bus.close();
      await secrets?.close?.();
      await pubsub.close();
    },
  };
}
