/**
 * Reading dead-letter subscriptions with synchronous pull. Pub/Sub adds `CloudPubSubDeadLetter*`
 * attributes when it forwards a message to a dead-letter topic; the source subscription names
 * where it failed (a subscription id, with its project in a sibling attribute).
 */
import type { protos } from '@google-cloud/pubsub';
import type { PubSubHandle } from '../pubsub.ts';

export const SOURCE_SUBSCRIPTION_ATTRIBUTE = 'CloudPubSubDeadLetterSourceSubscription';
export const SOURCE_PROJECT_ATTRIBUTE = 'CloudPubSubDeadLetterSourceSubscriptionProject';
/** Attributes Pub/Sub adds on dead-lettering; a replay drops them (the next dead-lettering adds them again). */
export const DEAD_LETTER_ATTRIBUTE_PREFIX = 'CloudPubSubDeadLetter';
export const REPLAY_COUNT_ATTRIBUTE = 'replay_count';

export interface DeadLetter {
  ackId: string;
  messageId: string;
  data: Buffer;
  attributes: Record<string, string>;
  /** When Pub/Sub put it on the dead-letter topic. */
  publishTime: Date | undefined;
  /** `projects/<p>/subscriptions/<s>` it failed on, when the attribute is there. */
  sourceSubscription: string | undefined;
}

function timestampToDate(timestamp: protos.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  if (!timestamp || timestamp.seconds === undefined || timestamp.seconds === null) return undefined;
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6));
}

export function toDeadLetter(received: protos.google.pubsub.v1.IReceivedMessage, defaultProject: string): DeadLetter {
  const message = received.message ?? {};
  const attributes: Record<string, string> = { ...(message.attributes ?? {}) };
  const source = attributes[SOURCE_SUBSCRIPTION_ATTRIBUTE];
  const project = attributes[SOURCE_PROJECT_ATTRIBUTE] ?? defaultProject;
  return {
    ackId: received.ackId ?? '',
    messageId: message.messageId ?? '',
    data: Buffer.from(message.data ?? new Uint8Array()),
    attributes,
    publishTime: timestampToDate(message.publishTime),
    sourceSubscription:
      source === undefined || source === ''
        ? undefined
        : source.startsWith('projects/')
          ? source
          : `projects/${project}/subscriptions/${source}`,
  };
}

/** One synchronous pull; returns at once with what is available (possibly nothing). */
export async function pullDeadLetters(
  handle: PubSubHandle,
  subscription: string,
  maxMessages: number,
): Promise<DeadLetter[]> {
  const [response] = await handle.subscriber.pull(
    { subscription: handle.subscriptionPath(subscription), maxMessages, returnImmediately: true },
    { timeout: 60_000 },
  );
  return (response.receivedMessages ?? []).map((received) => toDeadLetter(received, handle.projectId));
}

const ACK_BATCH = 500;

/** Sets the lease of pulled messages: 0 gives them back at once (no effect on delivery counts here). */
export async function setLease(
  handle: PubSubHandle,
  subscription: string,
  ackIds: readonly string[],
  seconds: number,
): Promise<void> {
  for (let start = 0; start < ackIds.length; start += ACK_BATCH) {
    await handle.subscriber.modifyAckDeadline({
      subscription: handle.subscriptionPath(subscription),
      ackIds: ackIds.slice(start, start + ACK_BATCH),
      ackDeadlineSeconds: seconds,
    });
  }
}

export async function acknowledge(
  handle: PubSubHandle,
  subscription: string,
  ackIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < ackIds.length; start += ACK_BATCH) {
    await handle.subscriber.acknowledge({
      subscription: handle.subscriptionPath(subscription),
      ackIds: ackIds.slice(start, start + ACK_BATCH),
    });
  }
}

/** `3d 4h`, `12m 5s`, `40s`. */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: Array<[string, number]> = [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ];
  const parts: string[] = [];
  let rest = seconds;
  for (const [unit, size] of units) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || (unit === 's' && parts.length === 0)) parts.push(`${count}${unit}`);
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}
