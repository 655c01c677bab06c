/**
 * `dlq list`: per event type, how many dead letters wait and how old the oldest is.
 *
 * There is no count API (the emulator has no Cloud Monitoring), so this pulls every message of
 * each dead-letter subscription without acknowledging it, de-duplicated by message id, and gives
 * them straight back (ack deadline 0; a dead-letter subscription has no delivery limit of its own,
 * so this costs nothing but a pull). Limits: against Google Cloud a pull that returns at once may
 * answer empty while messages exist, so counts are a lower bound; while it runs, the messages
 * are briefly invisible to a concurrent `dlq replay`; it stops at --max messages per type.
 */
import { commandHelp } from '../help.ts';
import type { CliContext } from '../context.ts';
import { parse, positiveInteger, PUBSUB_OPTIONS, selectRoutes, topicPrefix } from '../options.ts';
import { describePubSubError, grpcCode, Status, openPubSub, PubSubSetupError, type PubSubHandle } from '../pubsub.ts';
import { formatAge, pullDeadLetters, setLease } from './dead-letters.ts';

export const OPTIONS = {
  ...PUBSUB_OPTIONS,
  type: { type: 'string', multiple: true },
  max: { type: 'string' },
  json: { type: 'boolean' },
} as const;

export const USAGE = commandHelp({
  usage: 'usage: gemini-webhooks dlq list [--type T ...] [--max N] [--json] [--project P] [--prefix P]',
  about: `Counts the dead letters of each event type (its dead-letter subscription), and the oldest one's age
(time since it was dead-lettered), by pulling them without acknowledging; counts stop at --max per
type and are a lower bound against Google Cloud.`,
  options: OPTIONS,
  explain: {
    type: '--type T          only this event type (repeatable, or comma-separated; default: all)',
    max: '--max N           stop counting a type at N (default 10000)',
  },
  examples: ['npx gemini-webhooks dlq list', 'npx gemini-webhooks dlq list --type batch.failed --json'],
});

export interface DeadLetterSummary {
  route: string;
  subscription: string;
  /** Undefined when the subscription does not exist. */
  count: number | undefined;
  capped: boolean;
  oldestPublishTime: string | undefined;
  oldestAgeSeconds: number | undefined;
  /** Dead letters per source subscription. */
  sources: Record<string, number>;
}

export async function summarize(
  handle: PubSubHandle,
  route: string,
  subscription: string,
  max: number,
  now: Date,
  emptyPullsToStop: number,
): Promise<DeadLetterSummary> {
  const seen = new Map<string, Date | undefined>();
  const sources: Record<string, number> = {};
  const leased: string[] = [];
  let empty = 0;
  try {
    while (seen.size < max && empty < emptyPullsToStop) {
      const batch = await pullDeadLetters(handle, subscription, Math.min(1000, max - seen.size));
      leased.push(...batch.map((letter) => letter.ackId));
      const fresh = batch.filter((letter) => !seen.has(letter.messageId));
      if (fresh.length === 0) {
        empty++;
        continue;
      }
      empty = 0;
      for (const letter of fresh) {
        seen.set(letter.messageId, letter.publishTime);
        const source = letter.sourceSubscription?.split('/').at(-1) ?? '(unknown)';
        sources[source] = (sources[source] ?? 0) + 1;
      }
    }
  } catch (error) {
    if (grpcCode(error) === Status.NOT_FOUND) {
      return {
        route,
        subscription,
        count: undefined,
        capped: false,
        oldestPublishTime: undefined,
        oldestAgeSeconds: undefined,
        sources,
      };
    }
    throw new PubSubSetupError(describePubSubError(error, `pulling ${subscription}`));
  } finally {
    await setLease(handle, subscription, leased, 0).catch(() => {});
  }
  const times = [...seen.values()]
    .filter((time): time is Date => time !== undefined)
    .sort((a, b) => a.getTime() - b.getTime());
  const oldest = times[0];
  return {
    route,
    subscription,
    count: seen.size,
    capped: seen.size >= max,
    oldestPublishTime: oldest?.toISOString(),
    oldestAgeSeconds:
      oldest === undefined ? undefined : Math.max(0, Math.floor((now.getTime() - oldest.getTime()) / 1000)),
    sources,
  };
}

export async function dlqListCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('dlq list', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const prefix = topicPrefix(values, context);
  const routes = selectRoutes(prefix, values.type);
  const max = positiveInteger(values.max, '--max') ?? 10_000;
  const handle = await openPubSub(values, context);
  try {
    const summaries: DeadLetterSummary[] = [];
    for (const plan of routes) {
      summaries.push(
        await summarize(
          handle,
          plan.route,
          plan.deadLetterSubscription,
          max,
          context.now(),
          handle.emulatorHost ? 1 : 3,
        ),
      );
    }
    if (values.json) {
      context.out(JSON.stringify({ project: handle.projectId, prefix, deadLetters: summaries }, null, 2));
      return 0;
    }
    context.out(`${'TYPE'.padEnd(28)} ${'DEAD LETTERS'.padStart(12)}  OLDEST   FROM`);
    let total = 0;
    for (const summary of summaries) {
      total += summary.count ?? 0;
      const count = summary.count === undefined ? 'missing' : `${summary.capped ? '>=' : ''}${summary.count}`;
      const age = summary.oldestAgeSeconds === undefined ? '-' : formatAge(summary.oldestAgeSeconds * 1000);
      const from = Object.entries(summary.sources)
        .map(([source, n]) => `${source} (${n})`)
        .join(', ');
      context.out(`${summary.route.padEnd(28)} ${count.padStart(12)}  ${age.padEnd(8)} ${from}`.trimEnd());
    }
    context.out(`${total} dead letter(s) in project ${handle.projectId} (prefix "${prefix}").`);
    if (summaries.some((summary) => summary.count === undefined)) {
      context.err(
        'Some dead-letter subscriptions do not exist: is the prefix right, ' +
          'and has `pulumi up` (or `npm start`) created the topology?',
      );
    }
    if (total > 0) context.out('Fix the consumer, then replay with `gemini-webhooks dlq replay --type <type>`.');
    return 0;
  } finally {
    await handle.close();
  }
}
