/**
 * Fixed-window request counters on `rate-limiter-flexible`: one limiter per scope, window and
 * budget, made on first use and kept. With Redis the counts are the Lua-scripted keys every
 * replica shares (`<prefix>rl:<scope>:<window>:<subject>`); without it, or when Redis fails and
 * the backend fails open, they are this process's.
 *
 * A call is checked against every window of every scope at once (one Redis round trip). When any
 * refuses, the points the others took are given back, so a key far over its own limit does not
 * use up its tenant's or a tool's budget for everyone else.
 */
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { CountingBackend } from './counting-backend.ts';
import { leaseSize, RateLeases } from './rate-leases.ts';
import { WINDOWS, type LimitScope, type WindowName } from './rate-windows.ts';

export type RateCheck = {
  readonly scope: LimitScope;
  /** Who is counted, e.g. `acme:key:k1`. */
  readonly subject: string;
  readonly window: WindowName;
  readonly points: number;
};

export type RateVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly scope: LimitScope;
      readonly window: WindowName;
      readonly limit: number;
      readonly retryAfterMs: number;
    };

type Limiters = {
  readonly primary: RateLimiterAbstract;
  readonly fallback: RateLimiterMemory | undefined;
  /** Points one count takes for a subject (rate-leases.ts): a block, or 1 for a count per call. */
  readonly lease: number;
};

const OK: RateVerdict = Object.freeze({ ok: true });

/** Most subjects held as blocked in memory; past it the oldest half is forgotten (they only cost a round trip). */
const MAX_BLOCKED = 10_000;

export class RateCounters {
  readonly #backend: CountingBackend;
  readonly #limiters = new Map<string, Limiters>();
  /**
   * Each check's limiters and the id of its subject and window, so that a check kept by a call
   * plan finds them without building either id again.
   */
  readonly #resolved = new WeakMap<RateCheck, { readonly limiters: Limiters; readonly id: string }>();
  /** A call plan's checks (kept arrays) and their block ids, or null when one is not leased. */
  readonly #leasedIdsByChecks = new WeakMap<readonly RateCheck[], readonly string[] | null>();
  /**
   * Subjects known to be over a window until a time: a fixed window stays over until it ends,
   * so a client hammering past its limit is refused from memory, without a Redis round trip and
   * without touching its tenant's or a tool's counts.
   */
  readonly #blocked = new Map<string, { until: number; verdict: RateVerdict }>();

  readonly #leases: RateLeases;

