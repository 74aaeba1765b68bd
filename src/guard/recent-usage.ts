/**
 * Calls per principal in the last minute and the last hour, for policy conditions such as
 * `usage.callsLastMinute < 100` (seed 003's dynamic authorization). Counts live in per-minute
 * buckets, 60 of them, so a principal costs a fixed 60 numbers however busy it is; the last
 * minute is the current bucket plus the share of the previous one still inside the window.
 *
 * Memory is bounded by `maxPrincipals`: past it, the principal seen longest ago is forgotten.
 */
const MINUTE = 60_000;
const BUCKETS = 60;

/** `total` is the sum of `buckets`, kept as they change, so a read does not add up 60 numbers. */
type Counts = { buckets: Uint32Array; minute: number; total: number };

export class RecentUsage {
  readonly #byPrincipal = new Map<string, Counts>();
  readonly #max: number;
  readonly #now: () => number;
  /** The map's last key: a principal calling again and again is already in its place. */
  #last: string | undefined;

  constructor(options: { maxPrincipals?: number; now?: () => number } = {}) {
    this.#max = options.maxPrincipals ?? 100_000;
    this.#now = options.now ?? (() => Date.now());
  }

  /** Counts one call. */
  record(principal: string): void {
    const counts = this.#current(principal, true) as Counts;
    const index = counts.minute % BUCKETS;
    counts.buckets[index] = (counts.buckets[index] ?? 0) + 1;
    counts.total += 1;
  }

  /** A read: it moves the principal's buckets up to now but not its place in the eviction order. */
  usage(principal: string): { callsLastMinute: number; callsLastHour: number } {
    const counts = this.#byPrincipal.get(principal);
    if (!counts) return { callsLastMinute: 0, callsLastHour: 0 };
    const now = this.#now();
    const minute = Math.floor(now / MINUTE);
    advance(counts, minute);
    const current = counts.buckets[minute % BUCKETS] ?? 0;
    const previous = counts.buckets[(minute - 1 + BUCKETS) % BUCKETS] ?? 0;
    const elapsed = (now % MINUTE) / MINUTE;
    return {
      callsLastMinute: Math.round(current + previous * (1 - elapsed)),
      callsLastHour: counts.total,
    };
  }

  /** The principal's buckets moved up to the current minute (old minutes zeroed). */
  #current(principal: string, create: boolean): Counts | undefined {
    const minute = Math.floor(this.#now() / MINUTE);
    let counts = this.#byPrincipal.get(principal);
    if (!counts) {
      if (!create) return undefined;
      if (this.#byPrincipal.size >= this.#max) {
        const oldest = this.#byPrincipal.keys().next().value;
        if (oldest !== undefined) this.#byPrincipal.delete(oldest);
      }
      counts = { buckets: new Uint32Array(BUCKETS), minute, total: 0 };
      this.#moveLast(principal, counts);
    } else if (principal !== this.#last) {
      this.#byPrincipal.delete(principal);
      this.#moveLast(principal, counts);
    }
    advance(counts, minute);
    return counts;
  }

  // (Re-)inserted last, so the map's order is least recently seen first.
  #moveLast(principal: string, counts: Counts): void {
    this.#byPrincipal.set(principal, counts);
    this.#last = principal;
  }
}

/** Zeroes the minutes between the principal's last one and `minute`, and takes them off the total. */
function advance(counts: Counts, minute: number): void {
  if (minute <= counts.minute) return;
  const gap = Math.min(minute - counts.minute, BUCKETS);
  for (let step = 1; step <= gap; step += 1) {
    const index = (counts.minute + step) % BUCKETS;
    counts.total -= counts.buckets[index] ?? 0;
    counts.buckets[index] = 0;
  }
  counts.minute = minute;
}
