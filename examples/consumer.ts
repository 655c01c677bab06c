/**
 * An example consumer: pulls Gemini events from its own subscriptions, decodes them with the
 * subscriber kit, and processes each webhook id once.
 *
 * Run it against the local stack:
 *   npm start                                   # prints "Pub/Sub emulator on 127.0.0.1:<port>"
 *   PUBSUB_EMULATOR_HOST=127.0.0.1:<port> node examples/consumer.ts
 *   npm run send -- batch.succeeded             # the consumer prints the event
 *
 * Why dedupe: delivery is at least once at every hop. Gemini retries until it gets a 2xx (the
 * receiver may have published already), Pub/Sub redelivers what was not acked in time, and
 * `gemini-webhooks dlq replay` republishes to every subscription of a topic. The `webhook_id`
 * attribute is the same for all copies of one event. This example remembers ids in memory; a real
 * consumer records them where its side effects live (a unique key in the same database
 * transaction), so "seen" and "done" cannot disagree after a crash.
 */
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { DEFAULT_TOPIC_PREFIX } from '../functions/catalog.ts';
import { planRoutes, planSubscription, TOPOLOGY_DEFAULTS } from '../functions/topology.ts';
import { decodeGeminiEvent, GeminiEventDecodeError, type GeminiEvent } from '../packages/subscriber/src/index.ts';
import { EMULATOR_PROJECT } from '../functions/config.ts';

const ALREADY_EXISTS = 6;
export const CONSUMER_NAME = 'example';

/** Remembers the last `capacity` webhook ids (insertion order), enough to absorb redeliveries. */
export class SeenWebhookIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();
  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }
  /** True the first time an id is offered. */
  firstTime(id: string): boolean {
    if (this.#ids.has(id)) return false;
    this.#ids.add(id);
    if (this.#ids.size > this.#capacity) this.#ids.delete(this.#ids.values().next().value as string);
    return true;
  }
  forget(id: string): void {
    this.#ids.delete(id);
  }
}

/** The business logic: one branch per event type, a fallback for types not known yet. */
export function describe(event: GeminiEvent): string {
  switch (event.type) {
    case 'batch.succeeded':
      return `batch ${event.id} finished; results at ${event.outputFileUri}`;
    case 'batch.failed':
    case 'batch.expired':
    case 'batch.cancelled':
      return `batch ${event.id} ended (${event.type}): ${event.errorCode ?? '-'} ${event.errorMessage ?? ''}`.trim();
    case 'interaction.requires_action':
      return `interaction ${event.id} waits for input`;
    case 'interaction.failed':
    case 'interaction.cancelled':
      return `interaction ${event.id} ended (${event.type}): ${event.errorCode ?? '-'}`;
    case 'video.generated':
      return `video ${event.id} ready: ${event.outputFileUri} (${event.fileName})`;
    case 'unknown':
      return `event of unknown type ${JSON.stringify(event.eventType)}; keeping it for later`;
    default:
      // Types this service has nothing special to do for (`interaction.completed`, and any the kit learns later).
      return `${event.type} ${event.id}`;
  }
}

export interface ExampleConsumer {
  subscriptions: Subscription[];
  close(): Promise<void>;
}

export async function startExampleConsumer(options: {
  pubsub: PubSub;
  prefix: string;
  log?: (line: string) => void;
  process?: (event: GeminiEvent) => Promise<void> | void;
}): Promise<ExampleConsumer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seen = new SeenWebhookIds();
  const subscriptions: Subscription[] = [];
  for (const route of planRoutes(options.prefix)) {
    const plan = planSubscription(options.prefix, route.route, CONSUMER_NAME);
    try {
      await options.pubsub.topic(plan.topic).createSubscription(plan.name, {
        ackDeadlineSeconds: 30,
        deadLetterPolicy: {
          deadLetterTopic: `projects/${options.pubsub.projectId}/topics/${plan.deadLetterTopic}`,
          maxDeliveryAttempts: TOPOLOGY_DEFAULTS.maxDeliveryAttempts,
        },
      });
    } catch (error) {
      if ((error as { code?: number }).code !== ALREADY_EXISTS) throw error;
    }
    const subscription = options.pubsub.subscription(plan.name);
    subscription.on('message', (message: Message) => void onMessage(message));
    subscription.on('error', (error: Error) => log(`${plan.name}: ${error.message}`));
    subscriptions.push(subscription);
  }

  async function onMessage(message: Message): Promise<void> {
    let event: GeminiEvent;
    try {
      event = decodeGeminiEvent(message);
    } catch (error) {
      if (!(error instanceof GeminiEventDecodeError)) throw error;
      // It will never decode: let it reach the dead-letter topic rather than drop it.
      log(`cannot decode message ${message.id} (${error.reason}); nacking it toward the dead-letter topic`);
      message.nack();
      return;
    }
    const id = event.delivery.webhookId;
    if (!seen.firstTime(id)) {
      log(`duplicate webhook_id=${id} (replay_count=${event.delivery.replayCount}); already processed, acking`);
      message.ack();
      return;
    }
    try {
      await options.process?.(event);
      log(`webhook_id=${id} ${describe(event)}`);
      message.ack();
    } catch (error) {
      seen.forget(id); // not done: the redelivery must be processed
      log(`webhook_id=${id} failed: ${(error as Error).message}; Pub/Sub will redeliver`);
      message.nack();
    }
  }

  return {
    subscriptions,
    async close() {
      for (const subscription of subscriptions) await subscription.close();
    },
  };
}

async function main(): Promise<void> {
  const emulatorHost = process.env['PUBSUB_EMULATOR_HOST'];
  if (!emulatorHost && !process.env['GOOGLE_CLOUD_PROJECT']) {
    console.error(
      'examples/consumer: set PUBSUB_EMULATOR_HOST to the emulator `npm start` printed ' +
        '(or GOOGLE_CLOUD_PROJECT for a real project).',
    );
    process.exit(2);
  }
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const pubsub = new PubSub({ projectId: process.env['GOOGLE_CLOUD_PROJECT'] ?? EMULATOR_PROJECT });
  const prefix = process.env['WEBHOOK_TOPIC_PREFIX'] ?? DEFAULT_TOPIC_PREFIX;
  const consumer = await startExampleConsumer({ pubsub, prefix });
  console.log(`Consuming ${consumer.subscriptions.length} subscriptions (<topic>-${CONSUMER_NAME}); Ctrl-C stops.`);
  const stop = async (): Promise<void> => {
    await consumer.close();
    await pubsub.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (import.meta.main) await main();
