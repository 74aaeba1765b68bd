/**
 * Leased rate points (docs/limits.md, "Leases"). A subject whose window has a large budget takes
 * its points in blocks instead of one count per call: a block is a share of the budget
 * (`gateway.limits.leaseFraction`, at most {@link MAX_LEASE} points), counted by the limiter at
 * once (in Redis: one round trip) and spent from this process's memory until it runs out or the
 * window ends.
 *
 * Every point a call spends was counted first, so replicas together never admit past a budget.
 * In memory that is exact: this process holds every block, so the window is refused only once
 * all its points are spent. With Redis, what a replica still holds when a window ends is lost to
 * that window: the limit is at most one block per replica stricter than configured. Concurrent
 * calls that find the block spent wait for one request for the next, not one each.
 */
import type { RateCheck } from './rate-counters.ts';

/** The most points one block takes. */
export const MAX_LEASE = 1_000;

/** Blocks kept before the ended ones are swept (and, if still over, the oldest half dropped). */
const MAX_LEASES = 10_000;

/** How many points a block of a window with `budget` points takes; 1 is a round trip per call. */
export function leaseSize(budget: number, fraction: number): number {
  if (!(fraction > 0)) return 1;
  return Math.max(1, Math.min(MAX_LEASE, Math.floor(budget * fraction)));
}

/** What Redis answered to taking `points`: the window's count after them, and when it ends. */
export type Taken = { readonly consumed: number; readonly msBeforeNext: number };

export type LeaseStore = {
  /** Counts `points` in Redis for `check`'s subject (even past its budget). */
  take(check: RateCheck, points: number): Promise<Taken>;
  /** Gives `points` back to the subject's current window. */
  giveBack(check: RateCheck, points: number): Promise<void>;
};

type Lease = {
  readonly check: RateCheck;
  /** Points of the block not yet spent. */
  left: number;
  /** When the window the block belongs to ends (ms since the epoch). */
  until: number;
  /** The request for a block, while it is out. */
  asking: Promise<void> | undefined;
};

export class RateLeases {
  readonly #store: LeaseStore;
  readonly #leases = new Map<string, Lease>();

  constructor(store: LeaseStore) {
    this.#store = store;
  }

  /**
   * Spends one point of `check` (`id` names its subject and window) from its block, asking for a
   * block of `size` when there is none. Resolves undefined when the point was had, or the ms until
   * the window has one again; rejects with what Redis failed with.
   */
  async spend(id: string, check: RateCheck, size: number): Promise<number | undefined> {
    // Each turn waits for a block someone else asked for; a few turns at most in practice.
    for (let turn = 0; turn < 8; turn++) {
      const lease = this.#leases.get(id);
      if (lease?.asking) {
        await lease.asking.catch(() => undefined);
        continue;
      }
      if (lease && lease.left > 0 && lease.until > Date.now()) {
        lease.left -= 1;
        return undefined;
      }
      break;
    }
    return this.#ask(id, check, size);
  }

  /**
   * Spends one point of each of `ids`' blocks, if every one has a point left in a window that has
   * not ended and no request out; else spends none and returns false (the caller asks, one by one).
   */
  trySpendAll(ids: readonly string[]): boolean {
    const now = Date.now();
    for (const id of ids) {
      const lease = this.#leases.get(id);
      if (lease === undefined || lease.asking !== undefined || lease.left <= 0 || lease.until <= now) {
        return false;
      }
    }
    for (const id of ids) (this.#leases.get(id) as Lease).left -= 1;
    return true;
  }

  /** Gives every unspent point of a window that has not ended back to Redis (at close). */
  async release(): Promise<void> {
    const now = Date.now();
    const unspent = [...this.#leases.values()].filter((lease) => lease.left > 0 && lease.until > now);
    this.#leases.clear();
    await Promise.allSettled(unspent.map((lease) => this.#store.giveBack(lease.check, lease.left)));
  }

  async #ask(id: string, check: RateCheck, size: number): Promise<number | undefined> {
    const lease: Lease = { check, left: 0, until: 0, asking: undefined };
    let refusedFor: number | undefined;
    lease.asking = (async () => {
      const { consumed, msBeforeNext } = await this.#store.take(check, size);
      // Of the block, the points that were still within the budget.
      const granted = Math.max(0, Math.min(size, check.points - (consumed - size)));
      if (granted < size) void this.#store.giveBack(check, size - granted).catch(() => undefined);
      lease.until = Date.now() + msBeforeNext;
      if (granted === 0) refusedFor = Math.max(1, msBeforeNext);
      else lease.left = granted - 1;
    })();
    this.#remember(id, lease);
    try {
      await lease.asking;
    } catch (error) {
      if (this.#leases.get(id) === lease) this.#leases.delete(id);
      throw error;
    } finally {
      lease.asking = undefined;
    }
    return refusedFor;
  }

  #remember(id: string, lease: Lease): void {
    if (this.#leases.size >= MAX_LEASES && !this.#leases.has(id)) {
      const now = Date.now();
      for (const [key, held] of this.#leases) {
        if (held.asking === undefined && held.until <= now) this.#leases.delete(key);
      }
      let drop = this.#leases.size >= MAX_LEASES ? this.#leases.size / 2 : 0;
      for (const [key, held] of this.#leases) {
        if (drop-- <= 0) break;
        if (held.asking === undefined) this.#leases.delete(key);
      }
    }
    this.#leases.set(id, lease);
  }
}
