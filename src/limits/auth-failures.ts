/**
 * Brute-force protection (docs/limits.md): failed authentications per source IP. The HTTP faces
 * ask {@link AuthFailures.check} before they authenticate, so once an IP is over its budget it is
 * answered 429 before any key is hashed or any JWT verified; each failure it makes is counted.
 */
import { rateLimited } from './call-limits.ts';
import type { CountingBackend } from './counting-backend.ts';
import { RateCounters, type RateCheck } from './rate-counters.ts';

export class AuthFailures {
  readonly #perMinute: () => number;
  readonly #counters: RateCounters;
  readonly #backend: CountingBackend;

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
    return { scope: 'ip', subject: ip, window: 'perMinute', points };
  }
}
