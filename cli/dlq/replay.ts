/**
 * `dlq replay`: dead letters go back to the topic they came from, with their original data and
 * attributes plus `replay_count`.
 *
 * Nothing is lost if it stops midway: a dead letter is acknowledged only after Pub/Sub has
 * accepted its republished copy. A crash between the two leaves the dead letter in place and the
 * next replay publishes it again, so consumers see a duplicate (same `webhook_id`), never a gap.
 * The source topic is the source subscription's `topic` as Pub/Sub reports it, not a name parsed
 * from the subscription id. Republishing to a topic reaches every subscription on it, so the
 * consumers that had already processed the event get it again and must dedupe on `webhook_id`.
 */
import { planRoute } from '../../functions/topology.ts';
import { commandHelp } from '../help.ts';
import type { CliContext } from '../context.ts';
import { UsageError } from '../errors.ts';
import { parse, positiveInteger, PUBSUB_OPTIONS, routeOption, topicPrefix } from '../options.ts';
import { describePubSubError, grpcCode, Status, openPubSub, PubSubSetupError, type PubSubHandle } from '../pubsub.ts';
import {
  acknowledge,
  DEAD_LETTER_ATTRIBUTE_PREFIX,
  pullDeadLetters,
  REPLAY_COUNT_ATTRIBUTE,
  setLease,
  SOURCE_SUBSCRIPTION_ATTRIBUTE,
  type DeadLetter,
} from './dead-letters.ts';

export const OPTIONS = {
  ...PUBSUB_OPTIONS,
  type: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
} as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks dlq replay --type T [--limit N] [--dry-run] [--project P] [--prefix P]',
  about: `Pulls the dead letters of one event type and republishes each to the topic of the subscription it
failed on, with its original data and attributes plus \`${REPLAY_COUNT_ATTRIBUTE}\`; each dead letter is
acknowledged only after the republish is accepted. Every subscription of that topic receives the
copy: consumers dedupe on the \`webhook_id\` attribute.`,
  options: OPTIONS,
  explain: {
    type: '--type T          the event type whose dead letters to replay (required)',
    limit: '--limit N         replay at most N dead letters (default: all)',
    'dry-run': '--dry-run         show what would be replayed; leaves the dead letters where they are',
  },
  examples: [
    'npx gemini-webhooks dlq replay --type batch.failed --dry-run',
    'npx gemini-webhooks dlq replay --type batch.failed --limit 10',
  ],
});

/** Long enough to republish a batch before Pub/Sub hands the dead letters to someone else. */
const LEASE_SECONDS = 120;
const PULL_BATCH = 100;

/** The attributes of the replayed copy: original ones, minus Pub/Sub's dead-letter markers, plus the counter. */
export function replayAttributes(attributes: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes))
    if (!key.startsWith(DEAD_LETTER_ATTRIBUTE_PREFIX)) result[key] = value;
  const previous = Number(attributes[REPLAY_COUNT_ATTRIBUTE]);
  result[REPLAY_COUNT_ATTRIBUTE] = String(Number.isSafeInteger(previous) && previous > 0 ? previous + 1 : 1);
  return result;
}

function shortName(name: string): string {
  return name.split('/').at(-1) ?? name;
}

export interface ReplayResult {
  replayed: number;
  skipped: number;
  failed: number;
}

