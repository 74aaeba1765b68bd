/**
 * A retry budget: a token bucket that every call fills by `ratio` of a token and every retry
 * drains by one, so that retries stay at most `ratio` of the calls made (0.1: one retry per ten
 * calls) however many calls fail. Without it, retries multiply the load on a server that is
 * already failing; with it, an outage costs at most 10% more calls. The bucket holds at most
 * `burst` tokens, so a long quiet spell does not buy a storm of retries later.
 */
export class RetryBudget {
  readonly #ratio: number;
  readonly #burst: number;
  #tokens: number;
  /** Retries granted and refused so far, for metrics and the bench. */
  granted = 0;
  refused = 0;

  constructor(ratio: number, burst = 10) {
    this.#ratio = ratio;
    this.#burst = burst;
    this.#tokens = Math.min(1, burst);
  }

  /** A call was made (its first attempt). */
  deposit(): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + this.#ratio);
  }

  /** Takes a token for one retry; false when the budget is spent. */
  withdraw(): boolean {
    // Tenths added up in floating point fall just short of whole numbers (0.1 × 10 < 1).
    if (this.#tokens >= 1 - 1e-9) {
      this.#tokens = Math.max(0, this.#tokens - 1);
      this.granted++;
      return true;
    }
    this.refused++;
    return false;
  }
}

/**
 * The delay before retry `retry` (1 for the first retry): "full jitter", a uniform draw between
 * zero and the exponential step, which spreads retries of many callers best (Brooker, "Exponential
 * Backoff And Jitter", AWS Architecture Blog, 2015).
 */
export function fullJitterDelay(
  retry: number,
  baseDelay: number,
  maxDelay: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxDelay, baseDelay * 2 ** (retry - 1));
  return Math.floor(random() * step);
}
