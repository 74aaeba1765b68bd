/**
 * Counts per key, bounded: at most `max` keys are kept. When a new key arrives at a full table,
 * the key with the smallest count is evicted and its count moves to the `other` bucket, so the
 * total is never lost and frequent keys stay (the space-saving idea, without its error bound).
 * Used for a baseline's tool mix and its argument prefixes.
 */
export type CountsState = { readonly counts: Readonly<Record<string, number>>; readonly other: number };

export class BoundedCounts {
  readonly #counts = new Map<string, number>();
  readonly #max: number;
  #other = 0;
  #total = 0;
  /** Keys seen exactly once (kept ones): Good–Turing's evidence that new keys keep coming. */
  #singletons = 0;

  constructor(max: number) {
    this.#max = max;
  }

  get total(): number {
    return this.#total;
  }

  has(key: string): boolean {
    return this.#counts.has(key);
  }

  keys(): IterableIterator<string> {
    return this.#counts.keys();
  }

  /**
   * The Good–Turing estimate of the chance that the next observation is a key not seen before:
   * keys seen once, plus everything evicted to `other`, over all observations. 1 with no
   * observations at all (nothing is usual yet).
   */
  newKeyChance(): number {
    if (this.#total === 0) return 1;
    return Math.min(1, (this.#singletons + this.#other) / this.#total);
  }

  add(key: string, by = 1): void {
    this.#total += by;
    const count = this.#counts.get(key);
    if (count !== undefined) {
      if (count === 1) this.#singletons -= 1;
      this.#set(key, count + by);
      return;
    }
    if (this.#counts.size >= this.#max) this.#evictSmallest();
    this.#set(key, by);
  }

  toJSON(): CountsState {
    return { counts: Object.fromEntries(this.#counts), other: this.#other };
  }

  /** Restores a saved state; keys past `max` (a smaller limit than when saved) go to `other`. */
  static from(state: CountsState, max: number): BoundedCounts {
    const counts = new BoundedCounts(max);
    const entries = Object.entries(state.counts).sort((a, b) => b[1] - a[1]);
    for (const [key, count] of entries) {
      if (counts.#counts.size < max) counts.#set(key, count);
      else counts.#other += count;
      counts.#total += count;
    }
    counts.#other += state.other;
    counts.#total += state.other;
    return counts;
  }

  #set(key: string, count: number): void {
    this.#counts.set(key, count);
    if (count === 1) this.#singletons += 1;
  }

  #evictSmallest(): void {
    let smallest: string | undefined;
    let least = Infinity;
    for (const [key, count] of this.#counts) {
      if (count < least) {
        least = count;
        smallest = key;
      }
    }
    if (smallest === undefined) return;
    this.#counts.delete(smallest);
    if (least === 1) this.#singletons -= 1;
    this.#other += least;
  }
}
