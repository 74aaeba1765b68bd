/**
 * A baseline's call rate: calls per minute, as an exponentially weighted moving average over the
 * minutes in which the principal (or tenant) made calls at all. Idle minutes are left out on
 * purpose: a principal that works in bursts between long pauses would otherwise see its average
 * decay towards zero overnight and every morning's first burst flagged.
 *
 * The rate "now" is the calls of the last 60 seconds: the current minute's count plus the share
 * of the previous minute's still inside the window (as RecentUsage counts them).
 */
const MINUTE = 60_000;
/** Weight of the newest completed minute in the average. */
export const RATE_EWMA_ALPHA = 0.3;

export type RateState = {
  readonly minute: number;
  readonly current: number;
  readonly previous: number;
  /** The average over completed active minutes; null before the first one completes. */
  readonly ewma: number | null;
  /** Completed active minutes folded into the average. */
  readonly minutes: number;
};

export class CallRate {
  #minute = 0;
  #current = 0;
  #previous = 0;
  #ewma: number | null = null;
  #minutes = 0;

  /** The average calls per active minute, once a minute has completed. */
  get average(): number | null {
    return this.#ewma;
  }

  get minutes(): number {
    return this.#minutes;
  }

  /** Counts one call at `now` (ms since the epoch). */
  count(now: number): void {
    this.#roll(Math.floor(now / MINUTE));
    this.#current += 1;
  }

  /** Calls in the 60 seconds up to `now`. */
  lastMinute(now: number): number {
    const minute = Math.floor(now / MINUTE);
    if (minute > this.#minute + 1) return 0;
    const elapsed = (now % MINUTE) / MINUTE;
    if (minute === this.#minute + 1) return this.#current * (1 - elapsed);
    return this.#current + this.#previous * (1 - elapsed);
  }

  #roll(minute: number): void {
    if (minute <= this.#minute) return;
    if (this.#current > 0) {
      this.#ewma =
        this.#ewma === null
          ? this.#current
          : (1 - RATE_EWMA_ALPHA) * this.#ewma + RATE_EWMA_ALPHA * this.#current;
      this.#minutes += 1;
    }
    this.#previous = minute === this.#minute + 1 ? this.#current : 0;
    this.#current = 0;
    this.#minute = minute;
  }

  toJSON(): RateState {
    return {
      minute: this.#minute,
      current: this.#current,
      previous: this.#previous,
      ewma: this.#ewma,
      minutes: this.#minutes,
    };
  }

  static from(state: RateState): CallRate {
    const rate = new CallRate();
    rate.#minute = state.minute;
    rate.#current = state.current;
    rate.#previous = state.previous;
    rate.#ewma = state.ewma;
    rate.#minutes = state.minutes;
    return rate;
  }
}
