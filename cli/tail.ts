/**
 * `tail`: prints events as they arrive, from temporary subscriptions of its own
 * (cli/temporary-subscriptions.ts), so it never takes messages from a real consumer.
 */
import type { Message } from '@google-cloud/pubsub';
import { USER_METADATA_PREFIX } from '../functions/attributes.ts';
import { commandHelp } from './help.ts';
import type { CliContext } from './context.ts';
import { parse, PUBSUB_OPTIONS, selectRoutes, topicPrefix } from './options.ts';
import { openPubSub } from './pubsub.ts';
import { describeTopics, serveTemporarySubscriptions } from './temporary-subscriptions.ts';
import { escapeControls, fieldText } from './terminal-text.ts';

export const OPTIONS = {
  ...PUBSUB_OPTIONS,
  type: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks tail [--type T ...] [--json] [--project P] [--prefix P]',
  about: `Prints each event published from now on, one line each, from temporary subscriptions that are
deleted when you stop it (Ctrl-C, SIGTERM, or the terminal closing). Every field is the sender's, so
control characters are printed escaped.`,
  options: OPTIONS,
  explain: {
    type: '--type T          only this event type (repeatable, or comma-separated; default: all)',
    json: '--json            one JSON object per event: messageId, publishTime, attributes and data',
  },
  examples: [
    'npx gemini-webhooks tail',
    'PUBSUB_EMULATOR_HOST=127.0.0.1:8085 npx gemini-webhooks tail --type unrouted',
  ],
});

function dataOf(message: Message): unknown {
  const text = message.data.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * What an event is, for one line of output: `route type=... webhook_id=... scheme=...`. Every value comes
 * from the sender, so each is escaped (cli/terminal-text.ts); `npm start` prints the same fields.
 */
export function eventFields(attributes: Readonly<Record<string, string>>): string[] {
  return [
    fieldText(attributes['event_route'] ?? '?'),
    `type=${fieldText(attributes['event_type'] ?? '-')}`,
    `webhook_id=${fieldText(attributes['webhook_id'] ?? '-')}`,
    `scheme=${fieldText(attributes['verification_scheme'] ?? '-')}`,
  ];
}

export function formatEvent(message: Message): string {
  const a = message.attributes;
  const metadata = Object.entries(a)
    .filter(([key]) => key.startsWith(USER_METADATA_PREFIX))
    .map(([key, value]) => `${fieldText(key.slice(USER_METADATA_PREFIX.length))}=${fieldText(value)}`);
  const parts = [
    (message.publishTime ? new Date(message.publishTime.getTime()) : new Date()).toISOString(),
    ...eventFields(a),
  ];
  if (a['ce-subject']) parts.push(`subject=${fieldText(a['ce-subject'])}`);
  if (a['replay_count']) parts.push(`replay_count=${fieldText(a['replay_count'])}`);
  if (metadata.length > 0) parts.push(`metadata ${metadata.join(' ')}`);
  parts.push(`bytes=${message.data.length}`);
  return parts.join(' ');
}

/** JSON escapes C0 controls but not DEL, C1 or the Unicode separators; `\uXXXX` keeps it valid JSON. */
function escapeJson(value: unknown): string {
  return escapeControls(JSON.stringify(value));
}

export async function tailCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('tail', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const prefix = topicPrefix(values, context);
  const routes = selectRoutes(prefix, values.type);
  const handle = await openPubSub(values, context);
  try {
    await serveTemporarySubscriptions(
      handle,
      routes,
      { purpose: 'tail', ackDeadlineSeconds: 10, retentionSeconds: 600 },
      context,
      {
        onMessage(message) {
          context.out(
            values.json
              ? escapeJson({
                  messageId: message.id,
                  publishTime: message.publishTime?.toISOString(),
                  attributes: message.attributes,
                  data: dataOf(message),
                })
              : formatEvent(message),
          );
          message.ack();
        },
        announce: () =>
          context.err(`Tailing ${describeTopics(routes, prefix)} in project ${handle.projectId}; Ctrl-C stops.`),
      },
    );
    return 0;
  } finally {
    await handle.close();
  }
}
