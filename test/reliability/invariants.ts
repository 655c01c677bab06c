/**
 * The receiver's two promises, checked against what Pub/Sub really holds:
 * 1. every delivery answered 2xx is in Pub/Sub, byte for byte, under its webhook id;
 * 2. nothing that was not a correctly signed delivery is ever published.
 * Duplicates are allowed (delivery is at least once) but must carry the same id and bytes.
 */
import type { Figures } from './figures.ts';
import type { CollectedMessage } from './harness.ts';
import type { DeliveryRecord } from './sender-simulator.ts';

export interface InvariantReport {
  deliveries: number;
  attempts: number;
  acknowledged: number;
  /** Deliveries answered 2xx that Pub/Sub does not hold byte for byte (must be 0). */
  acknowledgedButLost: string[];
  /** Messages in Pub/Sub that no sent delivery accounts for, or whose bytes differ (must be 0). */
  unexplainedMessages: CollectedMessage[];
  /** Messages beyond the first for the same webhook id. */
  duplicates: number;
  /** Answers 503 without Retry-After (must be 0). */
  unavailableWithoutRetryAfter: number;
  /** Deliveries the sender gave up on. */
  gaveUp: string[];
  statuses: Record<string, number>;
}

export function checkInvariants(
  records: Iterable<DeliveryRecord>,
  messages: readonly CollectedMessage[],
): InvariantReport {
  const byId = new Map<string, CollectedMessage[]>();
  for (const message of messages) {
    const id = message.attributes['webhook_id'] ?? '';
    const list = byId.get(id) ?? [];
    list.push(message);
    byId.set(id, list);
  }
  const report: InvariantReport = {
    deliveries: 0,
    attempts: 0,
    acknowledged: 0,
    acknowledgedButLost: [],
    unexplainedMessages: [],
    duplicates: 0,
    unavailableWithoutRetryAfter: 0,
    gaveUp: [],
    statuses: {},
  };
  const known = new Map<string, DeliveryRecord>();
  for (const record of records) {
    known.set(record.id, record);
    report.deliveries++;
    report.attempts += record.attempts.length;
    for (const attempt of record.attempts) {
      const key = String(attempt.status);
      report.statuses[key] = (report.statuses[key] ?? 0) + 1;
      if (attempt.status === 503 && !attempt.retryAfter) report.unavailableWithoutRetryAfter++;
    }
    if (record.gaveUp) report.gaveUp.push(record.id);
    if (!record.acknowledged) continue;
    report.acknowledged++;
    const found = byId.get(record.id) ?? [];
    if (!found.some((message) => message.data.equals(record.body))) report.acknowledgedButLost.push(record.id);
  }
  for (const [id, list] of byId) {
    const record = known.get(id);
    for (const message of list) {
      if (!record || !message.data.equals(record.body)) report.unexplainedMessages.push(message);
    }
    if (record) report.duplicates += Math.max(0, list.length - 1);
  }
  return report;
}

/** Asserts both invariants plus "everything eventually delivered"; the message says what broke. */
/** A scenario's share of the published figures, as far as the invariant report tells it. */
export function figuresFrom(report: InvariantReport): Partial<Figures> {
  return {
    deliveriesSent: report.deliveries,
    attempts: report.attempts,
    acknowledged: report.acknowledged,
    acknowledgedButLost: report.acknowledgedButLost.length,
    forgedAccepted: report.unexplainedMessages.length,
    duplicatesSeen: report.duplicates,
  };
}

export function assertInvariants(report: InvariantReport, options: { everyDeliveryAcknowledged: boolean }): void {
  const problems: string[] = [];
  if (report.acknowledgedButLost.length > 0) {
    problems.push(
      `${report.acknowledgedButLost.length} acknowledged deliveries are ` +
        `not in Pub/Sub: ${report.acknowledgedButLost.slice(0, 5).join(', ')}`,
    );
  }
  if (report.unexplainedMessages.length > 0) {
    problems.push(
      `${report.unexplainedMessages.length} messages in Pub/Sub match no sent delivery: ${report.unexplainedMessages
        .slice(0, 3)
        .map((m) => `${m.attributes['webhook_id']} on ${m.route}`)
        .join(', ')}`,
    );
  }
  if (report.unavailableWithoutRetryAfter > 0)
    problems.push(`${report.unavailableWithoutRetryAfter} answers were 503 without Retry-After`);
  if (options.everyDeliveryAcknowledged && report.acknowledged !== report.deliveries) {
    problems.push(
      `${report.deliveries - report.acknowledged} of ${report.deliveries} ` +
        `deliveries were never acknowledged (gave up: ${report.gaveUp.length})`,
    );
  }
  if (problems.length > 0) {
    throw new Error(`invariants broken:\n- ${problems.join('\n- ')}\nstatuses: ${JSON.stringify(report.statuses)}`);
  }
}
