/** `webhooks ping | enable | disable | delete`. */
import type { CliContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse } from '../options.ts';
import { describeWebhook, resolveWebhookId } from './shared.ts';

export const PING_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks ping [ID] [--base-url URL] [--json]',
  about: `Asks Gemini to send a test delivery to the webhook (default: the project's only one). Gemini does
not document the event type of a ping, so the receiver publishes it to the unrouted topic: watch
for it with \`gemini-webhooks tail --type unrouted\`, or let \`gemini-webhooks check\` wait for it.`,
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks ping', 'npx gemini-webhooks tail --type unrouted   # in another terminal'],
});
export const ENABLE_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks enable [ID] [--base-url URL] [--json]',
  about: 'Turns deliveries back on, also after Gemini disabled the webhook for failed deliveries.',
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks enable', 'npx gemini-webhooks webhooks enable wh_123'],
});
export const DISABLE_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks disable [ID] [--base-url URL] [--json]',
  about: 'Stops deliveries to the webhook until it is enabled again.',
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks disable wh_123'],
});
export const DELETE_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks delete ID [--base-url URL]',
  about: 'Deletes the webhook. Its signing secrets stay in the stack config until `webhooks prune --drop-unlisted`.',
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks delete wh_123'],
});

export async function pingCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values, positionals } = parse('webhooks ping', argv, GEMINI_OPTIONS, true);
  if (values.help) {
    context.out(PING_USAGE);
    return 0;
  }
  const client = geminiClient(values, context);
  const id = await resolveWebhookId(client, positionals[0], 'webhooks ping');
  const answer = await client.ping(id);
  if (values.json) {
    context.out(JSON.stringify(answer, null, 2));
    return 0;
  }
  context.out(
    `Gemini accepted a test delivery for webhook ${id}; ` +
      'it should reach the unrouted topic within seconds (`gemini-webhooks tail --type unrouted`).',
  );
  return 0;
}

function stateCommand(state: 'enabled' | 'disabled', usage: string) {
  const command = state === 'enabled' ? 'webhooks enable' : 'webhooks disable';
  return async (argv: readonly string[], context: CliContext): Promise<number> => {
    const { values, positionals } = parse(command, argv, GEMINI_OPTIONS, true);
    if (values.help) {
      context.out(usage);
      return 0;
    }
    const client = geminiClient(values, context);
    const id = await resolveWebhookId(client, positionals[0], command);
    const webhook = await client.setState(id, state);
    if (values.json) {
      context.out(JSON.stringify(webhook, null, 2));
      return 0;
    }
    context.out(`Webhook ${id} is now ${webhook.state ?? state}.`);
    for (const line of describeWebhook(webhook, context.now())) context.out(line);
    return 0;
  };
}

export const enableCommand = stateCommand('enabled', ENABLE_USAGE);
export const disableCommand = stateCommand('disabled', DISABLE_USAGE);

export async function deleteCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values, positionals } = parse('webhooks delete', argv, GEMINI_OPTIONS, true);
  if (values.help) {
    context.out(DELETE_USAGE);
    return 0;
  }
  // Deleting is not undoable: the id is never guessed.
  const id = positionals[0];
  if (id === undefined)
    throw new UsageError('webhooks delete: name the webhook to delete (see `gemini-webhooks webhooks list`).');
  await geminiClient(values, context).delete(id);
  context.out(
    `Deleted webhook ${id}. Its signing secrets stay in the stack config; ` +
      'drop them with `gemini-webhooks webhooks prune --drop-unlisted`.',
  );
  return 0;
}
