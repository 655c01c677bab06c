/**
 * `npm start`: the whole receiver on this machine, in the foreground. Starts the Pub/Sub emulator
 * (unless PUBSUB_EMULATOR_HOST points at one), creates the same topology the cloud gets, serves a
 * local JWKS, starts the receiver on PORT, and prints every event that reaches a subscription.
 * Ctrl-C stops everything it started.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PubSub, type Message } from '@google-cloud/pubsub';
import { eventFields } from '../cli/tail.ts';
import { ConfigError, loadConfig, type ReceiverConfig } from '../functions/config.ts';
import { planRoutes } from '../functions/topology.ts';
import { DEV_STACK_FILE, LOCAL_JWT_AUDIENCE } from './lib/dev-stack-file.ts';
import { generateJwtKeyPair, generateSigningSecret, serveJwks, type JwksServer } from './lib/dev-keys.ts';
import { EmulatorUnavailableError, startEmulator, type Emulator } from './lib/emulator.ts';
import { createLocalTopology } from './lib/local-topology.ts';
import { startReceiverProcess, type ReceiverProcess } from './lib/receiver-process.ts';

const stops: Array<() => Promise<unknown>> = [];
let stopping = false;

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
  process.exit(code);
}

function fail(message: string): Promise<never> {
  console.error(`npm start: ${message}`);
  return shutdown(1);
}

async function main(): Promise<void> {
  // Off GCP there is no metadata server; asking for one only prints warnings.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  const env: Record<string, string> = {};
  let secret = process.env['WEBHOOK_SIGNING_SECRETS']?.split(',')[0]?.trim();
  const generatedSecret = !secret && !process.env['WEBHOOK_SIGNING_SECRETS_SECRET'];
  if (generatedSecret) {
    secret = generateSigningSecret();
    env['WEBHOOK_SIGNING_SECRETS'] = secret;
  }

  // The local stack shows both kinds of delivery; its tokens (npm run send -- --jwt) carry this audience.
  env['WEBHOOK_SCHEMES'] = process.env['WEBHOOK_SCHEMES'] ?? 'static,jwt';
  if (!process.env['WEBHOOK_JWT_AUDIENCE']) env['WEBHOOK_JWT_AUDIENCE'] = LOCAL_JWT_AUDIENCE;

  // Check the configuration before starting anything, with stand-ins for what is started below.
  let config: ReceiverConfig;
  try {
    config = loadConfig({
      ...process.env,
      PUBSUB_EMULATOR_HOST: process.env['PUBSUB_EMULATOR_HOST'] ?? '127.0.0.1:8085',
      WEBHOOK_JWKS_URL: process.env['WEBHOOK_JWKS_URL'] ?? 'http://127.0.0.1/.well-known/jwks.json',
      ...env,
    });
  } catch (error) {
    if (error instanceof ConfigError) return void (await fail(error.message));
    throw error;
  }
  const { port, topicPrefix: prefix } = config;

  let emulatorHost = process.env['PUBSUB_EMULATOR_HOST'];
  if (!emulatorHost) {
    let emulator: Emulator;
    try {
      emulator = await startEmulator();
    } catch (error) {
      if (error instanceof EmulatorUnavailableError) return void (await fail(error.message));
      throw error;
    }
    stops.push(() => emulator.stop());
    emulatorHost = emulator.host;
    console.log(`Pub/Sub emulator on ${emulatorHost}`);
  } else {
    console.log(`Pub/Sub emulator at PUBSUB_EMULATOR_HOST=${emulatorHost}`);
  }
  env['PUBSUB_EMULATOR_HOST'] = emulatorHost;
  env['GOOGLE_CLOUD_PROJECT'] = config.projectId;
  if (generatedSecret) console.log(`Generated a signing secret for this session: ${secret}`);

  let jwks: JwksServer | undefined;
  const jwtKeys = await generateJwtKeyPair();
  if (!process.env['WEBHOOK_JWKS_URL']) {
    jwks = await serveJwks([jwtKeys.publicJwk]);
    stops.push(() => jwks!.close());
    env['WEBHOOK_JWKS_URL'] = jwks.url;
    console.log(`Local JWKS for dynamic (JWT) webhooks: ${jwks.url}`);
  }

  const pubsub = new PubSub({ projectId: env['GOOGLE_CLOUD_PROJECT'], apiEndpoint: emulatorHost });
  stops.push(() => pubsub.close());
  const subscriptions = await createLocalTopology(pubsub, { topicPrefix: prefix });
  console.log(
    `Created ${planRoutes(prefix).length} topics with dead-letter topics and subscriptions (prefix "${prefix}")`,
  );

  let receiver: ReceiverProcess;
  try {
    receiver = await startReceiverProcess({
      port,
      env,
      onOutput: (text) => process.stdout.write(text.replace(/^(?=.)/gm, 'receiver | ')),
    });
  } catch (error) {
    return void (await fail(`${(error as Error).message} (is port ${port} free? set PORT to use another)`));
  }
  stops.push(() => receiver.stop());

  mkdirSync(dirname(DEV_STACK_FILE), { recursive: true });
  writeFileSync(
    DEV_STACK_FILE,
    JSON.stringify(
      {
        url: receiver.url,
        secret,
        // For `gemini-webhooks check --local`.
        pubsubEmulatorHost: emulatorHost,
        projectId: env['GOOGLE_CLOUD_PROJECT'],
        topicPrefix: prefix,
        jwtPrivateJwk: jwks ? jwtKeys.privateJwk : undefined,
        jwtAudience: config.jwtAudience,
      },
      null,
      2,
    ),
    { mode: 0o600 },
  );
  stops.push(async () => writeFileSync(DEV_STACK_FILE, '{}'));

  const watch = (name: string, label: string): void => {
    const subscription = pubsub.subscription(name);
    subscription.on('message', (message: Message) => {
      // The fields are the sender's: escaped, so an event cannot write to the terminal (cli/terminal-text.ts).
      console.log(
        `${label} ${eventFields(message.attributes).join(' ')} bytes=${message.data.length} (subscription ${name})`,
      );
      message.ack();
    });
    subscription.on('error', (error) => console.error(`subscription ${name}: ${error.message}`));
    stops.push(() => subscription.close());
  };
  for (const plan of subscriptions) watch(plan.name, 'event     ');
  for (const route of planRoutes(prefix)) watch(route.deadLetterSubscription, 'DEAD LETTER');

  console.log(`
Receiver listening on ${receiver.url}
Send a signed sample:   npm run send -- batch.succeeded          (any type; add --jwt for a dynamic webhook)
Stop:                   Ctrl-C
`);
}

await main();
