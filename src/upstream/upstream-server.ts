/**
 * One configured server and its processes, whatever its mode: one pool for everyone (`shared`),
 * one pool per tenant with that tenant's env and args (`tenant`), or one process per session
 * (`session`). Callers ask for "a process for this session" and never see the difference.
 *
 * The methods that serve a session take `poolTenant`: whose tenant pool serves it, the session's
 * own tenant by default, or the owner of a server shared with it by a grant (the router's route
 * says which). Shared and session-mode servers have no tenant pools and ignore it.
 */
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config, ServerConfig } from '../config/schema.ts';
import type { ServerOverride } from '../control/live-view.ts';
import { GatewayError } from '../errors.ts';
import { canonicalJson } from '../jsonrpc/canonical-json.ts';
import type { JSONRPCNotification } from '../jsonrpc/message.ts';
import { DedicatedProcesses } from './dedicated-processes.ts';
import { newProcessCounts, type ProcessCounts } from './process-counts.ts';
import {
  ProcessPool,
  type ProcessFactory,
  type ProcessReading,
  type SlotRequest,
  type StartBackoff,
} from './process-pool.ts';
import type { ProcessIsolation } from './process-isolation.ts';
import { rootsPolicy, type RootsPolicy } from './roots-policy.ts';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { findNamed, type CatalogKind, type ServerCatalog, type ServerProfile } from './server-catalog.ts';
import type { SessionLink } from './session-link.ts';
import type { AskedRequest } from './session-multiplexer.ts';
import type { ChildSpec } from './stdio-child.ts';
import { UpstreamProcess } from './upstream-process.ts';
import { callLimitsOf } from './call-limits.ts';
import {
  confinementOptions,
  ensureTenantDir,
  resolveSandboxCommand,
  rlimitWrapper,
  type SandboxTools,
} from './sandbox.ts';

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
  /** bwrap and prlimit as found at load, when some server asks for a sandbox (sandbox.ts). */
  readonly sandboxTools?: SandboxTools;
  sessionByKey(key: string): SessionLink | undefined;
  /** The open sessions of a tenant that may use the server. */
  sessionsOf(tenantId: string, server: string): Iterable<SessionLink>;
  /** Whether a session may be served by this tenant's pool of the server (its own, or shared with it). */
  mayServe(session: SessionLink, server: string, poolTenant: string): boolean;
  /** A tenant's override of this server (from the config or the store), read when its pool starts. */
  tenantOverride(tenantId: string, server: string): ServerOverride | undefined;
  onCatalogChanged(server: string, scope: CatalogScope, kind: CatalogKind): void;
  /**
   * A process read its catalog (at start, after list_changed): the pool's tenant, or undefined
   * for a process that serves every tenant. Not called for a probe's catalog.
   */
  onCatalogRead?(
    server: string,
    tenantId: string | undefined,
    catalog: ServerCatalog,
    cause: 'start' | 'list_changed',
  ): void;
  /** A server-to-client request one of its processes sent was answered by a session's client. */
  onAsked?(server: string, asked: AskedRequest): void;
  /** Running totals shared by every server of this name (a reload's replacement too), for metrics. */
  readonly counts?: ProcessCounts;
  /** Run over each line of a child's stderr before it is logged (the guard's secrets detector). */
  readonly scrubStderr?: (text: string) => string;
  /** The calling tenant's share of a saturated pool (its tier's weight and queueCap). */
  slotRequest?(tenantId: string): SlotRequest;
};

/** What one pool holds now, for metrics: read at scrape time. */
export type PoolReading = {
  /** The tenant of a tenant pool; undefined for a shared pool and for session mode. */
  readonly tenant: string | undefined;
  readonly ready: number;
  /** Processes spawned and not ready yet (starting), or for session mode unclaimed spares. */
  readonly starting: number;
  /** Session mode: processes dedicated to a session, and warm spares. */
  readonly dedicated?: number;
  readonly spares?: number;
  readonly inflight: number;
  readonly queued: number;
  readonly queueLimit: number;
};

/** One pool with its processes, for the admin API. */
export type PoolDetail = {
  /** The tenant of a tenant pool; null for a shared pool. */
  readonly tenant: string | null;
  /** Replaced or retired: finishing its calls before it stops. */
  readonly retired: boolean;
  readonly size: number;
  readonly ready: number;
  readonly inflight: number;
  readonly queued: number;
  readonly queueLimit: number;
  readonly processes: readonly ProcessReading[];
};

