/**
 * A pool of interchangeable processes of one server (for everyone, or for one tenant).
 *
 * Unlike a classic object pool, a process is not lent to one borrower: it multiplexes up to
 * `maxInflight` requests at once. A request takes a slot on the least-loaded ready process; when
 * every slot is taken the pool grows up to `max`, and past that the request waits in a bounded
 * FIFO queue with a deadline. (This is why the pool is ours rather than generic-pool, whose
 * acquire/release model lends each resource to exactly one borrower.)
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { PoolConfig } from '../config/schema.ts';
import type { ChildExit } from './stdio-child.ts';
import type { UpstreamProcess } from './upstream-process.ts';
import type { CatalogKind } from './server-catalog.ts';
import type { ProcessCounts } from './process-counts.ts';

export type ProcessFactory = (hooks: {
  onExit(process: UpstreamProcess, exit: ChildExit): void;
  onCatalogChanged(process: UpstreamProcess, kind: CatalogKind): void;
}) => UpstreamProcess;

type Waiter = {
  readonly resolve: (process: UpstreamProcess) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
};

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 30_000;
const DRAIN_POLL_MS = 25;

/** One process of a pool, for the admin API. */
export type ProcessReading = {
  readonly pid: number | null;
  readonly ready: boolean;
  readonly inflight: number;
  readonly served: number;
  readonly draining: boolean;
};

export class ProcessPool {
  readonly name: string;
  /** The tenant of a tenant pool; undefined for a pool shared by everyone. */
  readonly tenantId: string | undefined;
  readonly #config: PoolConfig;
  readonly #create: ProcessFactory;
  readonly #log: Logger;
  readonly #onCatalogChanged: (kind: CatalogKind) => void;
  readonly #counts: ProcessCounts | undefined;
  /** Every live process with the slots it has lent. */
  readonly #leases = new Map<UpstreamProcess, number>();
  readonly #starting = new Set<Promise<UpstreamProcess | undefined>>();
  readonly #retiring = new Set<UpstreamProcess>();
  readonly #waiters: Waiter[] = [];
  readonly #evictTimer: NodeJS.Timeout;
  #failures = 0;
  #lastStartError: GatewayError | undefined;
  #closed = false;

  constructor(options: {
    name: string;
    tenantId?: string;
    config: PoolConfig;
    create: ProcessFactory;
    log: Logger;
    onCatalogChanged: (kind: CatalogKind) => void;
    /** The server's running totals; the pool adds its restarts. */
    counts?: ProcessCounts;
  }) {
    this.name = options.name;
    this.tenantId = options.tenantId;
    this.#config = options.config;
    this.#create = options.create;
    this.#log = options.log;
    this.#onCatalogChanged = options.onCatalogChanged;
    this.#counts = options.counts;
    const every = Math.max(1_000, Math.min(options.config.idleTimeout / 2, 30_000));
    this.#evictTimer = setInterval(() => this.#evictIdle(), every);
    this.#evictTimer.unref();
  }

