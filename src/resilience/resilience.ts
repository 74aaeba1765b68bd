/**
 * The resilience layer's state, kept across pipelines (a reload rebuilds the pipeline, not
 * this): the (server, tenant) breakers, each server's retry budget and stale copies, and the
 * running totals metrics read.
 */
import { BreakerBoard, type BreakerBoardOptions } from './breakers.ts';
import { RetryBudget } from './retry-budget.ts';
import { StaleCache } from './stale-cache.ts';

export type ResilienceTotals = {
  retries: number;
  retriesRefused: number;
  fallbacks: number;
  staleServed: number;
};

export class Resilience {
  readonly breakers: BreakerBoard;
  readonly #budgets = new Map<string, { ratio: number; budget: RetryBudget }>();
  readonly #stale = new Map<string, StaleCache>();
  readonly #now: () => number;
  /** Running totals by server, for metrics. */
  readonly totals = new Map<string, ResilienceTotals>();

  constructor(options: BreakerBoardOptions = {}) {
    this.breakers = new BreakerBoard(options);
    this.#now = options.now ?? Date.now;
  }

  /** The server's retry budget (a changed ratio starts a new one). */
  budgetOf(server: string, ratio: number): RetryBudget {
    const entry = this.#budgets.get(server);
    if (entry?.ratio === ratio) return entry.budget;
    const budget = new RetryBudget(ratio);
    this.#budgets.set(server, { ratio, budget });
    return budget;
  }

  staleOf(server: string): StaleCache {
    let cache = this.#stale.get(server);
    if (!cache) {
      cache = new StaleCache(this.#now);
      this.#stale.set(server, cache);
    }
    return cache;
  }

  totalsOf(server: string): ResilienceTotals {
    let totals = this.totals.get(server);
    if (!totals) {
      totals = { retries: 0, retriesRefused: 0, fallbacks: 0, staleServed: 0 };
      this.totals.set(server, totals);
    }
    return totals;
  }

  /** Forgets what is kept for servers no longer configured. */
  retain(servers: ReadonlySet<string>): void {
    this.breakers.retain(servers);
    for (const name of [...this.#stale.keys()]) if (!servers.has(name)) this.#stale.delete(name);
    for (const name of [...this.#budgets.keys()]) if (!servers.has(name)) this.#budgets.delete(name);
  }

  close(): void {
    this.breakers.close();
  }
}
