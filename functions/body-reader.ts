/**
 * Reading a delivery's body ourselves, before any verification, bounded three ways:
 * - size: at most `maxBytes` (413 beyond);
 * - time: a body of n bytes may take `baseTimeoutMs + n / minBytesPerSecond` to arrive (408
 *   after). Gemini's envelopes are a few KiB and arrive at once; the rate term only matters for
 *   large bodies, and a sender that stalls gets the base deadline, not a flat ten seconds;
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
  /** The slowest transfer accepted: each byte (declared or received) adds 1/minBytesPerSecond s. */
  minBytesPerSecond: number;
}

/** A body's time allowance: the base deadline plus its size at the minimum rate. */
export function bodyDeadlineMs(limits: BodyLimits, bytes: number): number {
  return limits.baseTimeoutMs + Math.ceil((bytes * 1000) / limits.minBytesPerSecond);
}

interface Holder {
  held: number;
  evict(): void;
}

/**
 * Bytes held by incomplete bodies, across every request of the instance. When a new chunk would
 * take the total over the budget, the body holding the most is cut (503, the sender retries):
 * small genuine deliveries keep arriving while whoever hoards the budget loses it.
 */
export class PendingBodies {
  readonly budgetBytes: number;
  readonly #holders = new Set<Holder>();
  #total = 0;

  constructor(budgetBytes: number) {
    this.budgetBytes = budgetBytes;
  }

  /** Bytes currently held by incomplete bodies. */
  get heldBytes(): number {
    return this.#total;
  }

  /** Starts counting a body; `evict` is called if it has to give its bytes up. */
  open(evict: () => void): { add(bytes: number): void; close(): void } {
    const holder: Holder = { held: 0, evict };
    this.#holders.add(holder);
    return {
      add: (bytes) => {
        if (!this.#holders.has(holder)) return;
        holder.held += bytes;
        this.#total += bytes;
        while (this.#total > this.budgetBytes) {
          let largest = holder;
          for (const other of this.#holders) if (other.held > largest.held) largest = other;
          this.#release(largest);
          largest.evict();
        }
      },
      close: () => this.#release(holder),
    };
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
  const declared = Number(req.headers['content-length'] ?? 0) || 0;
  const started = Date.now();
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
    // The allowance grows with what arrives (chunked bodies declare nothing): re-checked when due.
    const arm = (): void => {
      const remaining = started + bodyDeadlineMs(limits, Math.max(declared, size)) - Date.now();
      if (remaining <= 0) finish(new BodyTimeout());
      else timer = setTimeout(arm, remaining);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
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
