/**
 * `session` mode: every client session gets a process of its own, which no other session ever
 * uses. Opening a session takes a warm spare (already spawned and initialized) and a replacement
 * spare is started behind it, so a new session does not wait for a spawn.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import type { PoolConfig } from '../config/schema.ts';
import type { ProcessFactory } from './process-pool.ts';
import type { SessionLink } from './session-link.ts';
import type { CatalogKind } from './server-catalog.ts';
import type { UpstreamProcess } from './upstream-process.ts';

export class DedicatedProcesses {
  readonly name: string;
  readonly #config: PoolConfig;
  readonly #create: ProcessFactory;
  readonly #log: Logger;
  readonly #onCatalogChanged: (session: SessionLink, kind: CatalogKind) => void;
  readonly #spares = new Set<UpstreamProcess>();
  readonly #startingSpares = new Set<Promise<void>>();
  readonly #bySession = new Map<SessionLink, Promise<UpstreamProcess>>();
  readonly #owner = new Map<UpstreamProcess, SessionLink>();
  #closed = false;

  constructor(options: {
    name: string;
    config: PoolConfig;
    create: ProcessFactory;
    log: Logger;
    onCatalogChanged: (session: SessionLink, kind: CatalogKind) => void;
  }) {
    this.name = options.name;
    this.#config = options.config;
    this.#create = options.create;
    this.#log = options.log;
    this.#onCatalogChanged = options.onCatalogChanged;
  }

  /** Fills the spares up to `pool.min`. */
  async warm(): Promise<void> {
    this.#refill();
    await Promise.allSettled([...this.#startingSpares]);
  }

  get spareCount(): number {
    return this.#spares.size;
  }

  get dedicatedCount(): number {
    return this.#owner.size;
  }

  /** Spares and dedicated processes alike. */
  processes(): UpstreamProcess[] {
    return [...this.#spares, ...this.#owner.keys()];
  }

  /** The session's own process: its existing one, a warm spare, or (no spare left) a new one. */
  processFor(session: SessionLink): Promise<UpstreamProcess> {
    const existing = this.#bySession.get(session);
    if (existing) return existing;
    const assigned = this.#assign(session);
    this.#bySession.set(session, assigned);
    // A failed assignment is not remembered, so the session's next request tries again.
    assigned.catch(() => this.#bySession.delete(session));
    return assigned;
  }

  /** Stops the session's process; it is never handed to anyone else. */
  async release(session: SessionLink): Promise<void> {
    const assigned = this.#bySession.get(session);
    this.#bySession.delete(session);
    if (!assigned) return;
    const process = await assigned.catch(() => undefined);
    if (!process) return;
    this.#owner.delete(process);
    await process.stop();
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#startingSpares]);
    const all = [...this.#spares, ...this.#owner.keys()];
    this.#spares.clear();
    this.#owner.clear();
    this.#bySession.clear();
    await Promise.allSettled(all.map((process) => process.stop()));
  }

  async #assign(session: SessionLink): Promise<UpstreamProcess> {
    if (this.#closed) throw new GatewayError('GATEWAY_CLOSING');
    if (this.#owner.size >= this.#config.max) {
      throw new GatewayError(
        'POOL_QUEUE_FULL',
        `Server ${this.name} has no process left for a new session (max ${this.#config.max})`,
      );
    }
    let process = this.#takeSpare();
    if (!process) {
      process = this.#spawn();
      this.#claim(process, session);
      try {
        await process.start();
      } catch (error) {
        this.#owner.delete(process);
        throw error;
      }
    } else {
      this.#claim(process, session);
    }
    // Spawning is synchronous work (tens of ms under load): start the replacement spare after
    // this session has its process, not before.
    setImmediate(() => this.#refill());
    return process;
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

  #refill(): void {
    const wanted = Math.min(this.#config.min, this.#config.max - this.#owner.size);
    while (!this.#closed && this.#spares.size + this.#startingSpares.size < wanted) {
      const process = this.#spawn();
      const started = process
        .start()
        .then(
          () => {
            if (this.#closed) return process.stop();
            this.#spares.add(process);
          },
          (error: unknown) => this.#log.error({ err: error }, 'spare failed to start'),
        )
        .finally(() => this.#startingSpares.delete(started));
      this.#startingSpares.add(started);
    }
  }

  #spawn(): UpstreamProcess {
    return this.#create({
      onExit: (process) => this.#onExit(process),
      onCatalogChanged: (process, kind) => {
        const owner = this.#owner.get(process);
        if (owner) this.#onCatalogChanged(owner, kind);
      },
    });
  }

  /**
   * A dedicated process that dies is forgotten, so the session's next request gets a fresh
   * process (its server-side state is gone, as it would be after any crash).
   */
  #onExit(process: UpstreamProcess): void {
    this.#spares.delete(process);
    const owner = this.#owner.get(process);
    if (!owner) return;
    this.#owner.delete(process);
    this.#bySession.delete(owner);
  }
}
