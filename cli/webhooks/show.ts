/** `webhooks list` and `webhooks get`: readable by default, the API's own JSON with --json. */
import type { CliContext } from '../context.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse } from '../options.ts';
import { describeWebhook, resolveWebhookId } from './shared.ts';

export const LIST_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks list [--json] [--base-url URL]',
  about: `Lists the project's webhooks with their state, events and signing secrets (truncated), and says
what to do about a disabled one.`,
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks list', 'npx gemini-webhooks webhooks list --json'],
});

export const GET_USAGE = commandHelp({
  usage: 'usage: gemini-webhooks webhooks get [ID] [--json] [--base-url URL]',
  about: "Shows one webhook (default: the project's only one).",
  options: GEMINI_OPTIONS,
  examples: ['npx gemini-webhooks webhooks get', 'npx gemini-webhooks webhooks get wh_123 --json'],
});

export async function listCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('webhooks list', argv, GEMINI_OPTIONS);
  if (values.help) {
    context.out(LIST_USAGE);
    return 0;
  }
  const webhooks = await geminiClient(values, context).list();
  if (values.json) {
    context.out(JSON.stringify({ webhooks }, null, 2));
    return 0;
  }
  if (webhooks.length === 0) {
    context.out('No webhooks yet: register the receiver with `gemini-webhooks webhooks create`.');
    return 0;
  }
  webhooks.forEach((webhook, index) => {
    if (index > 0) context.out('');
    for (const line of describeWebhook(webhook, context.now())) context.out(line);
  });
  return 0;
}

export async function getCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values, positionals } = parse('webhooks get', argv, GEMINI_OPTIONS, true);
  if (values.help) {
    context.out(GET_USAGE);
    return 0;
  }
  const client = geminiClient(values, context);
  const webhook = await client.get(await resolveWebhookId(client, positionals[0], 'webhooks get'));
  if (values.json) context.out(JSON.stringify(webhook, null, 2));
  else for (const line of describeWebhook(webhook, context.now())) context.out(line);
  return 0;
}
