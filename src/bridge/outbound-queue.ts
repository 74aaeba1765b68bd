/**
 * Messages from the local client waiting for the remote to be reachable again. Bounded: past the
 * limit the oldest entries are pushed out and handed back, so the bridge can answer a pushed-out
 * request with an error instead of letting it hang. Entries keep the order the client sent them
 * in, also when a failed send puts one back.
 */
import type { JSONRPCMessage } from '../jsonrpc/message.ts';

export type QueuedMessage = {
  /** Arrival order on stdin; a put-back entry returns to its place by this number. */
  readonly seq: number;
  readonly message: JSONRPCMessage;
  /** When the entry first entered the queue (ms since the epoch), for the delivery deadline. */
  readonly queuedAt: number;
};

export class OutboundQueue {
  readonly #limit: number;
  #entries: QueuedMessage[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('queue limit must be a positive integer');
    this.#limit = limit;
  }

  get size(): number {
    return this.#entries.length;
  }

  /** Adds an entry in `seq` order; returns the entries pushed out by the limit, oldest first. */
  add(entry: QueuedMessage): QueuedMessage[] {
    let index = this.#entries.length;
    while (index > 0 && this.#entries[index - 1]!.seq > entry.seq) index -= 1;
    this.#entries.splice(index, 0, entry);
    const overflow = this.#entries.length - this.#limit;
    return overflow > 0 ? this.#entries.splice(0, overflow) : [];
  }

  /** Removes and returns every entry, in order. */
  takeAll(): QueuedMessage[] {
    const entries = this.#entries;
    this.#entries = [];
    return entries;
  }

  /** Removes and returns the entries queued at or before `cutoff` (ms since the epoch). */
  takeQueuedBefore(cutoff: number): QueuedMessage[] {
    const expired = this.#entries.filter((entry) => entry.queuedAt <= cutoff);
    if (expired.length > 0) this.#entries = this.#entries.filter((entry) => entry.queuedAt > cutoff);
    return expired;
  }
}
