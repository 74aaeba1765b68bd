/**
 * One configured server and its processes, whatever its mode: one pool for everyone (`shared`),
 * one pool per tenant with that tenant's env and args (`tenant`), or one process per session
 * (`session`). Callers ask for "a process for this session" and never see the difference.
 */
import type { Logger } from 'pino';
import type { Config, ServerConfig } from '../config/schema.ts';
import { DedicatedProcesses } from './dedicated-processes.ts';
import { ProcessPool, type ProcessFactory } from './process-pool.ts';
import type { CatalogKind, ServerCatalog } from './server-catalog.ts';
import type { ProcessIsolation } from './process-isolation.ts';
import type { SessionLink } from './session-link.ts';
import type { ChildSpec } from './stdio-child.ts';
import { UpstreamProcess } from './upstream-process.ts';

/** Who must hear that a server's catalog changed. */
export type CatalogScope = { readonly tenantId?: string; readonly session?: SessionLink };

export type UpstreamServerOptions = {
  readonly name: string;
  readonly config: Config;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly log: Logger;
  readonly gatewayVersion: string;
  /** How children are started (bubblewrap or not), decided once for the gateway. */
  readonly isolation?: ProcessIsolation;
  sessionByKey(key: string): SessionLink | undefined;
  onCatalogChanged(server: string, scope: CatalogScope, kind: CatalogKind): void;
};

export type ServerStatus = {
  readonly mode: string;
  readonly pools: readonly { name: string; size: number; ready: number; waiting: number }[];
  readonly dedicated?: number;
  readonly spares?: number;
};

export class UpstreamServer {
  readonly name: string;
  readonly settings: ServerConfig;
  readonly #options: UpstreamServerOptions;
  readonly #log: Logger;
  readonly #shared: ProcessPool | undefined;
  readonly #byTenant = new Map<string, ProcessPool>();
  readonly #dedicated: DedicatedProcesses | undefined;

