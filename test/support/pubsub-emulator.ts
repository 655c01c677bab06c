/**
 * The Pub/Sub emulator with a client on it, for a test file or a single test: started on a free port,
 * stopped (client first) by `stop()`.
 */
import { PubSub } from '@google-cloud/pubsub';
import { EMULATOR_PROJECT } from '../../functions/config.ts';
import { startEmulator, type Emulator } from '../../scripts/lib/emulator.ts';

export interface EmulatorPubSub {
  emulator: Emulator;
  pubsub: PubSub;
  stop(): Promise<void>;
}

export async function startPubSub(): Promise<EmulatorPubSub> {
  // Off GCP there is no metadata server; the client libraries in this process need not look for one.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const emulator = await startEmulator();
  const pubsub = new PubSub({ projectId: EMULATOR_PROJECT, apiEndpoint: emulator.host, emulatorMode: true });
  return {
    emulator,
    pubsub,
    async stop() {
      await pubsub.close();
      await emulator.stop();
    },
  };
}
