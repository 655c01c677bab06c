/**
 * Pub/Sub for the CLI: the client (project from --project or GOOGLE_CLOUD_PROJECT; the emulator
 * when PUBSUB_EMULATOR_HOST is set) and synchronous pull, which the streaming `Subscription`
 * API does not offer but counting and replaying dead letters need.
 */
import { PubSub, v1 } from '@google-cloud/pubsub';
import { EMULATOR_PROJECT } from '../functions/config.ts';
export { grpcCode, Status } from '../functions/grpc-status.ts';
import type { CliContext } from './context.ts';

export class PubSubSetupError extends Error {
  override name = 'PubSubSetupError';
}

export interface PubSubHandle {
  pubsub: PubSub;
  projectId: string;
  emulatorHost: string | undefined;
  subscriber: v1.SubscriberClient;
  subscriptionPath(id: string): string;
  close(): Promise<void>;
}

export async function openPubSub(values: { project?: string | undefined }, context: CliContext): Promise<PubSubHandle> {
  const emulatorHost = context.env['PUBSUB_EMULATOR_HOST']?.trim() || undefined;
  const projectId =
    values.project ??
    (context.env['GOOGLE_CLOUD_PROJECT']?.trim() || undefined) ??
    (emulatorHost ? EMULATOR_PROJECT : undefined);
  if (projectId === undefined) {
    throw new PubSubSetupError(
      'No Google Cloud project: pass --project or set GOOGLE_CLOUD_PROJECT ' +
        '(or PUBSUB_EMULATOR_HOST for the local emulator).',
    );
  }
  const pubsub = new PubSub({ projectId, ...(emulatorHost ? { apiEndpoint: emulatorHost, emulatorMode: true } : {}) });
  // Spread: the client options type wants an index signature the config interface lacks.
  const subscriber = new v1.SubscriberClient({ ...(await pubsub.getClientConfig()) });
  return {
    pubsub,
    projectId,
    emulatorHost,
    subscriber,
    subscriptionPath: (id) => (id.startsWith('projects/') ? id : `projects/${projectId}/subscriptions/${id}`),
    async close() {
      await subscriber.close().catch(() => {});
      await pubsub.close().catch(() => {});
    },
  };
}

export function describePubSubError(error: unknown, what: string): string {
  const message = ((error as Error).message ?? String(error)).split('\n')[0];
  return `${what}: ${message}`;
}
