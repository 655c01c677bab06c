/**
 * `tail`: prints events as they arrive, from temporary subscriptions of its own (one per topic),
 * so it never takes messages from a real consumer. They are deleted on exit (Ctrl-C); if the
 * process dies without cleaning up, Pub/Sub deletes them after a day without activity.
 */
import { randomBytes } from 'node:crypto';
import type { Message, Subscription } from '@google-cloud/pubsub';
import { planRoutes } from '../functions/topology.ts';
import type { CliContext } from './context.ts';
import { parse, PUBSUB_OPTIONS, routeOption, topicPrefix } from './options.ts';
import { describePubSubError, grpcCode, NOT_FOUND, openPubSub, PubSubSetupError } from './pubsub.ts';

export const USAGE = `usage: gemini-webhooks tail [--type T] [--json] [--project P] [--prefix P]
Prints each event published from now on (all types, or one), from temporary subscriptions that are
deleted when you stop it with Ctrl-C. --json prints one JSON object per event: attributes and data.`;

const OPTIONS = { ...PUBSUB_OPTIONS, type: { type: 'string' }, json: { type: 'boolean' } } as const;

/** Pub/Sub's shortest expiration: an abandoned tail subscription disappears after a day. */
const EXPIRATION_SECONDS = 24 * 3600;

function dataOf(message: Message): unknown {
  const text = message.data.toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function formatEvent(message: Message): string {
  const a = message.attributes;
  const metadata = Object.entries(a)
    .filter(([key]) => key.startsWith('user_metadata_'))
    .map(([key, value]) => `${key.slice('user_metadata_'.length)}=${value}`);
  const parts = [
    (message.publishTime ? new Date(message.publishTime.getTime()) : new Date()).toISOString(),
    a['event_route'] ?? '?',
    `type=${a['event_type'] ?? '-'}`,
    `webhook_id=${a['webhook_id'] ?? '-'}`,
    `scheme=${a['verification_scheme'] ?? '-'}`,
  ];
  if (a['ce-subject']) parts.push(`subject=${a['ce-subject']}`);
  if (a['replay_count']) parts.push(`replay_count=${a['replay_count']}`);
  if (metadata.length > 0) parts.push(`metadata ${metadata.join(' ')}`);
  parts.push(`bytes=${message.data.length}`);
  return parts.join(' ');
}

export async function tailCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('tail', argv, OPTIONS);
  if (values.help) return context.out(USAGE), 0;
  const prefix = topicPrefix(values, context);
  const only = routeOption(values.type);
  const routes = planRoutes(prefix).filter((plan) => only === undefined || plan.route === only);
  const handle = await openPubSub(values, context);
  const suffix = `tail-${randomBytes(4).toString('hex')}`;
  const created: Subscription[] = [];
  try {
    for (const plan of routes) {
      try {
        const [subscription] = await handle.pubsub.topic(plan.topic).createSubscription(`${plan.topic}-${suffix}`, {
          ackDeadlineSeconds: 10,
          expirationPolicy: { ttl: { seconds: EXPIRATION_SECONDS } },
          messageRetentionDuration: { seconds: 600 },
        });
        created.push(subscription);
      } catch (error) {
        if (grpcCode(error) === NOT_FOUND) {
          throw new PubSubSetupError(`Topic ${plan.topic} does not exist in project ${handle.projectId}: check --prefix and --project, and that the topology is deployed (\`pulumi up\` or \`npm start\`).`);
        }
        throw new PubSubSetupError(describePubSubError(error, `creating a subscription on ${plan.topic}`));
      }
    }
    context.err(`Tailing ${routes.length === 1 ? routes[0]!.topic : `${routes.length} topics (prefix "${prefix}")`} in project ${handle.projectId}; Ctrl-C stops.`);
    await new Promise<void>((resolve) => {
      if (context.signal.aborted) return resolve();
      context.signal.addEventListener('abort', () => resolve(), { once: true });
      for (const subscription of created) {
        subscription.on('message', (message: Message) => {
          context.out(values.json ? JSON.stringify({ messageId: message.id, publishTime: message.publishTime?.toISOString(), attributes: message.attributes, data: dataOf(message) }) : formatEvent(message));
          message.ack();
        });
        subscription.on('error', (error: Error) => context.err(`tail: ${subscription.name.split('/').at(-1)}: ${error.message}`));
      }
    });
    return 0;
  } finally {
    for (const subscription of created) {
      await subscription.close().catch(() => {});
      await subscription.delete().catch((error: unknown) => context.err(`tail: could not delete ${subscription.name}: ${(error as Error).message}`));
    }
    if (created.length > 0) context.err(`Deleted ${created.length} temporary subscription(s).`);
    await handle.close();
  }
}
