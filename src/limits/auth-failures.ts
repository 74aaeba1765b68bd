/**
 * Brute-force protection (docs/limits.md): failed authentications per source IP. The HTTP faces
 * ask {@link AuthFailures.check} before they authenticate, so once an IP is over its budget it is
 * answered 429 before any key is hashed or any JWT verified; each failure it makes is counted.
 */
import { rateLimited } from './call-limits.ts';
import type { CountingBackend } from './counting-backend.ts';
import { RateCounters, type RateCheck } from './rate-counters.ts';

/** How many source IPs' checks are kept for reuse; past it the cache starts over. */
const KEPT_CHECKS = 10_000;

export class AuthFailures {
  readonly #perMinute: () => number;
  readonly #counters: RateCounters;
  readonly #backend: CountingBackend;
  /**
   * The check of each recent IP, by IP and budget: the counters resolve a check's limiters and
   * block id once per check object, so a client's every request reuses the first one's.
   */
  readonly #checks = new Map<string, RateCheck>();

  /** `perMinute` (read per request, so a reload applies) 0 turns the limit off. */
  constructor(perMinute: () => number, backend: CountingBackend) {
    this.#perMinute = perMinute;
    this.#backend = backend;
    this.#counters = new RateCounters(backend);
  }

  /** Throws RATE_LIMITED (scope `ip`) while `ip` is over its failed-authentication budget. */
  async check(ip: string): Promise<void> {
    const limit = this.#perMinute();
    if (limit === 0) return;
    const blockedFor = await this.#counters.blockedFor(this.#check(ip, limit));
    if (blockedFor > 0) {
      this.#backend.events.rateLimited('', 'ip');
      throw rateLimited({ ok: false, scope: 'ip', window: 'perMinute', limit, retryAfterMs: blockedFor });
    }
  }

  /** Counts one failed authentication of `ip`. */
  async failed(ip: string): Promise<void> {
    const limit = this.#perMinute();
    if (limit === 0) return;
    await this.#counters.consume([this.#check(ip, limit)]);
  }

  #check(ip: string, points: number): RateCheck {
    const key = `${points} ${ip}`;
    let check = this.#checks.get(key);
    if (check === undefined) {
      if (this.#checks.size >= KEPT_CHECKS) this.#checks.clear();
      check = { scope: 'ip', subject: ip, window: 'perMinute', points };
      this.#checks.set(key, check);
    }
    return check;
  }
}
