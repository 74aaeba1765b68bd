/**
 * The bytes every session's resumption buffer holds together, bounded gateway-wide. Events are
 * counted in the order they were stored, across sessions, so that past the bound the oldest
 * event in the whole gateway goes first, whichever session it belongs to.
 */

/** One stored event as the budget sees it; its owner drops it when told to. */
export type BudgetedEvent = {
  readonly bytes: number;
  readonly owner: { evict(event: BudgetedEvent): void };
};

export class EventBudget {
  readonly maxBytes: number;
  /** Insertion-ordered: the first entry is the gateway's oldest stored event. */
  readonly #events = new Set<BudgetedEvent>();
  #bytes = 0;
  /** Events dropped, to stay under this bound or under a session's own. */
  dropped = 0;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  /** Bytes held by every session's buffer. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Counts a newly stored event, then has the owners of the oldest drop them until under the bound. */
  add(event: BudgetedEvent): void {
    this.#events.add(event);
    this.#bytes += event.bytes;
    while (this.#bytes > this.maxBytes) {
      const oldest = this.#events.values().next().value;
      if (oldest === undefined) break;
      oldest.owner.evict(oldest);
      // An owner that did not call drop() would make this loop forever; make sure it is gone.
      this.drop(oldest);
    }
  }

  /** Forgets an event its owner dropped to stay under a bound. */
  drop(event: BudgetedEvent): void {
    if (this.#forget(event)) this.dropped++;
  }

  /** Forgets an event whose session ended. */
  release(event: BudgetedEvent): void {
    this.#forget(event);
  }

  #forget(event: BudgetedEvent): boolean {
    if (!this.#events.delete(event)) return false;
    this.#bytes -= event.bytes;
    return true;
  }
}