export async function replayDeadLetters(
  handle: PubSubHandle,
  deadLetterSubscription: string,
  options: { limit: number; dryRun: boolean; out: (line: string) => void; err: (line: string) => void },
): Promise<ReplayResult> {
  const topicOf = new Map<string, string | null>();
  const handled = new Set<string>();
  const result: ReplayResult = { replayed: 0, skipped: 0, failed: 0 };
  const emptyPullsToStop = handle.emulatorHost === undefined ? 3 : 1;
  let emptyPulls = 0;

  const resolveTopic = async (subscription: string): Promise<string | null> => {
    if (!topicOf.has(subscription)) {
      try {
        const [metadata] = await handle.pubsub.subscription(subscription).getMetadata();
        topicOf.set(subscription, metadata.topic || null);
      } catch (error) {
        if (grpcCode(error) !== Status.NOT_FOUND)
          throw new PubSubSetupError(describePubSubError(error, `reading ${subscription}`));
        topicOf.set(subscription, null);
      }
    }
    return topicOf.get(subscription) ?? null;
  };

  while (result.replayed + result.skipped + result.failed < options.limit) {
    const wanted = Math.min(PULL_BATCH, options.limit - result.replayed - result.skipped - result.failed);
    let batch: DeadLetter[];
    try {
      batch = await pullDeadLetters(handle, deadLetterSubscription, wanted);
    } catch (error) {
      if (grpcCode(error) === Status.NOT_FOUND)
        throw new PubSubSetupError(
          `The dead-letter subscription ${deadLetterSubscription} does not exist: check --prefix and --project.`,
        );
      throw new PubSubSetupError(describePubSubError(error, `pulling ${deadLetterSubscription}`));
    }
    const fresh = batch.filter((letter) => !handled.has(letter.messageId));
    // Seen again in this run (a skipped one, or an ack that did not land): give it back and stop.
    const again = batch.filter((letter) => handled.has(letter.messageId));
    if (fresh.length === 0) {
      await setLease(
        handle,
        deadLetterSubscription,
        again.map((letter) => letter.ackId),
        0,
      ).catch(() => {});
      // Against Google Cloud an immediate pull can come back empty while messages wait: ask again.
      if (++emptyPulls >= emptyPullsToStop) break;
      continue;
    }
    emptyPulls = 0;
    await setLease(
      handle,
      deadLetterSubscription,
      batch.map((letter) => letter.ackId),
      options.dryRun ? 0 : LEASE_SECONDS,
    );

    const giveBack: string[] = again.map((letter) => letter.ackId);
    const done: string[] = [];
    await Promise.all(
      fresh.map(async (letter) => {
        handled.add(letter.messageId);
        const webhookId = letter.attributes['webhook_id'] ?? '-';
        if (letter.sourceSubscription === undefined) {
          options.err(
            `skip ${letter.messageId} (webhook_id ${webhookId}): ` +
              `no ${SOURCE_SUBSCRIPTION_ATTRIBUTE} attribute, so its topic is unknown`,
          );
          result.skipped++;
          giveBack.push(letter.ackId);
          return;
        }
        const topic = await resolveTopic(letter.sourceSubscription);
        if (topic === null) {
          options.err(
            `skip ${letter.messageId} (webhook_id ${webhookId}): ` +
              `its source subscription ${shortName(letter.sourceSubscription)} no longer exists`,
          );
          result.skipped++;
          giveBack.push(letter.ackId);
          return;
        }
        const attributes = replayAttributes(letter.attributes);
        const line =
          `${letter.messageId} webhook_id=${webhookId} from ${shortName(letter.sourceSubscription)} -> ` +
          `topic ${shortName(topic)} (${REPLAY_COUNT_ATTRIBUTE}=${attributes[REPLAY_COUNT_ATTRIBUTE]})`;
        if (options.dryRun) {
          options.out(`would replay ${line}`);
          result.replayed++;
          return;
        }
        try {
          await handle.pubsub.topic(topic).publishMessage({ data: letter.data, attributes });
        } catch (error) {
          options.err(`failed ${line}: ${describePubSubError(error, 'publish')}; the dead letter stays`);
          result.failed++;
          giveBack.push(letter.ackId);
          return;
        }
        done.push(letter.ackId);
        result.replayed++;
        options.out(`replayed ${line}`);
      }),
    );
    // Acknowledge only what was republished; the rest is available again at once.
    await acknowledge(handle, deadLetterSubscription, done);
    await setLease(handle, deadLetterSubscription, giveBack, 0).catch(() => {});
    if (batch.length < wanted && handle.emulatorHost !== undefined) break;
  }
  return result;
}

export async function dlqReplayCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('dlq replay', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const route = routeOption(values.type);
  if (route === undefined)
    throw new UsageError(
      'dlq replay: --type is required (see `gemini-webhooks dlq list` for the types with dead letters).',
    );
  const limit = positiveInteger(values.limit, '--limit') ?? Number.POSITIVE_INFINITY;
  const dryRun = values['dry-run'] ?? false;
  const plan = planRoute(topicPrefix(values, context), route);
  const handle = await openPubSub(values, context);
  try {
    const result = await replayDeadLetters(handle, plan.deadLetterSubscription, {
      limit,
      dryRun,
      out: context.out,
      err: context.err,
    });
    const verb = dryRun ? 'Would replay' : 'Replayed';
    const skipped = result.skipped ? `; skipped ${result.skipped}` : '';
    const failed = result.failed ? `; ${result.failed} failed and stay in ${plan.deadLetterSubscription}` : '';
    context.out(`${verb} ${result.replayed} dead letter(s) of ${route}${skipped}${failed}.`);
    return result.failed > 0 ? 1 : 0;
  } finally {
    await handle.close();
  }
}
