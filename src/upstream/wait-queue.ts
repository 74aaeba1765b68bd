/**
 * The order in which requests waiting for a pool's slots are served. `fifo` serves them in
 * arrival order; `fair` is weighted fair queuing across tenants: each tenant's waiters are
 * served in its own arrival order, and tenants take turns in proportion to their weights
 * (their tier's `weight`), so a tenant that floods a shared pool waits behind its own calls
 * rather than in front of everyone else's.
 *
 * The fair order is start-time fair queuing (Goyal et al., 1996): a waiter of tenant t gets the
 * virtual finish tag `max(V, last_t) + 1/weight_t`, where V is the tag of the waiter last
 * served and last_t the tag of t's previous waiter; the smallest tag is served first. A tenant
 * that was idle starts at V, so idleness earns no credit to burst with later.
 */

/** Who is waiting, for the scheduler: the calling tenant and its share. */
export type WaitClass = {
  readonly tenant: string;
  /** Its tier's weight; larger is served more often under contention. */
  readonly weight: number;
};

export type WaitQueue<T extends { readonly waitClass: WaitClass }> = {
  readonly size: number;
  push(item: T): void;
  /** The next item to serve, removed; undefined when empty. */
  shift(): T | undefined;
  /** Removes an item (it timed out); false when it was not queued. */
  remove(item: T): boolean;
  /** Removes and returns everything, in serving order. */
  drain(): T[];
  /** Items of one tenant waiting now. */
  countOf(tenant: string): number;
};

export function newWaitQueue<T extends { readonly waitClass: WaitClass }>(
  scheduling: 'fair' | 'fifo',
): WaitQueue<T> {
  return scheduling === 'fair' ? new FairQueue<T>() : new FifoQueue<T>();
}

class FifoQueue<T extends { readonly waitClass: WaitClass }> implements WaitQueue<T> {
  readonly #items: T[] = [];
  readonly #counts = new Map<string, number>();

  get size(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    bump(this.#counts, item.waitClass.tenant, 1);
  }

  shift(): T | undefined {
    const item = this.#items.shift();
    if (item) bump(this.#counts, item.waitClass.tenant, -1);
    return item;
  }

  remove(item: T): boolean {
    const index = this.#items.indexOf(item);
    if (index === -1) return false;
    this.#items.splice(index, 1);
    bump(this.#counts, item.waitClass.tenant, -1);
    return true;
  }

  drain(): T[] {
    this.#counts.clear();
    return this.#items.splice(0);
  }

  countOf(tenant: string): number {
    return this.#counts.get(tenant) ?? 0;
  }
}

type Tagged<T> = { readonly item: T; readonly finish: number };

class FairQueue<T extends { readonly waitClass: WaitClass }> implements WaitQueue<T> {
  /** Each tenant's waiters in arrival order, with their finish tags (increasing within a tenant). */
  readonly #byTenant = new Map<string, Tagged<T>[]>();
  /** The last finish tag handed to each tenant with waiters; forgotten when its queue empties. */
  readonly #lastFinish = new Map<string, number>();
  #virtualTime = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    const { tenant, weight } = item.waitClass;
    const start = Math.max(this.#virtualTime, this.#lastFinish.get(tenant) ?? 0);
    const finish = start + 1 / (weight > 0 ? weight : 1);
    this.#lastFinish.set(tenant, finish);
    let queue = this.#byTenant.get(tenant);
    if (!queue) {
      queue = [];
      this.#byTenant.set(tenant, queue);
    }
    queue.push({ item, finish });
    this.#size++;
  }

  shift(): T | undefined {
    // Tenants with waiters are few (bounded by the pool's queue), so a scan beats a heap here.
    let best: { tenant: string; head: Tagged<T> } | undefined;
    for (const [tenant, queue] of this.#byTenant) {
      const head = queue[0];
      if (head && (best === undefined || head.finish < best.head.finish)) best = { tenant, head };
    }
    if (!best) return undefined;
    this.#virtualTime = best.head.finish;
    this.#take(best.tenant, 0);
    return best.head.item;
  }

  remove(item: T): boolean {
    const tenant = item.waitClass.tenant;
    const index = this.#byTenant.get(tenant)?.findIndex((entry) => entry.item === item) ?? -1;
    if (index === -1) return false;
    this.#take(tenant, index);
    return true;
  }

  drain(): T[] {
    const items: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) items.push(item);
    return items;
  }

  countOf(tenant: string): number {
    return this.#byTenant.get(tenant)?.length ?? 0;
  }

  #take(tenant: string, index: number): void {
    const queue = this.#byTenant.get(tenant) as Tagged<T>[];
    queue.splice(index, 1);
    this.#size--;
    if (queue.length === 0) {
      this.#byTenant.delete(tenant);
      this.#lastFinish.delete(tenant);
    }
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const next = (counts.get(key) ?? 0) + by;
  if (next > 0) counts.set(key, next);
  else counts.delete(key);
}
