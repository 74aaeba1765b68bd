/**
 * Messages from the local client waiting for the remote to be reachable again. Bounded in size
 * and in time: past the limit the oldest entries are pushed out, and entries older than the
 * deadline expire, both handed to `onDropped` so the bridge can answer a dropped request with an
 * error instead of letting it hang. Entries keep the order the client sent them in, also when a
 * failed send puts one back.
 */
import type { JSONRPCMessage } from '../jsonrpc/message.ts';

export type QueuedMessage = {
  /** Arrival order on stdin; a put-back entry returns to its place by this number. */
  readonly seq: number;
  readonly message: JSONRPCMessage;
  /** When the entry first entered the queue (ms since the epoch), for the deadline. */
  readonly queuedAt: number;
};

export type OutboundQueueOptions = {
  readonly limit: number;
  readonly timeoutMs: number;
  readonly onDropped: (entry: QueuedMessage, cause: 'overflow' | 'expired') => void;
};

export class OutboundQueue {
  readonly #options: OutboundQueueOptions;
  #entries: QueuedMessage[] = [];
  #sweep: NodeJS.Timeout | undefined;

  constructor(options: OutboundQueueOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) {
      throw new RangeError('queue limit must be a positive integer');
    }
    this.#options = options;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Adds an entry in `seq` order, pushing out the oldest past the limit. */
  add(entry: QueuedMessage): void {
    let index = this.#entries.length;
    while (index > 0 && this.#entries[index - 1]!.seq > entry.seq) index -= 1;
    this.#entries.splice(index, 0, entry);
    const overflow = this.#entries.length - this.#options.limit;
    for (const dropped of overflow > 0 ? this.#entries.splice(0, overflow) : []) {
      this.#options.onDropped(dropped, 'overflow');
    }
    this.#startSweep();
  }

  /** Removes and returns every entry, in order. */
  takeAll(): QueuedMessage[] {
    const entries = this.#entries;
    this.#entries = [];
    return entries;
  }

  /** Expires the entries queued before `now - timeoutMs`. */
  expire(now = Date.now()): void {
    const cutoff = now - this.#options.timeoutMs;
    const expired = this.#entries.filter((entry) => entry.queuedAt <= cutoff);
    if (expired.length === 0) return;
    this.#entries = this.#entries.filter((entry) => entry.queuedAt > cutoff);
    for (const entry of expired) this.#options.onDropped(entry, 'expired');
  }

  /** Drops everything without telling anyone, and stops the deadline timer. */
  clear(): void {
    this.#entries = [];
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #startSweep(): void {
    if (this.#sweep) return;
    const period = Math.max(10, Math.min(1000, Math.floor(this.#options.timeoutMs / 4)));
    this.#sweep = setInterval(() => {
      this.expire();
      if (this.#entries.length > 0) return;
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }, period);
    this.#sweep.unref();
  }
}
