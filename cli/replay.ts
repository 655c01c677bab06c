/**
 * `replay`: re-delivers to one consumer every event since a time, by seeking its subscriptions
 * (https://cloud.google.com/pubsub/docs/replay-overview). Before seeking, each subscription's
 * position is kept in a snapshot, so `replay --undo` puts it back where it was.
 *
 * A subscription can be seeked back as far as the messages are still kept: the topic's message
 * retention, or the subscription's own when it retains acknowledged messages. A time older than
 * that is refused with the retention in force, since the seek would quietly replay less than asked.
 * Snapshots are named `<subscription>-replay-<unix seconds>`; Pub/Sub deletes one after 7 days at the
 * latest (https://cloud.google.com/pubsub/docs/replay-message), and `--undo` deletes those it used.
 */
import type { Subscription } from '@google-cloud/pubsub';
import { consumerNameProblem, planSubscription, type RoutePlan } from '../functions/topology.ts';
import type { CliContext } from './context.ts';
import { CliError, UsageError } from './errors.ts';
import { formatAge } from './dlq/dead-letters.ts';
import { parse, PUBSUB_OPTIONS, selectRoutes, topicPrefix } from './options.ts';
import { describePubSubError, grpcCode, openPubSub, PubSubSetupError, Status, type PubSubHandle } from './pubsub.ts';

export const USAGE = `usage: gemini-webhooks replay --consumer NAME --since TIME|DURATION [--type T ...] [--dry-run]
                              [--project P] [--prefix P]
       gemini-webhooks replay --consumer NAME --undo [--dry-run] [--project P] [--prefix P]

Re-delivers to one consumer every event published since a time: each of its subscriptions (or those of
the types given) is first kept in a snapshot, then seeked to the time, so Pub/Sub delivers again every
message published since. Other consumers are not affected. Consumers dedupe on \`webhook_id\`.
  --consumer NAME   the consumer, as named in the stack setting \`subscriptions\`
  --since TIME      an RFC 3339 time (2026-12-07T09:00:00Z) or a duration back from now (90m, 6h, 2d,
                    1h30m); refused when older than the retention in force (the topic's, or the
                    subscription's when it keeps acknowledged messages)
  --type T          only this event type's subscription (repeatable; default: all of the consumer's)
  --dry-run         say what would be done, change nothing
  --undo            put the subscriptions back where the last replay found them, and delete its snapshots
  --project P       the Google Cloud project (default GOOGLE_CLOUD_PROJECT)
  --prefix P        the stack's topicPrefix (default WEBHOOK_TOPIC_PREFIX, else gemini)
  --help, -h        this help

Examples:
  npx gemini-webhooks replay --consumer billing --since 6h --dry-run
  npx gemini-webhooks replay --consumer billing --since 2026-12-07T09:00:00Z --type batch.succeeded
  npx gemini-webhooks replay --consumer billing --undo`;

export const OPTIONS = {
  ...PUBSUB_OPTIONS,
  consumer: { type: 'string' },
  since: { type: 'string' },
  type: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  undo: { type: 'boolean' },
} as const;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `--since`: an RFC 3339 time with a zone, or a duration such as `6h`, `90m`, `1h30m`, `2d`. */
export function parseSince(text: string, now: Date): Date {
  const duration = /^(?:\d+[smhd])+$/.test(text) ? text.match(/\d+[smhd]/g) : null;
  if (duration !== null) {
    const seconds = duration.reduce((sum, part) => sum + Number(part.slice(0, -1)) * UNITS[part.at(-1)!]!, 0);
    if (seconds === 0) throw new UsageError('--since must be a time in the past (got a duration of 0).');
    return new Date(now.getTime() - seconds * 1000);
  }
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) || Number.isNaN(Date.parse(text)))
    throw new UsageError(
      `--since must be an RFC 3339 time with a zone (2026-12-07T09:00:00Z) or a duration (6h, 90m, 2d) ` +
        `(got ${JSON.stringify(text)}).`,
    );
  const time = new Date(text);
  if (time.getTime() > now.getTime()) throw new UsageError(`--since ${text} is in the future.`);
  return time;
}

