/**
 * A pool of interchangeable processes of one server (for everyone, or for one tenant).
 *
 * Unlike a classic object pool, a process is not lent to one borrower: it multiplexes up to
 * `maxInflight` requests at once. A request takes a slot on the least-loaded ready process; when
 * every slot is taken the pool grows up to `max`, and past that the request waits in a bounded
 * queue with a deadline, served in weighted fair order across tenants or in arrival order
 * (`pool.scheduling`, see wait-queue.ts). (This is why the pool is ours rather than generic-pool, whose
 * acquire/release model lends each resource to exactly one borrower.)
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { PoolConfig } from '../config/schema.ts';
import type { ChildExit } from './stdio-child.ts';
import type { UpstreamProcess } from './upstream-process.ts';
import type { CatalogKind } from './server-catalog.ts';
import type { ProcessCounts } from './process-counts.ts';
import { newWaitQueue, type WaitClass, type WaitQueue } from './wait-queue.ts';

export type ProcessFactory = (hooks: {
  onExit(process: UpstreamProcess, exit: ChildExit): void;
  onCatalogChanged(process: UpstreamProcess, kind: CatalogKind): void;
}) => UpstreamProcess;

type Waiter = {
  readonly resolve: (process: UpstreamProcess) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
  readonly waitClass: WaitClass;
};

/** Who asks for a slot: the scheduler's class, and how many of its calls may wait at once. */
export type SlotRequest = WaitClass & {
  /** The tenant's tier `queueCap`; undefined: only the pool's own `queue.max` bounds it. */
  readonly queueCap?: number;
};

/**
 * The pool's crash-loop state while it has no process and its last start failed: how many
 * starts failed in a row, why, and when it will try again. The circuit breakers read it so
 * that they never probe before the pool would start a process (src/resilience/breakers.ts).
 */
export type StartBackoff = {
  readonly failures: number;
  readonly error: GatewayError;
  /** Epoch ms of the next start attempt. */
  readonly nextStartAt: number;
};

