/**
 * `gemini-webhooks`: the operator's command line. Registers the receiver with Gemini and rotates
 * its signing secrets (WebhookService REST API + the Pulumi stack config), and works the Pub/Sub
 * side: dead letters, a live tail, and live events forwarded to a consumer in development.
 *
 * `run(argv, context)` is the whole program; `main` is the process wrapper that cli/bin.js calls.
 */
import { readFileSync } from 'node:fs';
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

const WEBHOOKS_LINES = `Register with Gemini (WebhookService API; key from GEMINI_API_KEY):
  webhooks create [--url URL] [--events T ...]   register the receiver; stores the secret in the stack
  webhooks list | get [ID]                       show webhooks, their state and what to do about it
  webhooks update [ID] [--events T ...]          change events, --url or --name in place (same secret)
  webhooks ping [ID]                             ask Gemini for a test delivery (lands on the unrouted topic)
  webhooks enable [ID] | disable [ID]            turn deliveries on or off
  webhooks delete ID
  webhooks rotate [ID] [--immediately]           new signing secret, stored as the newest in the stack
  webhooks prune [--dry-run]                     drop stored secrets whose grace has passed`;

const DLQ_LINES = `Dead letters (GOOGLE_CLOUD_PROJECT or --project; PUBSUB_EMULATOR_HOST for the emulator):
  dlq list [--type T ...]                        dead letters per event type: count, oldest age
  dlq replay --type T [--limit N] [--dry-run]    republish dead letters to the topic they came from`;

const ENVIRONMENT = `Environment: GEMINI_API_KEY, GEMINI_API_BASE_URL, GOOGLE_CLOUD_PROJECT, PUBSUB_EMULATOR_HOST,
WEBHOOK_TOPIC_PREFIX (default gemini), GEMINI_WEBHOOKS_LISTEN_SECRET (listen). Signing secrets are
never printed unless --show-secret is given. Lists are given by repeating an option
(--type a --type b), or comma-separated (--type a,b).`;

export const USAGE = `usage: gemini-webhooks <command> [options]     (\`gemini-webhooks help <command>\` for details)

Prove a deployment:
  check [--before-deploy | --local]              every hop, one line each; exit 0 only when nothing failed

${WEBHOOKS_LINES}

Pub/Sub (GOOGLE_CLOUD_PROJECT or --project; PUBSUB_EMULATOR_HOST for the emulator):
  replay --consumer C --since TIME [--undo]      deliver a consumer's events again, since a time
  tail [--type T ...]                            print events as they arrive (Ctrl-C stops)
  listen --forward-to URL [--type T ...]         push events to a consumer on this machine (Ctrl-C stops)

${DLQ_LINES}

  --version                                      the version of gemini-webhooks-pubsub

${ENVIRONMENT}`;

const GROUP_USAGE: Record<string, string> = {
  webhooks: `usage: gemini-webhooks webhooks <subcommand> [options]   (\`gemini-webhooks help webhooks <subcommand>\`)

${WEBHOOKS_LINES}

Examples:
  GEMINI_API_KEY=<key> npx gemini-webhooks webhooks create
  npx gemini-webhooks webhooks list
  npx gemini-webhooks webhooks rotate && pulumi up`,
  dlq: `usage: gemini-webhooks dlq <subcommand> [options]   (\`gemini-webhooks help dlq <subcommand>\`)

${DLQ_LINES}

Examples:
  npx gemini-webhooks dlq list
  npx gemini-webhooks dlq replay --type batch.failed --dry-run`,
};

/** The package's version, from its package.json (beside cli/ in a checkout, two levels up in the build). */
function version(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const manifest = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === 'gemini-webhooks-pubsub' && manifest.version) return manifest.version;
    } catch {
      // try the next place
    }
  }
  return 'unknown';
}

/** Runs one command line; returns the exit code. Never throws for an error a user can act on. */
export async function run(argv: readonly string[], context: CliContext = defaultContext()): Promise<number> {
  const [group, sub, ...rest] = argv;
  if (group === 'help' && sub !== undefined) return run([...argv.slice(1), '--help'], context);
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    context.out(USAGE);
    return group === undefined ? 2 : 0;
  }
  if (group === '--version' || group === '-V' || group === 'version') {
    context.out(`gemini-webhooks ${version()}`);
    return 0;
  }
  const entry = COMMANDS[group];
  let command: Command | undefined;
  let args: readonly string[];
  if (typeof entry === 'function') {
    command = entry;
    args = argv.slice(1);
  } else if (entry !== undefined) {
    if (sub === '--help' || sub === '-h') {
      context.out(GROUP_USAGE[group] ?? USAGE);
      return 0;
    }
    command = sub === undefined ? undefined : entry[sub];
    args = rest;
    if (command === undefined) {
      context.err(
        `gemini-webhooks ${group}: ${sub === undefined ? 'missing subcommand;' : `unknown subcommand "${sub}";`} ` +
          `choose one of ${Object.keys(entry).join(', ')} (\`gemini-webhooks ${group} --help\`).`,
      );
      return 2;
    }
  } else {
    context.err(`gemini-webhooks: unknown command "${group}"; \`gemini-webhooks --help\` lists them.`);
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