  /** Starts the `min` warm processes; resolves when they have started or failed. */
  async warm(): Promise<void> {
    await Promise.all(Array.from({ length: this.#deficit() }, () => this.#grow()));
  }

  /** Processes alive in the pool, ready or not. */
  get size(): number {
    return this.#leases.size + this.#starting.size;
  }

  get readyCount(): number {
    let count = 0;
    for (const process of this.#leases.keys()) if (process.ready) count++;
    return count;
  }

  get waiting(): number {
    return this.#waiters.length;
  }

  /** A ready process to read the catalog from, starting one if there is none. */
  async representative(): Promise<UpstreamProcess> {
    for (const process of this.#leases.keys()) if (process.ready) return process;
    const process = await this.#acquire();
    this.#release(process);
    return process;
  }

  /** Runs `work` on a process slot, waiting for one if every slot is busy. */
  async use<T>(work: (process: UpstreamProcess) => Promise<T>): Promise<T> {
    const process = await this.#acquire();
    try {
      return await work(process);
    } finally {
      this.#release(process);
    }
  }

  /** All live processes, for per-process state (log level) that every process should share. */
  processes(): UpstreamProcess[] {
    return [...this.#leases.keys()];
  }

  /** Each live process as an operator sees it: the slots it lends and whether it is retiring. */
  processReadings(): ProcessReading[] {
    return [...this.#leases].map(([process, leases]) => ({
      pid: process.pid ?? null,
      ready: process.ready,
      inflight: leases,
      served: process.served,
      draining: this.#retiring.has(process),
    }));
  }

  /**
   * Drains one process (an operator's request): it takes no new calls, a replacement starts if
   * the pool would fall below `min`, and it stops once its calls in flight have finished.
   * False when no live process of this pool has the pid.
   */
  drainProcess(pid: number): boolean {
    for (const process of this.#leases.keys()) {
      if (process.pid !== pid) continue;
      if (!this.#retiring.has(process)) this.#retire(process, 'drained by an admin');
      return true;
    }
    return false;
  }

  /** Calls in flight over every process of the pool. */
  get inflight(): number {
    let count = 0;
    for (const lent of this.#leases.values()) count += lent;
    return count;
  }

  /**
   * Closes once nothing is in flight, or after `timeoutMs` (then what is left is cancelled).
   * The caller has already stopped sending the pool work: a reload or a tenant's new config
   * routes new requests to another pool.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await sleep(DRAIN_POLL_MS);
    if (this.inflight > 0)
      this.#log.warn({ inflight: this.inflight }, 'drain timeout: stopping a pool with calls in flight');
    await this.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#evictTimer);
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(new GatewayError('GATEWAY_CLOSING'));
    }
    await Promise.allSettled(this.#starting);
    await Promise.allSettled([...this.#leases.keys()].map((process) => process.stop()));
  }

  #acquire(): Promise<UpstreamProcess> {
    if (this.#closed) return Promise.reject(new GatewayError('GATEWAY_CLOSING'));
    const free = this.#leastLoaded();
    if (free && this.#waiters.length === 0) {
      return Promise.resolve(this.#lend(free));
    }
    // A server that keeps failing to start fails fast while it backs off, rather than holding
    // every caller (and every aggregated list) until the queue deadline.
    if (this.#leases.size === 0 && this.#failures > 0 && this.#lastStartError) {
      if (this.#starting.size === 0) void this.#grow();
      return Promise.reject(this.#lastStartError);
    }
    if (this.#waiters.length >= this.#config.queue.max) {
      return Promise.reject(
        new GatewayError(
          'POOL_QUEUE_FULL',
          `Server ${this.name} is at capacity: ${this.#waiters.length} requests are waiting`,
        ),
      );
    }
    const waiting = new Promise<UpstreamProcess>((resolve, reject) => {
      const timer = setTimeout(() => this.#expire(waiter), this.#config.queue.timeout);
      timer.unref();
      const waiter: Waiter = { resolve, reject, timer };
      this.#waiters.push(waiter);
    });
    if (this.size < this.#config.max && this.#needsAnotherStart()) void this.#grow();
    return waiting;
  }

  #release(process: UpstreamProcess): void {
    const leases = (this.#leases.get(process) ?? 1) - 1;
    if (!this.#leases.has(process)) return;
    this.#leases.set(process, leases);
    if (
      this.#config.maxRequests > 0 &&
      process.served >= this.#config.maxRequests &&
      !this.#retiring.has(process)
    ) {
      this.#retire(process, 'served its maxRequests');
    } else if (this.#retiring.has(process) && leases === 0) {
      this.#stopRetired(process);
    }
    this.#serveWaiters();
  }

  /** Takes one slot of the process for a caller. */
  #lend(process: UpstreamProcess): UpstreamProcess {
    this.#leases.set(process, (this.#leases.get(process) ?? 0) + 1);
    return process;
  }

  #leastLoaded(): UpstreamProcess | undefined {
    let best: UpstreamProcess | undefined;
    let bestLeases = this.#config.maxInflight;
    for (const [process, leases] of this.#leases) {
      if (leases < bestLeases && process.ready && !this.#retiring.has(process)) {
        best = process;
        bestLeases = leases;
      }
    }
    return best;
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const process = this.#leastLoaded();
      if (!process) break;
      const waiter = this.#waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#lend(process));
    }
    if (this.size < this.#config.max && this.#needsAnotherStart()) void this.#grow();
  }

  #expire(waiter: Waiter): void {
    const index = this.#waiters.indexOf(waiter);
    if (index === -1) return;
    this.#waiters.splice(index, 1);
    const reason = this.#lastStartError && this.readyCount === 0 ? `: ${this.#lastStartError.message}` : '';
    waiter.reject(
      new GatewayError(
        'POOL_QUEUE_TIMEOUT',
        `No process of server ${this.name} was free within ${this.#config.queue.timeout} ms${reason}`,
      ),
    );
  }

  /** Starts one process; on failure backs off before the pool tries again. */
  #grow(): Promise<UpstreamProcess | undefined> {
    const started = this.#startOne().finally(() => this.#starting.delete(started));
    this.#starting.add(started);
    return started;
  }

  async #startOne(): Promise<UpstreamProcess | undefined> {
    if (this.#failures > 0)
      await sleep(Math.min(BACKOFF_START_MS * 2 ** (this.#failures - 1), BACKOFF_MAX_MS));
    if (this.#closed) return undefined;
    const process = this.#create({
      onExit: (exited) => this.#onExit(exited),
      onCatalogChanged: (_process, kind) => this.#onCatalogChanged(kind),
    });
    try {
      await process.start();
    } catch (error) {
      this.#failures++;
      this.#lastStartError = error instanceof GatewayError ? error : new GatewayError('UPSTREAM_UNAVAILABLE');
      this.#log.error({ err: error, failures: this.#failures }, 'server failed to start');
      // With no process left to serve them, waiters learn why at once rather than at their deadline.
      if (this.#leases.size === 0 && this.#starting.size <= 1) this.#failWaiters(this.#lastStartError);
      return undefined;
    }
    this.#failures = 0;
    if (this.#closed) {
      await process.stop();
      return undefined;
    }
    this.#leases.set(process, 0);
    this.#serveWaiters();
    return process;
  }

  #failWaiters(error: GatewayError): void {
    for (const waiter of this.#waiters.splice(0)) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  #onExit(process: UpstreamProcess): void {
    const wasMember = this.#leases.delete(process);
    this.#retiring.delete(process);
    if (!wasMember || this.#closed) return;
    if (this.#deficit() > 0 || this.#waiters.length > 0) {
      if (this.#counts) this.#counts.restarts++;
      void this.#grow();
    }
  }

  #retire(process: UpstreamProcess, why: string): void {
    this.#retiring.add(process);
    this.#log.info({ pid: process.pid, why }, 'retiring process');
    if (this.#deficit() > 0 || this.#waiters.length > 0) void this.#grow();
    if ((this.#leases.get(process) ?? 0) === 0) this.#stopRetired(process);
  }

  #stopRetired(process: UpstreamProcess): void {
    this.#leases.delete(process);
    this.#retiring.delete(process);
    process
      .stop()
      .catch((error: unknown) => this.#log.error({ err: error }, 'failed to stop a retired process'));
  }

  #evictIdle(): void {
    const now = Date.now();
    for (const [process, leases] of this.#leases) {
      if (this.#leases.size - this.#retiring.size <= this.#config.min) return;
      if (leases === 0 && process.inflight === 0 && now - process.idleSince >= this.#config.idleTimeout) {
        this.#retire(process, 'idle');
      }
    }
  }

  /** Whether the processes already starting cannot take every waiter between them. */
  #needsAnotherStart(): boolean {
    return this.#starting.size * this.#config.maxInflight < this.#waiters.length;
  }

  /** Processes missing to reach `min`, counting those being started. */
  #deficit(): number {
    return Math.max(0, this.#config.min - (this.#leases.size - this.#retiring.size) - this.#starting.size);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