const ANONYMOUS: SlotRequest = Object.freeze({ tenant: '', weight: 1 });

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
  readonly #waiters: WaitQueue<Waiter>;
  readonly #evictTimer: NodeJS.Timeout;
  #failures = 0;
  #lastStartError: GatewayError | undefined;
  /** When the last start failed (epoch ms); with #failures it sets the next start's time. */
  #lastFailureAt = 0;
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
    this.#waiters = newWaitQueue<Waiter>(options.config.scheduling);
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
    return this.#waiters.size;
  }

  /**
   * The crash-loop backoff while the pool has no process and its last start failed; undefined
   * while it has a process or its last start succeeded.
   */
  startBackoff(): StartBackoff | undefined {
    if (this.#leases.size > 0 || this.#failures === 0 || !this.#lastStartError) return undefined;
    return { failures: this.#failures, error: this.#lastStartError, nextStartAt: this.#nextStartAt() };
  }

  /** A ready process to read the catalog from, starting one if there is none. */
  async representative(request: SlotRequest = ANONYMOUS): Promise<UpstreamProcess> {
    for (const process of this.#leases.keys()) if (process.ready) return process;
    const process = await this.#acquire(request);
    this.#release(process);
    return process;
  }

  /** Runs `work` on a process slot, waiting for one if every slot is busy. */
  async use<T>(work: (process: UpstreamProcess) => Promise<T>, request: SlotRequest = ANONYMOUS): Promise<T> {
    const process = await this.#acquire(request);
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
    for (const waiter of this.#waiters.drain()) {
      clearTimeout(waiter.timer);
      waiter.reject(new GatewayError('GATEWAY_CLOSING'));
    }
    await Promise.allSettled(this.#starting);
    await Promise.allSettled([...this.#leases.keys()].map((process) => process.stop()));
  }

  #acquire(request: SlotRequest): Promise<UpstreamProcess> {
    if (this.#closed) return Promise.reject(new GatewayError('GATEWAY_CLOSING'));
    const free = this.#leastLoaded();
    if (free && this.#waiters.size === 0) {
      return Promise.resolve(this.#lend(free));
    }
    // A server that keeps failing to start fails fast while it backs off, rather than holding
    // every caller (and every aggregated list) until the queue deadline. Once the backoff has
    // run out, a caller waits for the start attempt instead and learns how it went: that is
    // the circuit breaker's half-open probe (src/resilience/breakers.ts).
    const backoff = this.startBackoff();
    if (backoff && Date.now() < backoff.nextStartAt) {
      if (this.#starting.size === 0) void this.#grow();
      return Promise.reject(backoff.error);
    }
    if (this.#waiters.size >= this.#config.queue.max) {
      return Promise.reject(
        new GatewayError(
          'POOL_QUEUE_FULL',
          `Server ${this.name} is at capacity: ${this.#waiters.size} requests are waiting`,
        ),
      );
    }
    if (request.queueCap !== undefined && this.#waiters.countOf(request.tenant) >= request.queueCap) {
      return Promise.reject(
        new GatewayError(
          'TENANT_QUEUE_FULL',
          `Server ${this.name} is at capacity, and this tenant already has ${request.queueCap} calls waiting for it, its tier's queueCap`,
        ),
      );
    }
    const waitClass: WaitClass = { tenant: request.tenant, weight: request.weight };
    const waiting = new Promise<UpstreamProcess>((resolve, reject) => {
      const timer = setTimeout(() => this.#expire(waiter), this.#config.queue.timeout);
      timer.unref();
      const waiter: Waiter = { resolve, reject, timer, waitClass };
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
    while (this.#waiters.size > 0) {
      const process = this.#leastLoaded();
      if (!process) break;
      const waiter = this.#waiters.shift() as Waiter;
      clearTimeout(waiter.timer);
      waiter.resolve(this.#lend(process));
    }
    if (this.size < this.#config.max && this.#needsAnotherStart()) void this.#grow();
  }

  #expire(waiter: Waiter): void {
    if (!this.#waiters.remove(waiter)) return;
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
    if (this.#failures > 0) await sleep(Math.max(0, this.#nextStartAt() - Date.now()));
    if (this.#closed) return undefined;
    const process = this.#create({
      onExit: (exited) => this.#onExit(exited),
      onCatalogChanged: (_process, kind) => this.#onCatalogChanged(kind),
    });
    try {
      await process.start();
    } catch (error) {
      this.#failures++;
      this.#lastFailureAt = Date.now();
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
    for (const waiter of this.#waiters.drain()) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
  }

  #onExit(process: UpstreamProcess): void {
    const wasMember = this.#leases.delete(process);
    this.#retiring.delete(process);
    if (!wasMember || this.#closed) return;
    if (this.#deficit() > 0 || this.#waiters.size > 0) {
      if (this.#counts) this.#counts.restarts++;
      void this.#grow();
    }
  }

  #retire(process: UpstreamProcess, why: string): void {
    this.#retiring.add(process);
    this.#log.info({ pid: process.pid, why }, 'retiring process');
    if (this.#deficit() > 0 || this.#waiters.size > 0) void this.#grow();
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

  /** When the next start may begin: the last failure plus an exponential step. */
  #nextStartAt(): number {
    if (this.#failures === 0) return 0;
    return this.#lastFailureAt + Math.min(BACKOFF_START_MS * 2 ** (this.#failures - 1), BACKOFF_MAX_MS);
  }

  /** Whether the processes already starting cannot take every waiter between them. */
  #needsAnotherStart(): boolean {
    return this.#starting.size * this.#config.maxInflight < this.#waiters.size;
  }

  /** Processes missing to reach `min`, counting those being started. */
  #deficit(): number {
    return Math.max(0, this.#config.min - (this.#leases.size - this.#retiring.size) - this.#starting.size);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
