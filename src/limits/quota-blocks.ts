/**
 * The numbers of a month's shared quota count that this process holds (docs/limits.md,
 * "Leases"). With Redis, a subject under a quota takes a block of numbers at once (one INCRBY);
 * each call spends the next number, which is its count: the 80% and 100% alerts fire on the one
 * call whose number is the mark, whichever replica holds it. A number given back by a call that
 * another limit refused is spent by the next call.
 */
export class QuotaBlocks {
  readonly #ranges: { next: number; end: number }[] = [];

  /** The next number held, or undefined when none is left. */
  take(): number | undefined {
    for (;;) {
      const range = this.#ranges[0];
      if (range === undefined) return undefined;
      if (range.next <= range.end) return range.next++;
      this.#ranges.shift();
    }
  }

  /** Holds `first` to `last` (inclusive); nothing when the range is empty. */
  add(first: number, last: number): void {
    if (first <= last) this.#ranges.push({ next: first, end: last });
  }

  /** Holds a number again: the next `take` spends it. */
  putBack(number: number): void {
    this.#ranges.unshift({ next: number, end: number });
  }

  /** How many numbers are held. */
  get unspent(): number {
    return this.#ranges.reduce((sum, range) => sum + Math.max(0, range.end - range.next + 1), 0);
  }

  /** Forgets every number held, returning how many there were. */
  clear(): number {
    const unspent = this.unspent;
    this.#ranges.length = 0;
    return unspent;
  }
}
