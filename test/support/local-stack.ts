/**
 * The local stack for end-to-end tests: the real Pub/Sub emulator, the topology the cloud gets,
 * a JWKS on loopback, and the receiver under the real Functions Framework CLI. Messages that
 * reach the consumer subscriptions are collected for assertions.
 */
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { EVENT_TYPES, ROUTE_KEYS, type RouteKey } from '../../functions/catalog.ts';
import { planRoute, planSubscription } from '../../functions/topology.ts';
import {
  generateJwtKeyPair,
  generateSigningSecret,
  serveJwks,
  type JwksServer,
  type JwtKeyPair,
} from '../../scripts/lib/dev-keys.ts';
import { freePort, startEmulator, type Emulator } from '../../scripts/lib/emulator.ts';
import { createLocalTopology } from '../../scripts/lib/local-topology.ts';
import { startReceiverProcess, type ReceiverProcess } from '../../scripts/lib/receiver-process.ts';

export const PROJECT = 'e2e-project';
export const PREFIX = 'gemini';
export const CONSUMER = 'e2e';
/** The `aud` the e2e receiver requires of JWT deliveries. */
export const JWT_AUDIENCE = 'https://e2e.example/gemini-webhooks';

export interface LocalStack {
  emulator: Emulator;
  pubsub: PubSub;
  receiver: ReceiverProcess;
  jwks: JwksServer;
  jwtKeys: JwtKeyPair;
  secrets: string[];
  /** Messages received so far per route, on the `e2e` consumer subscriptions (acked unless `nack` is set). */
  received: Map<RouteKey, Message[]>;
  /** Routes whose consumer nacks everything (to exercise dead-lettering). */
  nack: Set<RouteKey>;
  /** Resolves when `count` messages have arrived for `route`, or rejects after `timeoutMs`. */
  waitFor(route: RouteKey, count: number, timeoutMs?: number): Promise<Message[]>;
  subscription(name: string): Subscription;
  stop(): Promise<void>;
}

export async function startLocalStack(env: Record<string, string> = {}): Promise<LocalStack> {
  const emulator = await startEmulator();
  const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: emulator.host });
  await createLocalTopology(pubsub, {
    topicPrefix: PREFIX,
    consumer: CONSUMER,
    maxDeliveryAttempts: 5,
    minimumBackoffSeconds: 0,
    maximumBackoffSeconds: 1,
  });
  const jwtKeys = await generateJwtKeyPair();
  const jwks = await serveJwks([jwtKeys.publicJwk]);
  const secrets = [generateSigningSecret(), generateSigningSecret()];
  const receiver = await startReceiverProcess({
    port: await freePort(),
    env: {
      PUBSUB_EMULATOR_HOST: emulator.host,
      GOOGLE_CLOUD_PROJECT: PROJECT,
      WEBHOOK_SIGNING_SECRETS: secrets.join(','),
      WEBHOOK_SCHEMES: 'static,jwt',
      WEBHOOK_JWKS_URL: jwks.url,
      WEBHOOK_JWT_AUDIENCE: JWT_AUDIENCE,
      WEBHOOK_PUBLISH_TIMEOUT_MS: '2000',
      ...env,
    },
  });

  const received = new Map<RouteKey, Message[]>(ROUTE_KEYS.map((route) => [route, []]));
  const nack = new Set<RouteKey>();
  const subscriptions: Subscription[] = [];
  for (const route of ROUTE_KEYS) {
    const subscription = pubsub.subscription(planSubscription(PREFIX, route, CONSUMER).name);
    subscription.on('message', (message: Message) => {
      received.get(route)!.push(message);
      if (nack.has(route)) message.nack();
      else message.ack();
    });
    subscription.on('error', () => {}); // the emulator may be stopped on purpose
    subscriptions.push(subscription);
  }

  return {
    emulator,
    pubsub,
    receiver,
    jwks,
    jwtKeys,
    secrets,
    received,
    nack,
    async waitFor(route, count, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.get(route)!.length < count) {
        if (Date.now() > deadline) {
          throw new Error(
            `expected ${count} message(s) on ${planRoute(PREFIX, route).topic}, got ${received.get(route)!.length}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return received.get(route)!;
    },
    subscription: (name) => pubsub.subscription(name),
    async stop() {
      await Promise.allSettled(subscriptions.map((subscription) => subscription.close()));
      await receiver.stop();
      await jwks.close();
      await pubsub.close().catch(() => {});
      await emulator.stop();
    },
  };
}

export { EVENT_TYPES };
