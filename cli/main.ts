/**
 * `gemini-webhooks`: the operator's command line. Registers the receiver with Gemini and rotates
 * its signing secrets (WebhookService REST API + the Pulumi stack config), and works the Pub/Sub
 * side: dead letters, a live tail, and live events forwarded to a consumer in development.
 *
 * `run(argv, context)` is the whole program; `main` is the process wrapper that cli/bin.js calls.
 */
import { defaultContext, type CliContext } from './context.ts';
import { CliError } from './errors.ts';
import { GeminiApiError } from './gemini/client.ts';
import { PulumiCommandError, PulumiMissingError } from './pulumi.ts';
import { createCommand } from './webhooks/create.ts';
import { deleteCommand, disableCommand, enableCommand, pingCommand } from './webhooks/manage.ts';
import { pruneCommand } from './webhooks/prune.ts';
import { rotateCommand } from './webhooks/rotate.ts';
import { getCommand, listCommand } from './webhooks/show.ts';
import { updateCommand } from './webhooks/update.ts';
import { dlqListCommand } from './dlq/list.ts';
import { dlqReplayCommand } from './dlq/replay.ts';
import { listenCommand } from './listen.ts';
import { tailCommand } from './tail.ts';
import { PubSubSetupError } from './pubsub.ts';
import { checkCommand } from './check/command.ts';
import { replayCommand } from './replay.ts';

type Command = (argv: readonly string[], context: CliContext) => Promise<number>;

const COMMANDS: Record<string, Record<string, Command> | Command> = {
  webhooks: {
    create: createCommand,
    list: listCommand,
    get: getCommand,
    update: updateCommand,
    ping: pingCommand,
    enable: enableCommand,
    disable: disableCommand,
    delete: deleteCommand,
    rotate: rotateCommand,
    prune: pruneCommand,
  },
  dlq: { list: dlqListCommand, replay: dlqReplayCommand },
  tail: tailCommand,
  listen: listenCommand,
  check: checkCommand,
  replay: replayCommand,
};

export const USAGE = `usage: gemini-webhooks <command> [options]     (\`<command> --help\` for details)

Register with Gemini (WebhookService API; key from GEMINI_API_KEY):
  webhooks create [--url URL] [--events T,...]   register the receiver; stores the secret in the stack
  webhooks list | get [ID]                       show webhooks, their state and what to do about it
  webhooks update [ID] [--events T,...]          change events, --url or --name in place (same secret)
  webhooks ping [ID]                             ask Gemini for a test delivery (lands on the unrouted topic)
  webhooks enable [ID] | disable [ID]            turn deliveries on or off
  webhooks delete ID
  webhooks rotate [ID] [--immediately]           new signing secret, stored as the newest in the stack
  webhooks prune [--dry-run]                     drop stored secrets whose grace has passed

Pub/Sub (GOOGLE_CLOUD_PROJECT or --project; PUBSUB_EMULATOR_HOST for the emulator):
  dlq list                                       dead letters per event type: count, oldest age
  dlq replay --type T [--limit N] [--dry-run]    republish dead letters to the topic they came from
  tail [--type T ...]                            print events as they arrive (Ctrl-C stops)
  listen --forward-to URL [--type T ...]         push events to a consumer on this machine (Ctrl-C stops)

Environment: GEMINI_API_KEY, GEMINI_API_BASE_URL, GOOGLE_CLOUD_PROJECT, PUBSUB_EMULATOR_HOST,
WEBHOOK_TOPIC_PREFIX (default gemini), GEMINI_WEBHOOKS_LISTEN_SECRET (listen). Signing secrets are
never printed unless --show-secret is given.`;

/** Runs one command line; returns the exit code. Never throws for an error a user can act on. */
export async function run(argv: readonly string[], context: CliContext = defaultContext()): Promise<number> {
  const [group, sub, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    context.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  const entry = COMMANDS[group];
  let command: Command | undefined;
  let args: readonly string[];
  if (typeof entry === 'function') {
    command = entry;
    args = argv.slice(1);
  } else if (entry !== undefined) {
    if (sub === '--help' || sub === '-h') {
      context.out(USAGE);
      return 0;
    }
    command = sub === undefined ? undefined : entry[sub];
    args = rest;
    if (command === undefined) {
      context.err(
        `gemini-webhooks ${group}: ${sub === undefined ? 'missing' : `unknown subcommand "${sub}";`} ` +
          `choose one of ${Object.keys(entry).join(', ')}.`,
      );
      return 2;
    }
  } else {
    context.err(`gemini-webhooks: unknown command "${group}".\n${USAGE}`);
    return 2;
  }
  try {
    return await command(args, context);
  } catch (error) {
    if (error instanceof CliError) {
      context.err(`gemini-webhooks: ${error.message}`);
      return error.exitCode;
    }
    if (error instanceof GeminiApiError || error instanceof PubSubSetupError || error instanceof PulumiCommandError) {
      context.err(`gemini-webhooks: ${error.message}`);
      return 1;
    }
    if (error instanceof PulumiMissingError) {
      context.err(
        `gemini-webhooks: ${error.message} Install it from https://www.pulumi.com/docs/install/ and run this in the Pulumi project directory (or pass --cwd).`,
      );
      return 1;
    }
    throw error;
  }
}

/**
 * The process wrapper: Ctrl-C, SIGTERM and SIGHUP (the terminal closed) abort the context's signal, so
 * long-running commands delete their temporary subscriptions; a second signal exits at once.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (): void => {
    interrupts++;
    if (interrupts > 1) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  // Off GCP there is no metadata server; asking for one only prints warnings.
  process.env['METADATA_SERVER_DETECTION'] ??= 'none';
  const code = await run(argv, defaultContext({ signal: controller.signal }));
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  process.exitCode = code;
}