export type ServerStatus = {
  readonly mode: string;
  readonly pools: readonly { name: string; size: number; ready: number; waiting: number }[];
  readonly dedicated?: number;
  readonly spares?: number;
  /** Log messages a process shared across tenants sent on its own, dropped rather than leaked. */
  readonly droppedLogs: number;
};

export class UpstreamServer {
  readonly name: string;
  readonly settings: ServerConfig;
  readonly #options: UpstreamServerOptions;
  readonly #log: Logger;
  readonly #shared: ProcessPool | undefined;
  /** Tenant pools, each with the override it was started with: a changed override gets a new pool. */
  readonly #byTenant = new Map<string, { readonly pool: ProcessPool; readonly fingerprint: string }>();
  /** Pools replaced or retired, finishing their calls before they stop. */
  readonly #draining = new Set<ProcessPool>();
  readonly #dedicated: DedicatedProcesses | undefined;
  readonly #roots: RootsPolicy;
  readonly #counts: ProcessCounts;
  #droppedLogs = 0;
  /**
   * The catalog each pool tenant last read (the shared pool's under ''), kept while the server
   * is down so that a call to it can still be routed to a fallback or a stale copy. Bounded by
   * the tenants that reach the server.
   */
  readonly #lastCatalogs = new Map<string, ServerCatalog>();