function seconds(duration: { seconds?: number | string | null | Long } | null | undefined): number {
  return Number(duration?.seconds ?? 0);
}
type Long = { toString(): string };

interface Target {
  route: RoutePlan['route'];
  id: string;
  subscription: Subscription;
  /** Seconds back the subscription can be seeked. */
  retentionSeconds: number;
  retentionSource: string;
}

async function consumerSubscriptions(
  handle: PubSubHandle,
  prefix: string,
  consumer: string,
  routes: readonly RoutePlan[],
): Promise<Target[]> {
  const targets: Target[] = [];
  const topicRetention = new Map<string, number>();
  for (const route of routes) {
    const id = planSubscription(prefix, route.route, consumer).name;
    const subscription = handle.pubsub.subscription(id);
    let metadata;
    try {
      [metadata] = await subscription.getMetadata();
    } catch (error) {
      if (grpcCode(error) === Status.NOT_FOUND) continue;
      throw new PubSubSetupError(describePubSubError(error, `reading ${id}`));
    }
    const topic = metadata.topic ?? route.topic;
    if (!topicRetention.has(topic)) {
      const [topicMetadata] = await handle.pubsub
        .topic(topic)
        .getMetadata()
        .catch((error: unknown) => {
          throw new PubSubSetupError(describePubSubError(error, `reading ${topic}`));
        });
      topicRetention.set(topic, seconds(topicMetadata.messageRetentionDuration));
    }
    const ofTopic = topicRetention.get(topic) ?? 0;
    const ofSubscription = metadata.retainAckedMessages ? seconds(metadata.messageRetentionDuration) : 0;
    targets.push({
      route: route.route,
      id,
      subscription,
      retentionSeconds: Math.max(ofTopic, ofSubscription),
      retentionSource:
        ofTopic >= ofSubscription
          ? `the topic's message retention (${formatAge(ofTopic * 1000)})`
          : `the subscription's retention of acknowledged messages (${formatAge(ofSubscription * 1000)})`,
    });
  }
  return targets;
}

export async function replayCommand(argv: readonly string[], context: CliContext): Promise<number> {
  const { values } = parse('replay', argv, OPTIONS);
  if (values.help) {
    context.out(USAGE);
    return 0;
  }
  const consumer = values.consumer;
  if (consumer === undefined)
    throw new UsageError('replay: --consumer is required (a name from the stack setting `subscriptions`).');
  const problem = consumerNameProblem(consumer);
  if (problem !== undefined) throw new UsageError(`replay: --consumer ${problem}.`);
  if (values.undo && values.since !== undefined)
    throw new UsageError('replay: give either --since or --undo, not both.');
  if (!values.undo && values.since === undefined)
    throw new UsageError('replay: --since is required (a time, or a duration back from now such as 6h).');
  const now = context.now();
  const since = values.since === undefined ? undefined : parseSince(values.since, now);
  const prefix = topicPrefix(values, context);
  const routes = selectRoutes(prefix, values.type);
  const dryRun = values['dry-run'] ?? false;
  const handle = await openPubSub(values, context);
  try {
    const targets = await consumerSubscriptions(handle, prefix, consumer, routes);
    if (targets.length === 0)
      throw new CliError(
        `consumer ${consumer} has no subscription ${values.type ? 'of those types ' : ''}in project ` +
          `${handle.projectId} ` +
          `(prefix "${prefix}"): check --consumer, --prefix and --project.`,
      );
    if (since === undefined) return await undo(handle, targets, consumer, dryRun, context);
    return await seek(targets, consumer, since, now, dryRun, context);
  } finally {
    await handle.close();
  }
}

