/**
 * Per-instance memory of recently published webhook ids, so a retry of a delivery this instance
 * already published is answered 2xx without a second publish. Concurrent copies of the same
 * delivery share one publish. Bounded in size and age; consumers still dedupe across instances.
 */

export interface RecentDeliveriesOptions {
  maxEntries: number;
  ttlMs: number;
  now?: () => number;
}

export class RecentDeliveries<T> {
  readonly #published = new Map<string, number>();
  readonly #inFlight = new Map<string, Promise<T>>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(options: RecentDeliveriesOptions) {
    this.#maxEntries = options.maxEntries;
    this.#ttlMs = options.ttlMs;
    this.#now = options.now ?? Date.now;
  }

  /** True when `id` was published by this instance within the TTL. */
  wasPublished(id: string): boolean {
    const at = this.#published.get(id);
    if (at === undefined) return false;
    if (this.#now() - at > this.#ttlMs) {
      this.#published.delete(id);
      return false;
    }
    return true;
  }

  /**
   * Runs `publish` for `id` unless a publish for the same id is already running, in which case
   * its result is shared. The id is remembered only once `publish` succeeds.
   */
  async once(id: string, publish: () => Promise<T>): Promise<{ value: T; shared: boolean }> {
    const running = this.#inFlight.get(id);
    if (running) return { value: await running, shared: true };
    const attempt = publish();
    this.#inFlight.set(id, attempt);
    try {
      const value = await attempt;
      this.#remember(id);
      return { value, shared: false };
    } finally {
      this.#inFlight.delete(id);
    }
  }

  get size(): number {
    return this.#published.size;
  }

  #remember(id: string): void {
    // Map iteration order is insertion order: re-inserting moves an id to the young end, and the
    // oldest entries are evicted first.
    this.#published.delete(id);
    this.#published.set(id, this.#now());
    while (this.#published.size > this.#maxEntries) {
      const oldest = this.#published.keys().next().value;
      if (oldest === undefined) break;
      this.#published.delete(oldest);
    }
  }
}