  constructor(backend: CountingBackend) {
    this.#backend = backend;
    this.#leases = new RateLeases({
      take: async (check, points) => {
        const { primary } = this.#limitersOf(check);
        let res: RateLimiterRes;
        try {
          res = await primary.consume(check.subject, points);
        } catch (refused) {
          if (!(refused instanceof RateLimiterRes)) throw refused;
          res = refused;
        }
        return { consumed: res.consumedPoints, msBeforeNext: res.msBeforeNext };
      },
      giveBack: async (check, points) => {
        await this.#limitersOf(check).primary.reward(check.subject, points);
      },
    });
  }

  /** Gives the unspent points of this process's blocks back to their limiters (at close). */
  release(): Promise<void> {
    return this.#leases.release();
  }

  /** Takes one point of every check, or none: a refusal gives back what the others took. */
  async consume(checks: readonly RateCheck[]): Promise<RateVerdict> {
    if (checks.length === 0) return OK;
    const held = this.held(checks);
    if (held) return held;
    // Every check has a point in a block this process holds: spent at once, nothing to wait for.
    const ids = this.#leasedIds(checks);
    if (ids !== undefined && this.#leases.trySpendAll(ids)) return OK;
    const outcomes = await Promise.all(checks.map((check) => this.#consumeOne(check)));
    let worst: RateVerdict = OK;
    for (const [index, outcome] of outcomes.entries()) {
      if (outcome === undefined) continue;
      const check = checks[index] as RateCheck;
      if (worst.ok || outcome > worst.retryAfterMs) {
        worst = {
          ok: false,
          scope: check.scope,
          window: check.window,
          limit: check.points,
          retryAfterMs: outcome,
        };
      }
    }
    if (!worst.ok) {
      this.#hold(checks, outcomes);
      const taken = checks.filter((_, index) => outcomes[index] === undefined);
      // Off the refusal's path: a lost refund only makes a limit stricter for the rest of a window.
      void Promise.allSettled(taken.map((check) => this.#refund(check)));
    }
    return worst;
  }

  /** The refusal of a check known (in memory) to be over its window still, if any. */
  held(checks: readonly RateCheck[]): RateVerdict | undefined {
    if (this.#blocked.size === 0) return undefined;
    const now = Date.now();
    for (const check of checks) {
      const id = this.#blockId(check);
      const entry = this.#blocked.get(id);
      if (!entry) continue;
      if (entry.until <= now) {
        this.#blocked.delete(id);
        continue;
      }
      return { ...entry.verdict, retryAfterMs: entry.until - now } as RateVerdict;
    }
    return undefined;
  }

  #hold(checks: readonly RateCheck[], outcomes: readonly (number | undefined)[]): void {
    if (this.#blocked.size >= MAX_BLOCKED) {
      let drop = this.#blocked.size / 2;
      for (const id of this.#blocked.keys()) {
        if (drop-- <= 0) break;
        this.#blocked.delete(id);
      }
    }
    const now = Date.now();
    for (const [index, check] of checks.entries()) {
      const ms = outcomes[index];
      if (ms === undefined) continue;
      this.#blocked.set(this.#blockId(check), {
        until: now + ms,
        verdict: {
          ok: false,
          scope: check.scope,
          window: check.window,
          limit: check.points,
          retryAfterMs: ms,
        },
      });
    }
  }

  /** How long until `check` has a point again, without taking one; 0 when it has one now. */
  async blockedFor(check: RateCheck): Promise<number> {
    const { primary, fallback } = this.#limitersOf(check);
    let res: RateLimiterRes | null;
    try {
      res = await primary.get(check.subject);
    } catch (error) {
      this.#backend.failed(error);
      res = (await fallback?.get(check.subject)) ?? null;
    }
    return res !== null && res.consumedPoints >= check.points ? Math.max(1, res.msBeforeNext) : 0;
  }

  /** Whether `check` had its point (undefined) or how long until it would (ms). */
  async #consumeOne(check: RateCheck): Promise<number | undefined> {
    const { primary, fallback, lease } = this.#limitersOf(check);
    try {
      if (lease > 1) return await this.#leases.spend(this.#blockId(check), check, lease);
      await primary.consume(check.subject, 1);
      return undefined;
    } catch (error) {
      if (error instanceof RateLimiterRes) return Math.max(1, error.msBeforeNext);
      this.#backend.failed(error);
      if (!fallback) throw error;
      try {
        await fallback.consume(check.subject, 1);
        return undefined;
      } catch (refused) {
        if (refused instanceof RateLimiterRes) return Math.max(1, refused.msBeforeNext);
        throw refused;
      }
    }
  }

  async #refund(check: RateCheck): Promise<void> {
    const { primary } = this.#limitersOf(check);
    await primary.reward(check.subject, 1);
  }

  #limitersOf(check: RateCheck): Limiters {
    return this.#resolve(check).limiters;
  }

  #resolve(check: RateCheck): { readonly limiters: Limiters; readonly id: string } {
    let resolved = this.#resolved.get(check);
    if (!resolved) {
      resolved = { limiters: this.#limitersById(check), id: blockId(check) };
      this.#resolved.set(check, resolved);
    }
    return resolved;
  }

  #limitersById(check: RateCheck): Limiters {
    const id = `${check.scope}:${check.window}:${check.points}`;
    let limiters = this.#limiters.get(id);
    if (!limiters) {
      limiters = this.#newLimiters(check);
      this.#limiters.set(id, limiters);
    }
    return limiters;
  }

  /** The block ids of `checks` when every one of them is leased (blocks over 1 point), else undefined. */
  #leasedIds(checks: readonly RateCheck[]): readonly string[] | undefined {
    let ids = this.#leasedIdsByChecks.get(checks);
    if (ids === undefined) {
      ids = checks.every((check) => this.#limitersOf(check).lease > 1)
        ? checks.map((check) => this.#blockId(check))
        : null;
      this.#leasedIdsByChecks.set(checks, ids);
    }
    return ids ?? undefined;
  }

  #blockId(check: RateCheck): string {
    return this.#resolve(check).id;
  }

  #newLimiters(check: RateCheck): Limiters {
    // The budget is not in the key: a changed limit keeps counting the same window.
    const keyPrefix = `${this.#backend.keyPrefix}rl:${check.scope}:${check.window}`;
    const options = { keyPrefix, points: check.points, duration: WINDOWS[check.window] };
    const { redis } = this.#backend;
    const lease = leaseSize(check.points, this.#backend.leaseFraction);
    // In memory a block is exact: this process holds every block, so a refusal means the window's
    // points are all spent. It saves the limiter's promise per call and check.
    if (!redis) return { primary: new RateLimiterMemory(options), fallback: undefined, lease };
    return {
      primary: new RateLimiterRedis({ ...options, storeClient: redis, rejectIfRedisNotReady: true }),
      fallback: this.#backend.onError === 'open' ? new RateLimiterMemory(options) : undefined,
      lease,
    };
  }
}

function blockId(check: RateCheck): string {
  return `${check.scope}\n${check.window}\n${check.points}\n${check.subject}`;
}
