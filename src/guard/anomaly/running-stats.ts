/**
 * Mean and variance of a stream in one pass (Welford's algorithm), numerically stable and in
 * constant memory: a baseline's argument sizes.
 */
export type StatsState = { readonly n: number; readonly mean: number; readonly m2: number };

export class RunningStats {
  #n = 0;
  #mean = 0;
  #m2 = 0;

  get count(): number {
    return this.#n;
  }

  get mean(): number {
    return this.#mean;
  }

  /** Sample standard deviation; 0 with fewer than two values. */
  get deviation(): number {
    return this.#n < 2 ? 0 : Math.sqrt(this.#m2 / (this.#n - 1));
  }

  add(value: number): void {
    this.#n += 1;
    const delta = value - this.#mean;
    this.#mean += delta / this.#n;
    this.#m2 += delta * (value - this.#mean);
  }

  toJSON(): StatsState {
    return { n: this.#n, mean: this.#mean, m2: this.#m2 };
  }

  static from(state: StatsState): RunningStats {
    const stats = new RunningStats();
    stats.#n = state.n;
    stats.#mean = state.mean;
    stats.#m2 = state.m2;
    return stats;
  }
}