  constructor(options: UpstreamServerOptions) {
    this.name = options.name;
    this.settings = options.config.servers[options.name] as ServerConfig;
    this.#options = options;
    this.#log = options.log.child({ server: options.name });
    if (this.settings.mode === 'shared') this.#shared = this.#pool(undefined);
    if (this.settings.mode === 'session') {
      this.#dedicated = new DedicatedProcesses({
        name: this.name,
        config: this.settings.pool,
        create: this.#factory(undefined),
        log: this.#log,
        onCatalogChanged: (session, kind) => options.onCatalogChanged(this.name, { session }, kind),
      });
    }
  }

  get mode(): ServerConfig['mode'] {
    return this.settings.mode;
  }

  /** Starts the warm processes (tenant pools start on a tenant's first use). */
  async warm(): Promise<void> {
    await (this.#shared ?? this.#dedicated)?.warm();
  }

  /** Whether the server has a started process to serve from (for readiness). */
  get warmed(): boolean {
    if (this.#shared) return this.#shared.readyCount >= Math.min(1, this.settings.pool.min);
    if (this.#dedicated) return this.#dedicated.spareCount >= Math.min(1, this.settings.pool.min);
    return true;
  }

  /** Runs `work` on a process that may serve this session. */
  async use<T>(session: SessionLink, work: (process: UpstreamProcess) => Promise<T>): Promise<T> {
    if (this.#dedicated) return work(await this.#dedicated.processFor(session));
    return this.#poolFor(session.tenantId).use(work);
  }

  /** A process whose catalog and capabilities stand for what this session sees. */
  async representative(session: SessionLink): Promise<UpstreamProcess> {
    if (this.#dedicated) return this.#dedicated.processFor(session);
    return this.#poolFor(session.tenantId).representative();
  }

  async catalog(session: SessionLink): Promise<ServerCatalog> {
    return (await this.representative(session)).catalog;
  }

  /** Every live process this session's requests may reach (for per-process settings such as log level). */
  async processesFor(session: SessionLink): Promise<UpstreamProcess[]> {
    if (this.#dedicated) return [await this.#dedicated.processFor(session)];
    return this.#poolFor(session.tenantId).processes();
  }

  /** Forgets a closed session: ends its subscriptions and, in session mode, its process. */
  async release(session: SessionLink): Promise<void> {
    if (this.#dedicated) {
      await this.#dedicated.release(session);
      return;
    }
    const pool = this.#shared ?? this.#byTenant.get(session.tenantId);
    await Promise.allSettled((pool?.processes() ?? []).map((process) => process.release(session)));
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#dedicated?.close(), ...this.#pools().map((pool) => pool.close())]);
  }

  /** Counts for health and metrics. */
  status(): ServerStatus {
    const pools = this.#pools().map((pool) => ({
      name: pool.name,
      size: pool.size,
      ready: pool.readyCount,
      waiting: pool.waiting,
    }));
    if (!this.#dedicated) return { mode: this.mode, pools };
    return {
      mode: this.mode,
      pools,
      dedicated: this.#dedicated.dedicatedCount,
      spares: this.#dedicated.spareCount,
    };
  }

  /** Server-initiated messages no session could be found for, over this server's live processes. */
  unattributable(): number {
    return this.#liveProcesses().reduce((sum, process) => sum + process.stats.unattributable, 0);
  }

  /** Process ids of every live process of this server, for operators and for tests that check none outlives them. */
  pids(): number[] {
    return this.#liveProcesses().flatMap((process) => (process.pid === undefined ? [] : [process.pid]));
  }

  #liveProcesses(): UpstreamProcess[] {
    return [...this.#pools().flatMap((pool) => pool.processes()), ...(this.#dedicated?.processes() ?? [])];
  }

  /** The shared pool or the tenant pools, whichever this server's mode has. */
  #pools(): ProcessPool[] {
    return [...(this.#shared ? [this.#shared] : []), ...this.#byTenant.values()];
  }

  #poolFor(tenantId: string): ProcessPool {
    if (this.#shared) return this.#shared;
    let pool = this.#byTenant.get(tenantId);
    if (!pool) {
      pool = this.#pool(tenantId);
      this.#byTenant.set(tenantId, pool);
      void pool.warm();
    }
    return pool;
  }

  #pool(tenantId: string | undefined): ProcessPool {
    return new ProcessPool({
      name: tenantId === undefined ? this.name : `${this.name}@${tenantId}`,
      config: this.settings.pool,
      create: this.#factory(tenantId),
      log: this.#log.child(tenantId === undefined ? {} : { tenant: tenantId }),
      onCatalogChanged: (kind) =>
        this.#options.onCatalogChanged(this.name, tenantId === undefined ? {} : { tenantId }, kind),
    });
  }

  #factory(tenantId: string | undefined): ProcessFactory {
    const child = this.#childSpec(tenantId);
    const log = this.#log.child(tenantId === undefined ? {} : { tenant: tenantId });
    return (hooks) =>
      new UpstreamProcess(
        {
          server: this.name,
          tenantId,
          child,
          metaPrefix: this.#options.config.gateway.metaPrefix,
          injectContext: this.settings.injectContext,
          timeouts: this.settings.timeouts,
          log,
          gatewayVersion: this.#options.gatewayVersion,
        },
        { ...hooks, sessionByKey: (key) => this.#sessionByKey(key, tenantId) },
      );
  }

  /**
   * A session-aware server may only name sessions it could be serving: in a tenant pool, the
   * sessions of that tenant.
   */
  #sessionByKey(key: string, tenantId: string | undefined): SessionLink | undefined {
    const session = this.#options.sessionByKey(key);
    if (!session || (tenantId !== undefined && session.tenantId !== tenantId)) return undefined;
    return session;
  }

  /** The child's command line and environment: allowlisted gateway env, then the server's, then the tenant's. */
  #childSpec(tenantId: string | undefined): ChildSpec {
    const { gateway, tenants } = this.#options.config;
    const override = tenantId === undefined ? undefined : tenants[tenantId]?.overrides[this.name];
    const env: Record<string, string> = {};
    for (const name of [...gateway.envAllowlist, ...this.settings.envPassthrough]) {
      const value = this.#options.env[name];
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, this.settings.env, override?.env);
    return {
      command: this.settings.command,
      args: override?.args ?? this.settings.args,
      env,
      cwd: this.settings.cwd,
      maxMessageBytes: gateway.maxMessageSize,
      ...(this.#options.isolation === undefined ? {} : { isolation: this.#options.isolation }),
      // What this server was given on purpose may be a secret; the basics every child gets are not.
      secrets: [
        ...this.settings.envPassthrough.flatMap((name) => this.#options.env[name] ?? []),
        ...Object.values(this.settings.env),
        ...Object.values(override?.env ?? {}),
      ],
    };
  }
}
