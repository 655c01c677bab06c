/**
 * `webhooks update`: changes a webhook's subscribed events, URL or label in place, with
 * `PATCH /webhooks/{id}?update_mask=...` (https://ai.google.dev/api/webhooks). Its id and signing
 * secrets stay, so nothing has to be re-stored or redeployed.
 */
import type { CliContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import type { WebhookUpdate } from '../gemini/types.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse } from '../options.ts';
import { checkUrl, describeWebhook, parseEvents, resolveWebhookId } from './shared.ts';

export const OPTIONS = {
  ...GEMINI_OPTIONS,
  events: { type: 'string', multiple: true },
  url: { type: 'string' },
  name: { type: 'string' },
} as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks update [ID] [--events TYPE ...] [--url URL] [--name NAME]',
  about: `Changes the webhook (default: the project's only one) in place: the same id, the same signing
secrets. Only the fields given change.`,
  options: OPTIONS,
  explain: {
    events: '--events TYPE     the new, complete list of event types (repeatable, or comma-separated)',
    url: '--url URL         the new receiver URL (https)',
    name: "--name NAME       the new label (`--name ''` clears it)",
  },
  examples: [
    'npx gemini-webhooks webhooks update --events batch.succeeded --events batch.failed',
    'npx gemini-webhooks webhooks update wh_123 --url https://receiver-new-uc.a.run.app/',
  ],
});

export async function updateCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values, positionals } = parse('webhooks update', argv, OPTIONS, true);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const update: WebhookUpdate = {};
  if (values.events !== undefined) update.subscribed_events = parseEvents(values.events, context);
  if (values.url !== undefined) update.uri = checkUrl(values.url);
  if (values.name !== undefined) update.name = values.name;
  if (Object.keys(update).length === 0)
    throw new UsageError('webhooks update: say what to change with --events, --url or --name.');

  const client = geminiClient(values, context);
  const id = await resolveWebhookId(client, positionals[0], 'webhooks update');
  const webhook = await client.update(id, update);
  if (values.json) {
    context.out(JSON.stringify(webhook, null, 2));
    return 0;
  }
  context.out(`Updated ${Object.keys(update).join(', ')} of webhook ${id}.`);
  for (const line of describeWebhook(webhook, context.now())) context.out(line);
  return 0;
}
