/**
 * An EventBus kept in memory, for the receiver's fast tests. It implements our own EventBus
 * interface (what the receiver asks of Pub/Sub), records what would have been published, and can
 * be told how the next publishes go. It is not a model of Pub/Sub: what Pub/Sub itself does is
 * tested against the emulator (test/reliability/, test/e2e/).
 */
import type { RouteKey } from '../../functions/catalog.ts';
import { PublishError, type EventBus, type Published } from '../../functions/event-bus.ts';

export interface PublishedMessage {
  route: RouteKey;
  data: Buffer;
  attributes: Record<string, string>;
  messageId: string;
}

type Step = { kind: 'fail'; error: PublishError } | { kind: 'hold'; began: () => void; released: Promise<void> };

export class MemoryEventBus implements EventBus {
  readonly published: PublishedMessage[] = [];
  /** Publish calls, including those that failed. */
  calls = 0;
  readonly #steps: Step[] = [];
  #next = 1;

  /** The next publish fails with `error`. */
  failNext(error: PublishError): void {
    this.#steps.push({ kind: 'fail', error });
  }

  /** The next publish waits until `release()` is called, then succeeds. `started` resolves once it began. */
  holdNext(): { started: Promise<void>; release: () => void } {
    let release!: () => void;
    let began!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const started = new Promise<void>((resolve) => (began = resolve));
    this.#steps.push({ kind: 'hold', began, released });
    return { started, release };
  }

  async publish(route: RouteKey, data: Buffer, attributes: Record<string, string>): Promise<Published> {
    this.calls++;
    const step = this.#steps.shift();
    if (step?.kind === 'fail') throw step.error;
    if (step?.kind === 'hold') {
      step.began();
      await step.released;
    }
    const messageId = String(this.#next++);
    this.published.push({ route, data: Buffer.from(data), attributes: { ...attributes }, messageId });
    return { messageId, topic: `projects/unit/topics/${route}` };
  }

  async close(): Promise<void> {}
}
