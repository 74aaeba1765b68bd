/**
 * One timer for the deadlines of every request in flight on a process, instead of a timer per
 * request: the timer is armed for the earliest deadline, and when it fires it expires what is due
 * and re-arms for the next. Requests answered in time only leave their deadline behind, which the
 * next sweep skips; with steady traffic the timer fires about once per timeout.
 */
export type Deadlined = { readonly deadline: number };

export class CallDeadlines<T extends Deadlined> {
  readonly #entries: () => Iterable<T>;
  readonly #expire: (entry: T) => void;
  #timer: NodeJS.Timeout | undefined;
  #armedFor = Number.POSITIVE_INFINITY;

  /** `entries` lists what is in flight now; `expire` is called for each entry past its deadline. */
  constructor(entries: () => Iterable<T>, expire: (entry: T) => void) {
    this.#entries = entries;
    this.#expire = expire;
  }

  /** A new entry with this deadline (a `performance.now()` time) is in flight. */
  watch(deadline: number): void {
    if (deadline < this.#armedFor) this.#arm(deadline);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    clearTimeout(this.#timer);
    this.#armedFor = at;
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, Math.ceil(at - performance.now())));
    this.#timer.unref();
  }

  #sweep(): void {
    this.#timer = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = performance.now();
    const due: T[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const entry of this.#entries()) {
      if (entry.deadline <= now) due.push(entry);
      else if (entry.deadline < next) next = entry.deadline;
    }
    for (const entry of due) this.#expire(entry);
    if (next < this.#armedFor) this.#arm(next);
  }
}