async function seek(
  targets: readonly Target[],
  consumer: string,
  since: Date,
  now: Date,
  dryRun: boolean,
  context: CliContext,
): Promise<number> {
  const back = (now.getTime() - since.getTime()) / 1000;
  const short = targets.filter((target) => target.retentionSeconds < back);
  if (short.length > 0) {
    const first = short[0]!;
    const retention =
      first.retentionSeconds === 0
        ? 'none (the topic keeps no messages and the subscription keeps no acknowledged ones)'
        : first.retentionSource;
    throw new CliError(
      `--since ${since.toISOString()} is ${formatAge(back * 1000)} back, older than the retention in force on ` +
        `${first.id}: ${retention}. ` +
        'Choose a later time (the stack setting `topicRetentionSeconds` sets how far back a replay can go).',
    );
  }
  const stamp = Math.floor(now.getTime() / 1000);
  for (const target of targets) {
    const snapshot = `${target.id}-replay-${stamp}`;
    if (dryRun) {
      context.out(`would keep ${target.id} in snapshot ${snapshot}, then seek it to ${since.toISOString()}`);
      continue;
    }
    try {
      await target.subscription.createSnapshot(snapshot);
    } catch (error) {
      throw new PubSubSetupError(
        `${describePubSubError(error, `taking snapshot ${snapshot}`)}; nothing of ${target.id} was changed.`,
      );
    }
    try {
      await target.subscription.seek(since);
    } catch (error) {
      throw new PubSubSetupError(describePubSubError(error, `seeking ${target.id}`));
    }
    context.out(`${target.id}: kept in snapshot ${snapshot}, seeked to ${since.toISOString()}`);
  }
  context.out(
    dryRun
      ? `Dry run: would replay ${targets.length} subscription(s) of consumer ${consumer}.`
      : `Replaying every event since ${since.toISOString()} to consumer ${consumer} (${targets.length} ` +
          `subscription(s)); ` +
          `consumers dedupe on webhook_id. Undo: gemini-webhooks replay --consumer ${consumer} --undo`,
  );
  return 0;
}

async function undo(
  handle: PubSubHandle,
  targets: readonly Target[],
  consumer: string,
  dryRun: boolean,
  context: CliContext,
): Promise<number> {
  const [snapshots] = await handle.pubsub.getSnapshots().catch((error: unknown) => {
    throw new PubSubSetupError(describePubSubError(error, 'listing snapshots'));
  });
  const found = new Map<string, Array<{ stamp: number; name: string }>>();
  for (const snapshot of snapshots) {
    const id = snapshot.name.split('/').at(-1)!;
    for (const target of targets) {
      const match = new RegExp(`^${target.id.replace(/[.]/g, '\\.')}-replay-(\\d+)$`).exec(id);
      if (match)
        (found.get(target.id) ?? found.set(target.id, []).get(target.id)!).push({ stamp: Number(match[1]), name: id });
    }
  }
  const latest = Math.max(0, ...[...found.values()].flat().map((entry) => entry.stamp));
  if (latest === 0)
    throw new CliError(`no replay of consumer ${consumer} to undo (no snapshot named <subscription>-replay-<time>).`);
  const when = new Date(latest * 1000).toISOString();
  let restored = 0;
  for (const target of targets) {
    const snapshot = found.get(target.id)?.find((entry) => entry.stamp === latest);
    if (snapshot === undefined) continue;
    if (dryRun) {
      context.out(`would seek ${target.id} back to snapshot ${snapshot.name} (taken ${when}) and delete it`);
      restored++;
      continue;
    }
    await target.subscription.seek(snapshot.name).catch((error: unknown) => {
      throw new PubSubSetupError(describePubSubError(error, `seeking ${target.id} to ${snapshot.name}`));
    });
    await handle.pubsub
      .snapshot(snapshot.name)
      .delete()
      .catch((error: unknown) => context.err(describePubSubError(error, `deleting snapshot ${snapshot.name}`)));
    context.out(`${target.id}: back where it was at ${when}`);
    restored++;
  }
  context.out(
    `${dryRun ? 'Dry run: would undo' : 'Undid'} the replay of ${when} on ${restored} subscription(s) of ` +
      `consumer ${consumer}.`,
  );
  return 0;
}
