/**
 * Reading a delivery's body ourselves, before any verification, bounded three ways:
 * - size: at most `maxBytes` (413 beyond);
 * - time: once n bytes have arrived, the body may have taken `baseTimeoutMs + n / minBytesPerSecond`
 *   so far, and no `idleTimeoutMs` may pass without a byte (408 otherwise). The allowance grows
 *   with bytes received, never with the declared Content-Length: a declared 1 MiB with no byte
 *   sent got 18 s, and a sender keeping Cloud Run's request slots busy needed a ninth of the
 *   requests (issue 20). Gemini's envelopes are a few KiB and arrive at once;
 * - memory: bytes actually received by bodies still arriving count against one budget per
 *   instance (PendingBodies). A declared Content-Length costs nothing until bytes arrive, so a
 *   flood of large declarations holds no memory.
 *
 * None of this takes a delivery slot (`maxInFlight`): slots are for complete bodies being verified
 * and published, so a sender that never finishes its body cannot block signed deliveries.
 */
import type { IncomingMessage } from 'node:http';

export class BodyTooLarge extends Error {
  override name = 'BodyTooLarge';
}
export class BodyTimeout extends Error {
  override name = 'BodyTimeout';
}
/** The instance's budget for incomplete bodies is spent, and this body holds the most of it. */
export class BodyBudgetExceeded extends Error {
  override name = 'BodyBudgetExceeded';
}
/** The client went away (or the stream failed) before the body was complete. */
class BodyAborted extends Error {
  override name = 'BodyAborted';
}

export interface BodyLimits {
  maxBytes: number;
  /** Time any body gets, however small. */
  baseTimeoutMs: number;
  /** The slowest transfer accepted: each byte received adds 1/minBytesPerSecond s. */
  minBytesPerSecond: number;
  /** The longest pause between two chunks of one body. */
  idleTimeoutMs: number;
}

/** A body's time allowance once `bytes` have arrived: the base deadline plus those bytes at the minimum rate. */
export function bodyDeadlineMs(limits: BodyLimits, bytes: number): number {
  return limits.baseTimeoutMs + Math.ceil((bytes * 1000) / limits.minBytesPerSecond);
}

interface Holder {
  held: number;
  /** When its last chunk arrived. */
  lastChunkAt: number;
  evict(): void;
}

/**
 * Bytes held by incomplete bodies, across every request of the instance. When a new chunk would
 * take the total over the budget, the body that has been idle longest is cut (503, the sender
 * retries), the larger first among equally idle ones. A body arriving at full speed has just
 * received a chunk, so it is the last to go, whatever its size: cutting the body holding the most
 * cut exactly the genuine deliveries arriving at line rate next to senders that stalled (issue 20).
 */
export class PendingBodies {
  readonly budgetBytes: number;
  readonly #holders = new Set<Holder>();
  readonly #now: () => number;
  #total = 0;

  /** `now` in milliseconds, for tests; performance.now otherwise. */
  constructor(budgetBytes: number, now: () => number = () => performance.now()) {
    this.budgetBytes = budgetBytes;
    this.#now = now;
  }

  /** Bytes currently held by incomplete bodies. */
  get heldBytes(): number {
    return this.#total;
  }

  /** Starts counting a body; `evict` is called if it has to give its bytes up. */
  open(evict: () => void): { add(bytes: number): void; close(): void } {
    const holder: Holder = { held: 0, lastChunkAt: this.#now(), evict };
    this.#holders.add(holder);
    return {
      add: (bytes) => {
        if (!this.#holders.has(holder)) return;
        holder.held += bytes;
        holder.lastChunkAt = this.#now();
        this.#total += bytes;
        while (this.#total > this.budgetBytes) {
          const idlest = this.#idlest();
          this.#release(idlest);
          idlest.evict();
        }
      },
      close: () => this.#release(holder),
    };
  }

  /** The holder whose last chunk is oldest; among equals, the one holding the most. */
  #idlest(): Holder {
    let idlest: Holder | undefined;
    for (const holder of this.#holders) {
      if (
        idlest === undefined ||
        holder.lastChunkAt < idlest.lastChunkAt ||
        (holder.lastChunkAt === idlest.lastChunkAt && holder.held > idlest.held)
      )
        idlest = holder;
    }
    return idlest!;
  }

  #release(holder: Holder): void {
    if (!this.#holders.delete(holder)) return;
    this.#total -= holder.held;
    holder.held = 0;
  }
}

/**
 * The raw body, read within `limits` and counted against `pending`. A request the framework's
 * body parser already read (a server the body takeover does not cover) is taken as parsed: its
 * supported `rawBody`, or nothing when the parser found no body.
 */
export function readBody(
  req: IncomingMessage & { rawBody?: Buffer },
  limits: BodyLimits,
  pending: PendingBodies,
): Promise<Buffer> {
  if (req.rawBody) {
    return req.rawBody.length > limits.maxBytes ? Promise.reject(new BodyTooLarge()) : Promise.resolve(req.rawBody);
  }
  if (req.readableEnded) return Promise.resolve(Buffer.alloc(0));
  const started = Date.now();
  let lastChunkAt = started;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let timer: NodeJS.Timeout | undefined;
    let settled = false;
    const held = pending.open(() => finish(new BodyBudgetExceeded()));
    const finish = (error?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      held.close();
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (error) {
        req.resume(); // drain and discard the rest rather than hold the socket's buffers
        reject(error);
      } else {
        resolve(Buffer.concat(chunks, size));
      }
    };
    // The allowance grows with what arrives, and a pause ends it: re-checked when either is due.
    const arm = (): void => {
      const due = Math.min(started + bodyDeadlineMs(limits, size), lastChunkAt + limits.idleTimeoutMs);
      const remaining = due - Date.now();
      if (remaining <= 0) finish(new BodyTimeout());
      else timer = setTimeout(arm, remaining);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      lastChunkAt = Date.now();
      if (size > limits.maxBytes) return finish(new BodyTooLarge());
      chunks.push(chunk);
      held.add(chunk.length);
    };
    const onEnd = (): void => finish();
    const onError = (): void => finish(new BodyAborted());
    const onClose = (): void => {
      if (!req.complete) finish(new BodyAborted());
    };
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    arm();
  });
}
