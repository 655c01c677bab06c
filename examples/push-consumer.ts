/**
 * An example push consumer: an HTTP server whose handler is createPushHandler, as it runs on Cloud
 * Run behind a Pub/Sub push subscription, and on a laptop behind `gemini-webhooks listen`.
 *
 * In production, Pub/Sub pushes with a Google-signed token for PUSH_SERVICE_ACCOUNT and audience
 * PUSH_AUDIENCE. In development, with the local stack or a deployed project:
 *   npm start                                                  # prints "Pub/Sub emulator on 127.0.0.1:<port>"
 *   PUBSUB_EMULATOR_HOST=127.0.0.1:<port> npx gemini-webhooks listen --forward-to http://127.0.0.1:8090/
 *                                                              # prints "Listen secret for this session: listen_..."
 *   GEMINI_WEBHOOKS_LISTEN_SECRET=listen_... PORT=8090 PUSH_AUDIENCE=... PUSH_SERVICE_ACCOUNT=... \
 *     node examples/push-consumer.ts
 *   npm run send -- batch.succeeded                            # the consumer prints the event
 *
 * The development option is set only when GEMINI_WEBHOOKS_LISTEN_SECRET is: a deployment that does
 * not set it accepts Google-signed pushes and nothing else.
 *
 * Like examples/consumer.ts it processes each webhook id once: Pub/Sub redelivers, Gemini retries
 * and `dlq replay` republishes, all with the same `webhook_id`. A handler that throws answers 500,
 * which Pub/Sub takes as a nack and redelivers.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createPushHandler,
  LISTEN_SECRET_ENV,
  type GeminiEvent,
  type HandlerOutcome,
} from '../packages/subscriber/src/index.ts';
import { describe, SeenWebhookIds } from './consumer.ts';

export interface PushConsumerOptions {
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1; on Cloud Run, 0.0.0.0. */
  host?: string;
  /** The push subscription's audience and service account, as in production. */
  audience: string;
  serviceAccountEmail: string;
  /** Also accept `gemini-webhooks listen` requests signed with this secret (development only). */
  listenSecret?: string | undefined;
  /** The business logic; throwing makes Pub/Sub redeliver. */
  process?: (event: GeminiEvent) => Promise<void> | void;
  log?: (line: string) => void;
  /** createPushHandler's structured log (default: JSON lines on stderr). */
  handlerLog?: (entry: Record<string, unknown>) => void;
}

export interface PushConsumer {
  url: string;
  close(): Promise<void>;
}

export async function startPushConsumer(options: PushConsumerOptions): Promise<PushConsumer> {
  const log = options.log ?? ((line: string) => console.log(line));
  const seen = new SeenWebhookIds();
  const handler = createPushHandler({
    audience: options.audience,
    serviceAccountEmail: options.serviceAccountEmail,
    ...(options.listenSecret ? { development: { listenSecret: options.listenSecret } } : {}),
    ...(options.handlerLog ? { log: options.handlerLog } : {}),
    handler: async (event): Promise<HandlerOutcome> => {
      const id = event.delivery.webhookId;
      if (!seen.firstTime(id)) {
        log(`duplicate webhook_id=${id} (replay_count=${event.delivery.replayCount}); already processed, acking`);
        return 'ack';
      }
      try {
        await options.process?.(event);
      } catch (error) {
        seen.forget(id); // not done: the redelivery must be processed
        log(`webhook_id=${id} failed: ${(error as Error).message}; Pub/Sub will redeliver`);
        throw error;
      }
      log(`webhook_id=${id} ${describe(event)}`);
      return 'ack';
    },
  });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, options.host ?? '127.0.0.1', resolve);
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function main(): Promise<void> {
  const audience = process.env['PUSH_AUDIENCE'];
  const serviceAccountEmail = process.env['PUSH_SERVICE_ACCOUNT'];
  if (!audience || !serviceAccountEmail) {
    console.error(
      "examples/push-consumer: set PUSH_AUDIENCE and PUSH_SERVICE_ACCOUNT to the push subscription's " +
        'audience and service account (and GEMINI_WEBHOOKS_LISTEN_SECRET for `gemini-webhooks listen`).',
    );
    process.exit(2);
  }
  const consumer = await startPushConsumer({
    port: Number(process.env['PORT'] ?? 8080),
    host: process.env['K_SERVICE'] ? '0.0.0.0' : '127.0.0.1',
    audience,
    serviceAccountEmail,
    listenSecret: process.env[LISTEN_SECRET_ENV] || undefined,
  });
  console.log(`Push consumer listening on ${consumer.url}; Ctrl-C stops.`);
  const stop = async (): Promise<void> => {
    await consumer.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

if (import.meta.main) await main();
