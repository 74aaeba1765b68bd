/**
 * Exponential backoff with jitter for reconnecting to an unreachable remote. "Equal jitter":
 * each delay is half the exponential step plus a random share of the other half, so retries
 * from many bridges spread out yet never collapse to zero.
 */

export type BackoffPolicy = {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
};

export const DEFAULT_BACKOFF: BackoffPolicy = Object.freeze({ initialMs: 250, maxMs: 30_000, factor: 2 });

export class Backoff {
  readonly #policy: BackoffPolicy;
  readonly #random: () => number;
  #attempt = 0;

  /** `random` returns a number in [0, 1); tests pass a fixed one. */
  constructor(policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random) {
    this.#policy = policy;
    this.#random = random;
  }

  /** How many delays were handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in milliseconds. */
  next(): number {
    const { initialMs, maxMs, factor } = this.#policy;
    const step = Math.min(maxMs, initialMs * factor ** this.#attempt);
    this.#attempt += 1;
    return Math.round(step / 2 + (this.#random() * step) / 2);
  }

  reset(): void {
    this.#attempt = 0;
  }
}