  constructor(options: UpstreamServerOptions) {
    this.name = options.name;
    this.settings = options.config.servers[options.name] as ServerConfig;
    this.#options = options;
    this.#counts = options.counts ?? newProcessCounts();
    this.#log = options.log.child({ server: options.name });
    // Relative roots name what a relative path names to the child: a path under its cwd.
    this.#roots = rootsPolicy(this.settings.roots, resolve(this.settings.cwd ?? '.'));
    if (this.settings.mode === 'shared') this.#shared = this.#pool(undefined);
    if (this.settings.mode === 'session') {
      this.#dedicated = new DedicatedProcesses({
        name: this.name,
        config: this.settings.pool,
        create: this.#factory(undefined),
        log: this.#log,
        onCatalogChanged: (session, kind) => options.onCatalogChanged(this.name, { session }, kind),
        onClaimed: (process, session) => this.#onClaimed(process, session),
        counts: this.#counts,
      });
    }
  }

  get mode(): ServerConfig['mode'] {
    return this.settings.mode;
  }

  /** Whether the server's roots/list goes to the client of the session its process serves (`roots: session`). */
  get forwardsRoots(): boolean {
    return this.#roots.kind === 'session';
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

  /** Runs `work` on a process that may serve this session; in session mode this claims the session's process. */
  async use<T>(
    session: SessionLink,
    work: (process: UpstreamProcess) => Promise<T>,
    poolTenant: string = session.tenantId,
  ): Promise<T> {
    if (this.#dedicated) return work(await this.#dedicated.processFor(session));
    return this.#poolFor(poolTenant).use(work, this.#slotRequest(session.tenantId));
  }

  /** A process to keep per-process state on for this session (subscriptions); in session mode this claims one. */
  async representative(
    session: SessionLink,
    poolTenant: string = session.tenantId,
  ): Promise<UpstreamProcess> {
    if (this.#dedicated) return this.#dedicated.processFor(session);
    return this.#poolFor(poolTenant).representative(this.#slotRequest(session.tenantId));
  }

  /** What the session sees of the server (capabilities, instructions, catalog); never claims a process. */
  async profile(session: SessionLink, poolTenant: string = session.tenantId): Promise<ServerProfile> {
    if (this.#dedicated) return this.#dedicated.profile(session);
    return this.#poolFor(poolTenant).representative(this.#slotRequest(session.tenantId));
  }

  async catalog(session: SessionLink, poolTenant: string = session.tenantId): Promise<ServerCatalog> {
    const catalog = (await this.profile(session, poolTenant)).catalog;
    if (!this.#dedicated) this.#lastCatalogs.set(this.#shared ? '' : poolTenant, catalog);
    return catalog;
  }

  /** The catalog a pool last read, even if it has no process now (see #lastCatalogs). */
  lastKnownCatalog(poolTenant: string): ServerCatalog | undefined {
    return this.#lastCatalogs.get(this.#shared ? '' : poolTenant);
  }

  /** Whether the pool serving `poolTenant` has a ready process now (session mode: always true). */
  reachable(poolTenant: string): boolean {
    if (this.#dedicated) return true;
    if (this.#shared) return this.#shared.readyCount > 0;
    return (this.#byTenant.get(poolTenant)?.pool.readyCount ?? 0) > 0;
  }

  /** The crash-loop backoff of the pool serving `poolTenant`, if it is in one (never starts a pool). */
  startBackoff(poolTenant: string): StartBackoff | undefined {
    if (this.#shared) return this.#shared.startBackoff();
    return this.#byTenant.get(poolTenant)?.pool.startBackoff();
  }

  #slotRequest(tenantId: string): SlotRequest {
    return this.#options.slotRequest?.(tenantId) ?? { tenant: tenantId, weight: 1 };
  }

  /**
   * Every live process this session's requests may reach (for per-process settings such as log
   * level); in session mode the session's own process, if it has claimed one.
   */
  processesFor(session: SessionLink, poolTenant: string = session.tenantId): UpstreamProcess[] {
    if (this.#dedicated) {
      const own = this.#dedicated.claimed(session);
      return own ? [own] : [];
    }
    return this.#poolFor(poolTenant).processes();
  }

  /**
   * Forgets a closed session: ends its subscriptions and, in session mode, its process. With
   * `poolTenant`, only what it holds on that tenant's pools (a grant to it ended).
   */
  async release(session: SessionLink, poolTenant?: string): Promise<void> {
    if (this.#dedicated) {
      if (poolTenant === undefined) await this.#dedicated.release(session);
      return;
    }
    // Any pool may hold the session's subscriptions: the current one, or one still draining.
    const pools = this.#shared ? [this.#shared] : this.#pools();
    const processes = pools
      .flatMap((pool) => pool.processes())
      .filter((process) => poolTenant === undefined || process.tenantId === poolTenant);
    await Promise.allSettled(processes.map((process) => process.release(session)));
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
    const droppedLogs = this.#droppedLogs;
    if (!this.#dedicated) return { mode: this.mode, pools, droppedLogs };
    return {
      mode: this.mode,
      pools,
      dedicated: this.#dedicated.dedicatedCount,
      spares: this.#dedicated.spareCount,
      droppedLogs,
    };
  }

  /** Every pool (draining ones too) with its processes, for the admin API. */
  poolDetails(): PoolDetail[] {
    const { queue } = this.settings.pool;
    return this.#pools().map((pool) => ({
      tenant: pool.tenantId ?? null,
      retired: this.#draining.has(pool),
      size: pool.size,
      ready: pool.readyCount,
      inflight: pool.inflight,
      queued: pool.waiting,
      queueLimit: queue.max,
      processes: pool.processReadings(),
    }));
  }

  /** Restarts and crashes of this server's processes so far. */
  get restarts(): { readonly restarts: number; readonly crashed: number } {
    return { restarts: this.#counts.restarts, crashed: this.#counts.crashed };
  }

  /**
   * Drains the live pooled process with this pid, if it belongs to `tenant` (undefined: any
   * pool). False when there is none.
   */
  drainProcess(pid: number, tenant?: string): boolean {
    return this.#pools().some(
      (pool) => (tenant === undefined || pool.tenantId === tenant) && pool.drainProcess(pid),
    );
  }

  /** What each pool holds now (every pool, draining ones too), for metrics. */
  poolReadings(): PoolReading[] {
    const { queue } = this.settings.pool;
    const readings: PoolReading[] = this.#pools().map((pool) => ({
      tenant: pool.tenantId,
      ready: pool.readyCount,
      starting: pool.size - pool.readyCount,
      inflight: pool.inflight,
      queued: pool.waiting,
      queueLimit: queue.max,
    }));
    if (this.#dedicated) {
      const processes = this.#dedicated.processes();
      readings.push({
        tenant: undefined,
        ready: processes.filter((process) => process.ready).length,
        starting: this.#dedicated.startingCount,
        dedicated: this.#dedicated.dedicatedCount,
        spares: this.#dedicated.spareCount,
        inflight: processes.reduce((sum, process) => sum + process.inflight, 0),
        queued: 0,
        queueLimit: 0,
      });
    }
    return readings;
  }

  /** Log messages dropped because the process that sent them is shared across tenants. */
  droppedLogs(): number {
    return this.#droppedLogs;
  }

  /** Server-initiated messages no session could be found for, over this server's live processes. */
  unattributable(): number {
    return this.#liveProcesses().reduce((sum, process) => sum + process.stats.unattributable, 0);
  }

  /** Process ids of every live process of this server, for operators and for tests that check none outlives them. */
  pids(): number[] {
    return this.#liveProcesses().flatMap((process) => (process.pid === undefined ? [] : [process.pid]));
  }

  /**
   * Every live process and the tenant it is charged to wholly (cost attribution): a tenant
   * pool's tenant, a dedicated process's session's tenant; undefined for a shared process (split
   * by in-flight time) and for a spare no session has claimed yet (charged once claimed).
   */
  costReadings(): { pid: number; tenantId: string | undefined; startedAt: number }[] {
    return this.#liveProcesses().flatMap((process) =>
      process.pid === undefined
        ? []
        : [
            {
              pid: process.pid,
              tenantId: process.tenantId ?? process.dedicatedTenant,
              startedAt: process.startedAt,
            },
          ],
    );
  }

  /**
   * The catalogs the server's started processes hold now, without starting any: for the
   * decisions that must be made at once (which server a listed item came from, a tool's
   * outputSchema). Empty until a process has started.
   */
  /**
   * A tool's definition as the pool serving `poolTenant` last listed it (almost always there),
   * else as the first live process that lists it; without walking every process when it can.
   */
  knownTool(poolTenant: string, name: string): Tool | undefined {
    const last = this.lastKnownCatalog(poolTenant);
    const found = last && findNamed(last.tools, name);
    if (found) return found;
    for (const catalog of this.knownCatalogs()) {
      const live = findNamed(catalog.tools, name);
      if (live) return live;
    }
    return undefined;
  }

  knownCatalogs(): ServerCatalog[] {
    return this.#liveProcesses().flatMap((process) => (process.ready ? [process.catalog] : []));
  }

  #liveProcesses(): UpstreamProcess[] {
    return [...this.#pools().flatMap((pool) => pool.processes()), ...(this.#dedicated?.processes() ?? [])];
  }

  /** The shared pool or the tenant pools, whichever this server's mode has. */
  #pools(): ProcessPool[] {
    return [
      ...(this.#shared ? [this.#shared] : []),
      ...[...this.#byTenant.values()].map((entry) => entry.pool),
      ...this.#draining,
    ];
  }

  /**
   * The tenant's pool, started with the tenant's current override. When the override changed
   * (a stored config was registered, updated or deleted), new requests go to a new pool and the
   * old one drains: its calls in flight finish, then its processes stop.
   */
  #poolFor(tenantId: string): ProcessPool {
    if (this.#shared) return this.#shared;
    const fingerprint = canonicalJson(this.#options.tenantOverride(tenantId, this.name) ?? null);
    const entry = this.#byTenant.get(tenantId);
    if (entry?.fingerprint === fingerprint) return entry.pool;
    if (entry) this.#drainPool(entry.pool, this.#drainTimeout);
    const pool = this.#pool(tenantId);
    this.#byTenant.set(tenantId, { pool, fingerprint });
    void pool.warm();
    return pool;
  }

  /** Stops a tenant's pool (the tenant was suspended or deleted), letting its calls finish. */
  retireTenant(tenantId: string): void {
    const entry = this.#byTenant.get(tenantId);
    if (!entry) return;
    this.#byTenant.delete(tenantId);
    this.#lastCatalogs.delete(tenantId);
    this.#drainPool(entry.pool, this.#drainTimeout);
  }

  /** Tenant pools whose override changed since they started move to a new pool now. */
  refreshTenantPools(): void {
    for (const tenantId of [...this.#byTenant.keys()]) {
      const fingerprint = canonicalJson(this.#options.tenantOverride(tenantId, this.name) ?? null);
      if (this.#byTenant.get(tenantId)?.fingerprint !== fingerprint) this.#poolFor(tenantId);
    }
  }

  /**
   * Stops taking work and stops once what is in flight has finished, or after `timeoutMs`:
   * the server was changed or removed by a reload. Session-mode processes stay with their
   * sessions until those end or the time runs out.
   */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pools = this.#pools();
    this.#byTenant.clear();
    await Promise.allSettled([
      ...pools.map((pool) => pool.drain(Math.max(0, deadline - Date.now()))),
      this.#dedicated?.drain(Math.max(0, deadline - Date.now())),
    ]);
  }

  /**
   * Starts the server once with a tenant's proposed override and reads its catalog, within the
   * startup timeout; the process is stopped either way. Rejects with the startup error and the
   * last lines the child wrote to stderr (already redacted of the values it was given).
   */
  async probe(tenantId: string, override: ServerOverride, log: Logger): Promise<void> {
    // Not observed: a probe's catalog is no pool's, so pinning must not see it.
    const create = this.#factory(tenantId, override, log, false);
    const process = create({ onExit: () => {}, onCatalogChanged: () => {} });
    try {
      await process.start();
    } finally {
      await process.stop();
    }
  }

  #drainPool(pool: ProcessPool, timeoutMs: number): void {
    this.#draining.add(pool);
    pool
      .drain(timeoutMs)
      .catch((error: unknown) => this.#log.error({ err: error }, 'failed to drain a pool'))
      .finally(() => this.#draining.delete(pool));
  }

  get #drainTimeout(): number {
    return this.#options.config.gateway.drainTimeout;
  }

  #pool(tenantId: string | undefined): ProcessPool {
    return new ProcessPool({
      name: tenantId === undefined ? this.name : `${this.name}@${tenantId}`,
      ...(tenantId === undefined ? {} : { tenantId }),
      config: this.settings.pool,
      create: this.#factory(tenantId),
      log: this.#log.child(tenantId === undefined ? {} : { tenant: tenantId }),
      onCatalogChanged: (kind) =>
        this.#options.onCatalogChanged(this.name, tenantId === undefined ? {} : { tenantId }, kind),
      counts: this.#counts,
    });
  }

  #factory(
    tenantId: string | undefined,
    override = tenantId === undefined ? undefined : this.#options.tenantOverride(tenantId, this.name),
    logTo: Logger = this.#log,
    observed = true,
  ): ProcessFactory {
    const base = this.#childSpec(override);
    const log = logTo.child(tenantId === undefined ? {} : { tenant: tenantId });
    const options = this.#options;
    const settings = this.settings;
    return (hooks) =>
      new UpstreamProcess(
        {
          server: this.name,
          tenantId,
          // Resolved for each process: a tenant's directory is (re)created before every spawn.
          child: this.#sandboxed(base, tenantId),
          limits: (method, params) => callLimitsOf(this.name, settings, method, params),
          metaPrefix: this.#options.config.gateway.metaPrefix,
          injectContext: this.settings.injectContext,
          roots: this.#roots,
          timeouts: this.settings.timeouts,
          log,
          gatewayVersion: this.#options.gatewayVersion,
          counts: this.#counts,
        },
        {
          ...hooks,
          sessionByKey: (key) => this.#sessionByKey(key, tenantId),
          onStrayLog: (notification) => this.#onStrayLog(tenantId, notification),
          ...(options.onAsked ? { onAsked: (asked) => options.onAsked?.(this.name, asked) } : {}),
          ...(observed && options.onCatalogRead
            ? {
                onCatalogRead: (_process, catalog, cause) =>
                  options.onCatalogRead?.(this.name, tenantId, catalog, cause),
              }
            : {}),
        },
      );
  }

  /** A newly claimed dedicated process takes on its session's log level, and hears of its roots. */
  async #onClaimed(process: UpstreamProcess, session: SessionLink): Promise<void> {
    if (session.logLevel !== undefined) {
      await process
        .setLogLevel(session.logLevel)
        .catch((error: unknown) => this.#log.debug({ err: error }, 'could not set the log level'));
    }
    // A spare asked for roots before its client existed and was told there were none.
    if (this.forwardsRoots && session.clientCapabilities?.roots) await process.refreshRoots();
  }

  /**
   * A log message a process sent on its own, not during any one session's call. A tenant's
   * process may tell that tenant's sessions that asked for logs (each gets what its level
   * passes); a process shared across tenants must tell none, since its logs may speak of any
   * tenant's work, so the message is dropped and counted.
   */
  #onStrayLog(tenantId: string | undefined, notification: JSONRPCNotification): void {
    if (tenantId === undefined) {
      this.#droppedLogs++;
      this.#counts.droppedLogs++;
      this.#log.debug('dropped a log message from a process shared across tenants');
      return;
    }
    for (const session of this.#options.sessionsOf(tenantId, this.name)) {
      if (session.logLevel !== undefined) session.deliver(notification, undefined);
    }
  }

  /**
   * A session-aware server may only name sessions it could be serving: in a tenant pool, the
   * sessions of that tenant and of tenants it shares the server with.
   */
  #sessionByKey(key: string, tenantId: string | undefined): SessionLink | undefined {
    const session = this.#options.sessionByKey(key);
    if (!session || tenantId === undefined || session.tenantId === tenantId) return session;
    return this.#options.mayServe(session, this.name, tenantId) ? session : undefined;
  }

  /**
   * The child spec confined by the server's `sandbox:`, for one process of `tenantId`'s pool:
   * the command resolved outside (the sandbox cannot see the PATH's directories), its install
   * bound read-only, the tenant's directory created and mounted.
   */
  #sandboxed(child: ChildSpec, tenantId: string | undefined): ChildSpec {
    const sandbox = this.settings.sandbox;
    if (!sandbox) return child;
    const tools = this.#options.sandboxTools;
    if (!tools)
      throw new GatewayError(
        'CONFIG_INVALID',
        `servers.${this.name}.sandbox needs bwrap, which was not found at load`,
      );
    const tenantDir =
      sandbox.tenantDir !== undefined && tenantId !== undefined
        ? this.#tenantDir(sandbox.tenantDir, tenantId)
        : undefined;
    const resolved = resolveSandboxCommand(child.command, child.env.PATH, resolve(child.cwd ?? '.'));
    const mounts = [
      ...sandbox.mounts,
      ...(tenantDir === undefined ? [] : [{ path: tenantDir, writable: true }]),
    ];
    const cwd = child.cwd === undefined ? (tenantDir ?? '/') : resolve(child.cwd);
    return {
      ...child,
      command: resolved.command,
      env: {
        ...child.env,
        // The gateway's own TMPDIR and HOME would not exist inside; /tmp is the sandbox's own.
        ...Object.fromEntries(
          ['TMPDIR', 'HOME'].flatMap((name) =>
            child.env[name] === this.#options.env[name] ? [[name, '/tmp']] : [],
          ),
        ),
        ...(tenantDir === undefined ? {} : { MCPLANE_TENANT_DIR: tenantDir }),
      },
      sandbox: {
        bwrap: tools.bwrap,
        options: confinementOptions({
          network: sandbox.network,
          mounts,
          installs: resolved.installs,
          cwd,
          rlimits: sandbox.rlimits,
        }),
        wrapper: rlimitWrapper(sandbox.rlimits, tools.prlimit),
        rlimits: sandbox.rlimits,
      },
    };
  }

  /**
   * The tenant's directory, created 0700. A failure is logged, not thrown: this runs where a
   * process is being made, and bwrap then fails to start it for want of the directory, which the
   * pool handles (and backs off from) like any failed start.
   */
  #tenantDir(template: string, tenantId: string): string {
    try {
      return ensureTenantDir(template, tenantId);
    } catch (error) {
      this.#log.error(
        { err: error, tenant: tenantId },
        'could not create the tenant directory of a sandboxed server',
      );
      return template.replaceAll('{tenant}', tenantId);
    }
  }

  /** The child's command line and environment: allowlisted gateway env, then the server's, then the tenant's. */
  #childSpec(override: ServerOverride | undefined): ChildSpec {
    const { gateway } = this.#options.config;
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
      ...(this.#options.scrubStderr === undefined ? {} : { scrubStderr: this.#options.scrubStderr }),
      // What this server was given on purpose may be a secret; the basics every child gets are not.
      secrets: [
        ...this.settings.envPassthrough.flatMap((name) => this.#options.env[name] ?? []),
        ...Object.values(this.settings.env),
        ...Object.values(override?.env ?? {}),
      ],
    };
  }
}
