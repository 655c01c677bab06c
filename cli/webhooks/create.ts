/** `webhooks create`: registers the receiver with Gemini and stores the one-time secret at once. */
import { SUBSCRIBABLE_EVENT_TYPES } from '../../functions/catalog.ts';
import type { CliContext } from '../context.ts';
import { CliError, UsageError } from '../errors.ts';
import { commandHelp } from '../help.ts';
import { GEMINI_OPTIONS, geminiClient, parse, STACK_OPTIONS, stackSelector } from '../options.ts';
import { readReceiverUrl, RECEIVER_URL_OUTPUTS } from '../pulumi.ts';
import { checkUrl, describeWebhook, parseEvents, redacted, storeNewSecret, webhookId } from './shared.ts';

export const OPTIONS = {
  ...GEMINI_OPTIONS,
  ...STACK_OPTIONS,
  url: { type: 'string' },
  events: { type: 'string', multiple: true },
  name: { type: 'string' },
} as const;

export const USAGE = commandHelp({
  usage:
    'usage: gemini-webhooks webhooks create [--url URL] [--events TYPE ...] [--name NAME] [--stack STACK] [--cwd DIR]',
  about: `Registers a static webhook with Gemini for the receiver and stores its signing secret (shown by
Gemini only once) as the newest entry of the stack config \`signingSecrets\`; then run \`pulumi up\`.`,
  options: OPTIONS,
  explain: {
    url: `--url URL         receiver URL (default: the stack output ${RECEIVER_URL_OUTPUTS.join(' or ')})`,
    events:
      `--events TYPE     an event type to subscribe to (repeatable, or comma-separated; default: ` +
      `all the API lists)`,
    name: "--name NAME       a label of your choice (the webhook's id is assigned by Gemini)",
  },
  examples: [
    'GEMINI_API_KEY=<key> npx gemini-webhooks webhooks create',
    'npx gemini-webhooks webhooks create --events batch.succeeded --events batch.failed --name billing-prod',
  ],
});

export async function createCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('webhooks create', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const events = values.events === undefined ? [...SUBSCRIBABLE_EVENT_TYPES] : parseEvents(values.events, context);
  const selector = stackSelector(values);
  const client = geminiClient(values, context);

  let url = values.url;
  if (url === undefined) {
    url = await readReceiverUrl(context.pulumi, selector);
    if (url === undefined) {
      throw new UsageError(
        `--url is required: found no stack output ${RECEIVER_URL_OUTPUTS.join(' or ')} ` +
          '(deploy with `pulumi up` first, or pass the receiver URL).',
      );
    }
    context.err(`Using the receiver URL from the stack outputs: ${url}`);
  }
  const webhook = await client.create({
    uri: checkUrl(url),
    subscribed_events: events,
    ...(values.name ? { name: values.name } : {}),
  });
  const secret = webhook.new_signing_secret;
  const showSecret = values['show-secret'] ?? false;

  if (values.json) context.out(JSON.stringify(redacted(webhook, showSecret), null, 2));
  else for (const line of describeWebhook(webhook, context.now())) context.out(line);
  if (secret === undefined || secret === '') {
    throw new CliError(
      `Gemini created webhook ${webhookId(webhook)} but returned no new_signing_secret; ` +
        `rotate it with \`gemini-webhooks webhooks rotate ${webhookId(webhook)}\` to get one.`,
    );
  }
  const stored = await storeNewSecret(context, selector, secret, showSecret);
  context.out(
    `Next: \`pulumi up\` so the receiver accepts the new secret (Gemini retries deliveries that fail until then).`,
  );
  return stored ? 0 : 1;
}
