/**
 * `session` mode: a session gets a process of its own, which no other session ever uses.
 *
 * A session claims its process on the first request that needs one (a call, a read, a
 * subscription), not when it opens: clients list on connect and often leave sessions behind,
 * and claiming at `initialize` let one tenant's idle sessions hold every process. Until it
 * claims, a session sees the server through the profile of a fresh, unclaimed process (its
 * capabilities, instructions and catalog), which is what its own process will start with.
 *
 * A claim takes a warm spare (already spawned and initialized), and a replacement spare is
 * started behind it; a spare that dies is replaced at once. A dedicated process with nothing in
 * flight for `pool.idleTimeout` is released: the session stays, and its next request claims a
 * fresh process (whatever the server kept for that session is gone, as after a crash).
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { PoolConfig } from '../config/schema.ts';
import type { ProcessCounts } from './process-counts.ts';
import type { ProcessFactory } from './process-pool.ts';
import type { CatalogKind, ServerProfile } from './server-catalog.ts';
import type { SessionLink } from './session-link.ts';
import type { UpstreamProcess } from './upstream-process.ts';

const BACKOFF_START_MS = 100;
const BACKOFF_MAX_MS = 30_000;

export class DedicatedProcesses {
  readonly name: string;
  readonly #config: PoolConfig;
  readonly #create: ProcessFactory;
  readonly #log: Logger;
  readonly #onCatalogChanged: (session: SessionLink, kind: CatalogKind) => void;
  readonly #onClaimed: (process: UpstreamProcess, session: SessionLink) => Promise<void>;
  readonly #counts: ProcessCounts | undefined;
  readonly #spares = new Set<UpstreamProcess>();
  readonly #startingSpares = new Set<Promise<void>>();
  readonly #bySession = new Map<SessionLink, Promise<UpstreamProcess>>();
  readonly #owner = new Map<UpstreamProcess, SessionLink>();
  /** Claimed processes that have started, by session. */
  readonly #claimed = new Map<SessionLink, UpstreamProcess>();
  readonly #sweep: NodeJS.Timeout;
  /** The last fresh process's profile, for when no spare is up. */
  #profile: ServerProfile | undefined;
  #probe: Promise<ServerProfile> | undefined;
  /** Starts that failed in a row, and the last one's error until the next try is due. */
  #failures = 0;
  #lastFailure: { readonly error: GatewayError; readonly retryAt: number } | undefined;
  #refillTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: {
    name: string;
    config: PoolConfig;
    create: ProcessFactory;
    log: Logger;
    onCatalogChanged: (session: SessionLink, kind: CatalogKind) => void;
    /** Runs before a newly claimed process serves its session (to apply the session's settings). */
    onClaimed: (process: UpstreamProcess, session: SessionLink) => Promise<void>;
    /** The server's running totals; replacing a spare that died adds a restart. */
    counts?: ProcessCounts;
  }) {
    this.name = options.name;
    this.#config = options.config;
    this.#create = options.create;
    this.#log = options.log;
    this.#onCatalogChanged = options.onCatalogChanged;
    this.#onClaimed = options.onClaimed;
    this.#counts = options.counts;
    const every = Math.max(1_000, Math.min(options.config.idleTimeout / 2, 30_000));
    this.#sweep = setInterval(() => this.#releaseIdle(), every);
    this.#sweep.unref();
  }

  /** Fills the spares up to `pool.min`. */
  async warm(): Promise<void> {
    this.#refill();
    await Promise.allSettled([...this.#startingSpares]);
  }

  get spareCount(): number {
    return this.#spares.size;
  }

  /** Spares being started. */
  get startingCount(): number {
    return this.#startingSpares.size;
  }

  get dedicatedCount(): number {
    return this.#owner.size;
  }

  /** Spares and dedicated processes alike. */
  processes(): UpstreamProcess[] {
    return [...this.#spares, ...this.#owner.keys()];
  }

  /** The session's own process if it has claimed one; never claims. */
  claimed(session: SessionLink): UpstreamProcess | undefined {
    return this.#claimed.get(session);
  }

  /**
   * What the session sees of the server, without claiming a process: its own process once it
   * has one, else a spare's, else the last fresh process's. With none ever started (`min: 0`),
   * one is started to read it and then stopped.
   */
  async profile(session: SessionLink): Promise<ServerProfile> {
    const own = this.#claimed.get(session);
    if (own) return own;
    for (const spare of this.#spares) if (spare.ready) return spare;
    return this.#profile ?? this.#probeProfile();
  }

  /** The session's own process: its existing one, or a newly claimed one (a spare, else a new one). */
  processFor(session: SessionLink): Promise<UpstreamProcess> {
    const existing = this.#bySession.get(session);
    if (existing) return existing;
    const assigned = this.#assign(session);
    this.#bySession.set(session, assigned);
    // A failed claim is not remembered, so the session's next request tries again.
    assigned.catch(() => {
      if (this.#bySession.get(session) === assigned) this.#bySession.delete(session);
    });
    return assigned;
  }

  /** Stops the session's process, if it has one; it is never handed to anyone else. */
  async release(session: SessionLink): Promise<void> {
    const assigned = this.#bySession.get(session);
    this.#bySession.delete(session);
    this.#claimed.delete(session);
    if (!assigned) return;
    const process = await assigned.catch(() => undefined);
    if (!process) return;
    // A claim still starting when release began has recorded itself since.
    if (this.#claimed.get(session) === process) this.#claimed.delete(session);
    this.#owner.delete(process);
    await process.stop();
  }

  /**
   * The server was changed or removed: no more spares, and each session keeps its process until
   * the session ends (and releases it) or `timeoutMs` passes; then every process stops.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // Closed to new claims and refills; release still works, so ending sessions free their processes.
    this.#closed = true;
    for (const spare of this.#spares) void spare.stop();
    this.#spares.clear();
    while (this.#owner.size > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25).unref());
    }
    await this.close();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#refillTimer);
    await Promise.allSettled([...this.#startingSpares, this.#probe]);
    const all = [...this.#spares, ...this.#owner.keys()];
    this.#spares.clear();
    this.#owner.clear();
    this.#claimed.clear();
    this.#bySession.clear();
    await Promise.allSettled(all.map((process) => process.stop()));
  }

  async #assign(session: SessionLink): Promise<UpstreamProcess> {
    if (this.#closed) throw new GatewayError('GATEWAY_CLOSING');
    if (this.#owner.size >= this.#config.max) throw this.#exhausted();
    let process = this.#takeSpare();
    if (process) {
      this.#claim(process, session);
    } else {
      const failing = this.#backingOff();
      if (failing) throw failing;
      process = this.#spawn();
      this.#claim(process, session);
      try {
        await process.start();
      } catch (error) {
        this.#owner.delete(process);
        this.#failed(error);
        throw error;
      }
      this.#started();
      this.#remember(process);
    }
    this.#claimed.set(session, process);
    // Spawning is synchronous work (tens of ms under load): start the replacement spare after
    // this session has its process, not before.
    setImmediate(() => this.#refill());
    await this.#onClaimed(process, session);
    return process;
  }

  #exhausted(): GatewayError {
    const seconds = Math.round(this.#config.idleTimeout / 1000);
    const idle = seconds >= 60 && seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`;
    return new GatewayError(
      'DEDICATED_PROCESSES_EXHAUSTED',
      `Server ${this.name} has no process free for this session: all ${this.#config.max} are dedicated to other sessions. ` +
        `Retry later (a session's process is released after ${idle} idle, or when the session closes), ` +
        `or ask an operator to raise servers.${this.name}.pool.max.`,
    );
  }

  #claim(process: UpstreamProcess, session: SessionLink): void {
    process.dedicate(session);
    this.#owner.set(process, session);
  }

  #takeSpare(): UpstreamProcess | undefined {
    for (const spare of this.#spares) {
      this.#spares.delete(spare);
      if (spare.ready) return spare;
    }
    return undefined;
  }

  /** Keeps what a fresh process offers, before any session has touched it. */
  #remember(process: UpstreamProcess): ServerProfile {
    this.#profile = {
      server: process.server,
      capabilities: process.capabilities,
      initializeResult: process.initializeResult,
      catalog: process.catalog,
    };
    return this.#profile;
  }

  #probeProfile(): Promise<ServerProfile> {
    if (this.#closed) return Promise.reject(new GatewayError('GATEWAY_CLOSING'));
    // A server that keeps failing to start is not started again for every list.
    const failing = this.#backingOff();
    if (failing) return Promise.reject(failing);
    this.#probe ??= (async () => {
      const process = this.#spawn();
      try {
        await process.start();
        this.#started();
        return this.#remember(process);
      } catch (error) {
        this.#failed(error);
        throw error;
      } finally {
        this.#probe = undefined;
        await process.stop();
      }
    })();
    return this.#probe;
  }

  #refill(): void {
    const wanted = Math.min(this.#config.min, this.#config.max - this.#owner.size);
    while (
      !this.#closed &&
      this.#refillTimer === undefined &&
      this.#spares.size + this.#startingSpares.size < wanted
    ) {
      const process = this.#spawn();
      const started = process
        .start()
        .then(
          () => {
            this.#started();
            if (this.#closed) return process.stop();
            this.#remember(process);
            if (process.ready) this.#spares.add(process);
            // It died between starting and here; once it no longer counts as starting, replace it.
            else setImmediate(() => this.#refill());
          },
          (error: unknown) => {
            this.#failed(error);
            this.#log.error({ err: error, failures: this.#failures }, 'spare failed to start');
            this.#refillLater();
          },
        )
        .finally(() => this.#startingSpares.delete(started));
      this.#startingSpares.add(started);
    }
  }

  /** After a failed start, tries again with exponential backoff, so readiness recovers by itself. */
  #refillLater(): void {
    if (this.#closed || this.#refillTimer !== undefined) return;
    const delay = Math.max(0, (this.#lastFailure?.retryAt ?? 0) - Date.now());
    this.#refillTimer = setTimeout(() => {
      this.#refillTimer = undefined;
      this.#refill();
    }, delay);
    this.#refillTimer.unref();
  }

  #started(): void {
    this.#failures = 0;
    this.#lastFailure = undefined;
  }

  #failed(error: unknown): void {
    this.#failures++;
    const delay = Math.min(BACKOFF_START_MS * 2 ** (this.#failures - 1), BACKOFF_MAX_MS);
    const failure =
      error instanceof GatewayError
        ? error
        : new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${this.name} failed to start`);
    this.#lastFailure = { error: failure, retryAt: Date.now() + delay };
  }

  /** While a failed start backs off, what would start another process fails fast with its error. */
  #backingOff(): GatewayError | undefined {
    const failure = this.#lastFailure;
    return failure && Date.now() < failure.retryAt ? failure.error : undefined;
  }

  #spawn(): UpstreamProcess {
    return this.#create({
      onExit: (process) => this.#onExit(process),
      onCatalogChanged: (process, kind) => {
        const owner = this.#owner.get(process);
        if (owner) this.#onCatalogChanged(owner, kind);
        else if (this.#spares.has(process)) this.#remember(process);
      },
    });
  }

  /** Dedicated processes with nothing in flight (and no subscription) for `idleTimeout` are released. */
  #releaseIdle(): void {
    const now = Date.now();
    for (const [process, session] of this.#owner) {
      if (!process.ready || process.inflight > 0 || process.hasSubscriptions) continue;
      if (now - process.idleSince < this.#config.idleTimeout) continue;
      this.#log.info({ pid: process.pid }, 'released an idle dedicated process; its session stays open');
      this.release(session).catch((error: unknown) =>
        this.#log.error({ err: error }, 'failed to release an idle dedicated process'),
      );
    }
  }

  /**
   * A dedicated process that dies is forgotten, so the session's next request gets a fresh
   * process (its server-side state is gone, as it would be after any crash). A spare that dies
   * is replaced at once, so readiness does not wait for the next session.
   */
  #onExit(process: UpstreamProcess): void {
    if (this.#spares.delete(process)) {
      if (!this.#closed && this.#counts) this.#counts.restarts++;
      this.#refill();
    }
    const owner = this.#owner.get(process);
    if (!owner) return;
    this.#owner.delete(process);
    if (this.#claimed.get(owner) === process) this.#claimed.delete(owner);
    this.#bySession.delete(owner);
  }
}
