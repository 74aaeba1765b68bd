/**
 * The composition root: builds the servers, the router and the session registry from a loaded
 * config, and wires the order a request travels. Transports (stdio, HTTP) sit on top: they
 * authenticate, call {@link Gateway.connect} and pass messages.
 */
import { Writable } from 'node:stream';
import type { Tracer } from '@opentelemetry/api';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { mcplaneServer } from './admin/mcplane-server.ts';
import type { ManagementDeps } from './admin/tenant-management.ts';
import type { Config } from './config/schema.ts';
import {
  buildLiveView,
  EMPTY_SNAPSHOT,
  type LiveView,
  type ServerOverride,
  type StoreSnapshot,
} from './control/live-view.ts';
import { GrantExpiry } from './control/grant-expiry.ts';
import { GrantUses } from './control/grant-uses.ts';
import { planReload, type ReloadPlan } from './control/reload-plan.ts';
import { announceSharing } from './control/sharing-announcements.ts';
import { GatewayError } from './errors.ts';
import { createAuthenticator, type Authenticator } from './identity/credentials.ts';
import type { Principal } from './identity/principal.ts';
import { StoredKeyCache } from './identity/stored-keys.ts';
import { createLogger, type Logger } from './log.ts';
import type { ToolFinding } from './store/records.ts';
import type { Store } from './store/store.ts';
import type { AuditLog } from './audit/audit-log.ts';
import { auditReader, type AuditReader } from './audit/audit-reader.ts';
import { AuditRecorder, type AdminChange } from './audit/audit-recorder.ts';
import { auditStage } from './audit/audit-stage.ts';
import { meterStage } from './guard/meter-stage.ts';
import { Meter } from './metering/meter.ts';
import { registerUsageMetrics } from './metering/usage-metrics.ts';
import { admitStage } from './guard/admit-stage.ts';
import { AnomalyDetection } from './guard/anomaly/anomaly-detection.ts';
import type { AnomalyFlags } from './guard/anomaly/anomaly-detector.ts';
import { anomalyOf } from './guard/anomaly-stage.ts';
import { authorizeStage } from './guard/authorize-stage.ts';
import { findContext, forwardAttached } from './guard/call-context.ts';
import { loadCallGuarding, openAudit, type CallGuarding } from './guard/call-guarding.ts';
import { GuardProfiles } from './guard/guard-profiles.ts';
import { InputGuardStage } from './guard/input-guard-stage.ts';
import { OutputGuardStage } from './guard/output-guard-stage.ts';
import {
  composePipeline,
  type Call,
  type Face,
  type Finding,
  type Next,
  type Stage,
} from './guard/pipeline.ts';
import { memoryPinLedger } from './guard/pinning/pin-ledger.ts';
import { ToolPinning } from './guard/pinning/tool-pinning.ts';
import { pinningStage } from './guard/pinning-stage.ts';
import { compilePolicies } from './guard/policy/load-policies.ts';
import type { PolicySet } from './guard/policy/policy-set.ts';
import { RecentUsage } from './guard/recent-usage.ts';
import { secretScrubber } from './guard/secret-scrubber.ts';
import { resilienceStage } from './guard/resilience-stage.ts';
import { routeStage } from './guard/route-stage.ts';
import { tierOf } from './config/tiers-schema.ts';
import type { BreakerView } from './resilience/breakers.ts';
import { Resilience } from './resilience/resilience.ts';
import { sharedUseStage } from './guard/shared-use-stage.ts';
import { principalKey, usageStage } from './guard/usage-stage.ts';
import { limitStage } from './guard/limit-stage.ts';
import { AuthFailures } from './limits/auth-failures.ts';
import { CallLimits } from './limits/call-limits.ts';
import { countingBackend } from './limits/counting-backend.ts';
import { NO_LIMIT_EVENTS } from './limits/limit-events.ts';
import { Router } from './router/router.ts';
import { ClientSession, type SessionCore } from './session/client-session.ts';
import { mostVerbose, type LogLevel } from './session/log-level.ts';
import { resolveProcessIsolation } from './upstream/process-isolation.ts';
import { resolveSandboxing, type SandboxTools } from './upstream/sandbox.ts';
import type { CatalogKind } from './upstream/server-catalog.ts';
import { newProcessCounts, type ProcessCounts } from './upstream/process-counts.ts';
import { UpstreamServer, type CatalogScope, type ServerStatus } from './upstream/upstream-server.ts';
import { CallTelemetry } from './telemetry/call-telemetry.ts';
import { GatewayMetrics } from './telemetry/gateway-metrics.ts';
import { VERSION } from './version.ts';

export type GatewayOptions = {
  /** Where children's allowlisted variables come from; the process environment by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  /** Start warm processes before resolving (default true). */
  readonly warm?: boolean;
  /** The durable store: its tenants, keys and tenant server configs join the config's. */
  readonly store?: Store;
  /** Policies and guard profiles; by default none (allow all) and the config's guards. */
  readonly guarding?: CallGuarding;
  /** Where audit records go; none by default. */
  readonly audit?: AuditLog;
  /** Anomaly detection; by default built from `gateway.anomaly` (tests pass one with a clock). */
  readonly anomaly?: AnomalyDetection;
  /** The config file, named when a config-managed tenant refuses a change. */
  readonly configPath?: string;
  /** The tracer of a started OpenTelemetry SDK (telemetry/tracing.ts); no spans without one. */
  readonly tracer?: Tracer;
  /** The clock monthly quotas run on (tests move it across a month's end); the system's by default. */
  readonly now?: () => Date;
};

export type GatewayStatus = {
  readonly sessions: number;
  /** Each server's pools and its circuit breakers, one per tenant that called it lately. */
  readonly servers: Record<string, ServerStatus & { readonly breakers: readonly BreakerView[] }>;
};

export class Gateway {
  readonly log: Logger;
  readonly store: Store | undefined;
  #view: LiveView;
  /** When {@link #view} was built: what its grants meant to sessions then. */
  #viewBuiltAt = Date.now();
  /** The store's part of the view, kept to rebuild the view when the config reloads. */
  #snapshot: StoreSnapshot;
  /** Rebuilds the view when the earliest grant in it expires. */
  readonly #expiry = new GrantExpiry(() => this.#applyView(this.#buildView(this.config, this.#snapshot)));
  readonly #grantUses: GrantUses | undefined;
  readonly #servers = new Map<string, UpstreamServer>();
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #isolation: ReturnType<typeof resolveProcessIsolation>;
  /** bwrap and prlimit for sandboxed servers, checked at every load (start and reload). */
  #sandboxTools: SandboxTools | undefined;
  readonly #keys: StoredKeyCache | undefined;
  #authenticator: Authenticator;
  #unwatchStore: (() => void) | undefined;
  #refreshing: Promise<void> = Promise.resolve();
  #guarding: CallGuarding;
  #pipeline: Next;
  readonly #audit: { readonly log: AuditLog; readonly recorder: AuditRecorder } | undefined;
  #auditReader: AuditReader | undefined;
  readonly #usage = new RecentUsage();
  readonly #meter: Meter | undefined;
  readonly #anomaly: AnomalyDetection;
  /** Breakers, retry budgets and stale copies: kept across reloads, which rebuild the pipeline. */
  readonly #resilience = new Resilience();
  readonly #pinning: ToolPinning;
  readonly #router: Router;
  readonly #sessions = new Map<string, ClientSession>();
  readonly #openByTenant = new Map<string, number>();
  readonly #openByPrincipal = new Map<string, number>();
  readonly #core: SessionCore;
  /** Each server name's running totals, kept across reloads so that counters never go down. */
  readonly #processCounts = new Map<string, ProcessCounts>();
  readonly #metrics: GatewayMetrics | undefined;
  readonly #telemetry: CallTelemetry;
  /** Where rate-limit and quota counts are shared, when `gateway.redis.url` is set. */
  readonly #redis: Redis | undefined;
  readonly #limits: CallLimits;
  readonly #authFailures: AuthFailures;
  /** What a child prints to stderr passes the guard's secrets detector before it is logged. */
  readonly #scrubStderr = secretScrubber();
  #closing = false;

  constructor(config: Config, options: GatewayOptions = {}, snapshot: StoreSnapshot = EMPTY_SNAPSHOT) {
    this.log = options.log ?? createLogger();
    this.store = options.store;
    this.#env = options.env ?? process.env;
    this.#snapshot = snapshot;
    this.#view = this.#buildView(config, snapshot);
    this.#expiry.schedule(this.#view.grants);
    this.#grantUses = options.store ? new GrantUses(options.store, this.log) : undefined;
    this.#isolation = resolveProcessIsolation(config.gateway.processIsolation, this.#env);
    // A server that asks for a sandbox this machine cannot give is refused, never run unconfined.
    this.#sandboxTools = resolveSandboxing(config, this.#env);
    if (this.#isolation.kind === 'none' && config.gateway.processIsolation === 'auto') {
      this.log.info(
        { reason: this.#isolation.reason },
        'children run without bubblewrap: if the gateway is killed with SIGKILL, their own children may outlive it',
      );
    }
    for (const name of Object.keys(config.servers)) this.#servers.set(name, this.#newServer(name, config));
    this.#keys = options.store ? new StoredKeyCache(options.store, this.log) : undefined;
    this.#authenticator = this.#newAuthenticator();
    this.#router = new Router({
      view: () => this.#view,
      servers: () => this.#servers,
      log: this.log,
      ...(options.store
        ? { builtin: mcplaneServer(this.#management(options.store, options), this.log) }
        : {}),
    });
    this.#pinning = new ToolPinning({
      ledger: options.store?.pins ?? memoryPinLedger(),
      ...(options.store ? { store: options.store } : {}),
      log: this.log,
      settings: (server) => this.config.servers[server],
      separator: () => this.config.gateway.namespaceSeparator,
      allows: (tenantId, server) => this.#router.reaches(tenantId, server),
      announce: (server, tenantId) =>
        this.#announceListChanged(server, tenantId === null ? {} : { tenantId }, 'tools'),
      // A flagged definition is a guard decision outside any call: it goes to the audit log too.
      onFindings: (tenantId, server, tool, findings) =>
        this.#audit?.recorder.finding({
          tenant: tenantId ?? '',
          server,
          tool,
          method: 'tools/list',
          findings: findings.map(toFinding),
        }),
    });
    this.#guarding = options.guarding ?? {
      policies: compilePolicies([]),
      profiles: new GuardProfiles(config.gateway.guards),
    };
    this.#audit = options.audit
      ? { log: options.audit, recorder: new AuditRecorder(options.audit, { log: this.log }) }
      : undefined;
    this.#anomaly = options.anomaly ?? new AnomalyDetection(config.gateway.anomaly);
    this.#metrics = config.gateway.metrics.enabled
      ? new GatewayMetrics(config.gateway.metrics, this.#readings(), VERSION)
      : undefined;
    this.#telemetry = new CallTelemetry({
      ...(this.#metrics ? { metrics: this.#metrics.calls } : {}),
      ...(options.tracer ? { tracer: options.tracer } : {}),
      stageSpans: config.gateway.tracing.stageSpans,
      log: this.log,
      calls: config.gateway.logs.calls,
    });
    this.#meter =
      options.store && config.gateway.metering.enabled ? this.#newMeter(options.store, config) : undefined;
    if (this.#meter && this.#metrics) registerUsageMetrics(this.#metrics.registry, this.#meter);
    this.#redis = config.gateway.redis.url === undefined ? undefined : newRedis(config, this.log);
    const backend = countingBackend({
      ...(this.#redis ? { redis: this.#redis } : {}),
      keyPrefix: config.gateway.redis.keyPrefix,
      onError: config.gateway.redis.onError,
      leaseFraction: config.gateway.limits.leaseFraction,
      log: this.log,
      events: this.#metrics?.limits ?? NO_LIMIT_EVENTS,
    });
    this.#limits = new CallLimits({
      backend,
      ...(options.store ? { store: options.store } : {}),
      now: options.now ?? (() => new Date()),
      quotaFlushInterval: config.gateway.limits.quotaFlushInterval,
      view: () => this.#view,
    });
    // Failing closed here would refuse every request, counted or not: the IP limit always falls
    // back to this process's counts.
    this.#authFailures = new AuthFailures(() => this.config.gateway.auth.failureLimit.perMinute, {
      ...backend,
      onError: 'open',
      failed: (error) => backend.failed(error, 'open'),
    });
    this.#pipeline = this.#buildPipeline();
    this.#core = {
      router: this.#router,
      pipeline: () => this.#pipeline,
      version: VERSION,
      log: this.log,
      metaPrefix: config.gateway.metaPrefix,
      onLogLevelChanged: (session) => this.#applyLogLevel(session),
      onClosed: (session) => this.#forget(session),
      ...(this.#meter
        ? { onExchange: (call, process) => (this.#meter as Meter).exchange(call, process) }
        : {}),
    };
  }

  /** The config the data plane runs now (its tenants are only part of {@link view}). */
  get config(): Config {
    return this.#view.config;
  }

  /** The current view of tenants, servers and grants. */
  get view(): LiveView {
    return this.#view;
  }

  get servers(): ReadonlyMap<string, UpstreamServer> {
    return this.#servers;
  }

  /** Tool-definition pinning, for the admin API's tool-changes decisions. */
  get pinning(): ToolPinning {
    return this.#pinning;
  }

  /** The loaded policy rules, for the admin API's listing and dry-run explanations. */
  get policies(): PolicySet {
    return this.#guarding.policies;
  }

  /** The Prometheus registry, unless `gateway.metrics.enabled` is false. */
  get metrics(): GatewayMetrics | undefined {
    return this.#metrics;
  }

  /** Records a change asked of the admin API; nothing without an audit log. Never throws. */
  auditAdminChange(change: AdminChange): void {
    this.#audit?.recorder.adminChange(change);
  }

  /** Reads the audit log back (the admin API), when one is written to a readable sink. */
  get auditReader(): AuditReader | undefined {
    const audit = this.#audit;
    const source = audit?.log.source;
    if (audit === undefined || source === undefined) return undefined;
    this.#auditReader ??= auditReader(audit.log, source);
    return this.#auditReader;
  }

  /** Metering (docs/metering.md): present with a store unless `gateway.metering.enabled` is false. */
  get meter(): Meter | undefined {
    return this.#meter;
  }

  /** Rate limits and quotas of calls: the admin API reads a tenant's, the HTTP faces ask at a session's opening. */
  get limits(): CallLimits {
    return this.#limits;
  }

  /** Failed authentications per source IP, which the HTTP faces check before authenticating. */
  get authFailures(): AuthFailures {
    return this.#authFailures;
  }

  /** Resolves once Redis (when configured) answers, or after `timeoutMs`; the limits handle it being down. */
  async redisReady(timeoutMs = 2_000): Promise<boolean> {
    const redis = this.#redis;
    if (!redis) return true;
    if (redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ready: boolean): void => {
        clearTimeout(timer);
        redis.off('ready', onReady);
        resolve(ready);
      };
      const onReady = (): void => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      timer.unref();
      redis.once('ready', onReady);
    });
  }

  /** Authenticates a request's credential against the config's and the store's keys and JWTs. */
  authenticate(headers: { get(name: string): string | null | undefined }): Promise<Principal> {
    return this.#authenticator.authenticate(headers);
  }

  /** Starts every server's warm processes; a server that fails is logged and left out, not fatal. */
  async warm(): Promise<void> {
    await Promise.allSettled([...this.#servers.values()].map((server) => server.warm()));
  }

  /** Loads the store's keys and starts following its changes. */
  async attachStore(): Promise<void> {
    if (!this.store || !this.#keys) return;
    await this.#keys.start();
    await this.#anomaly.attach(this.store, this.log);
    this.#unwatchStore = this.store.watch(() => {
      this.applyStore().catch((err: unknown) => this.log.warn({ err }, 'could not apply store changes'));
    });
  }

  /**
   * Rebuilds the view from the store's current state: new tenants appear, suspended ones lose
   * their sessions and pools, a changed tenant server config moves that tenant to a new pool.
   * Resolves once applied, and once the key cache has caught up (the admin API waits for it).
   */
  async applyStore(): Promise<void> {
    const run = this.#refreshing.then(async () => {
      if (!this.store) return;
      const snapshot = await loadSnapshot(this.store);
      this.#snapshot = snapshot;
      const before = this.#view;
      this.#applyView(this.#buildView(before.config, snapshot));
      for (const server of this.#servers.values()) server.refreshTenantPools();
      for (const [id, tenant] of before.tenants) {
        const now = this.#view.tenants.get(id);
        if (tenant.status === 'active' && now?.status !== 'active') await this.closeTenant(id);
      }
    });
    this.#refreshing = run.catch(() => undefined);
    await run;
    await this.#keys?.refresh();
  }

  /** Closes a tenant's sessions and stops its tenant pools, letting their calls finish. */
  async closeTenant(tenantId: string): Promise<void> {
    const sessions = [...this.#sessions.values()].filter((session) => session.tenantId === tenantId);
    await Promise.allSettled(sessions.map((session) => session.close()));
    for (const server of this.#servers.values()) server.retireTenant(tenantId);
  }

  /**
   * Starts a server once with a tenant's proposed override (admin API validation). Throws
   * SERVER_CONFIG_REJECTED with the startup error and the child's last stderr lines, with every
   * value in `secrets` scrubbed.
   */
  async probe(
    tenantId: string,
    name: string,
    override: ServerOverride,
    secrets: readonly string[],
  ): Promise<void> {
    const server = this.#servers.get(name);
    if (!server) throw new GatewayError('NOT_FOUND', `No server ${name}`);
    const stderr: string[] = [];
    const capture = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          const line = JSON.parse(chunk.toString()) as { stream?: string; msg?: string };
          if (line.stream === 'stderr' && typeof line.msg === 'string') stderr.push(line.msg);
          if (stderr.length > STDERR_LINES) stderr.shift();
          done();
        },
      }),
    );
    try {
      await server.probe(tenantId, override, capture);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      const tail = stderr.length > 0 ? ` — stderr: ${stderr.join(' | ')}` : '';
      throw new GatewayError('SERVER_CONFIG_REJECTED', scrub(`${why}${tail}`, secrets));
    }
  }

  /**
   * Applies a new config: servers whose spec did not change keep their processes; added ones
   * start; changed and removed ones drain (calls in flight finish, then their processes stop,
   * or after `gateway.drainTimeout`) while new requests go to the new spec. Settings that only
   * apply at start are kept and reported.
   */
  async reload(next: Config, guarding?: CallGuarding): Promise<ReloadPlan> {
    const plan = planReload(this.config, next);
    const config = plan.apply;
    // Before anything changes: a reload that adds a sandbox this machine cannot give is refused whole.
    this.#sandboxTools = resolveSandboxing(config, this.#env) ?? this.#sandboxTools;
    const drainTimeout = config.gateway.drainTimeout;
    // New and changed servers start their warm processes before they take any call, so the old
    // processes keep serving meanwhile (a server that fails to start is logged, as at start).
    const started = new Map(
      [...plan.added, ...plan.changed].map((name) => [name, this.#newServer(name, config)] as const),
    );
    await Promise.allSettled([...started.values()].map((server) => server.warm()));
    if (this.#closing) {
      await Promise.allSettled([...started.values()].map((server) => server.close()));
      return plan;
    }
    if (guarding) this.#guarding = guarding;
    this.#pipeline = this.#buildPipeline();
    const retired: UpstreamServer[] = [];
    for (const name of [...plan.removed, ...plan.changed]) {
      const old = this.#servers.get(name);
      if (old) retired.push(old);
      this.#servers.delete(name);
    }
    for (const [name, server] of started) this.#servers.set(name, server);
    this.#resilience.retain(new Set(Object.keys(config.servers)));
    // Keep the config's order, which decides name clashes and list order.
    const ordered = Object.keys(config.servers).map((name) => [name, this.#servers.get(name)] as const);
    this.#servers.clear();
    for (const [name, server] of ordered) if (server) this.#servers.set(name, server);
    this.#applyView(this.#buildView(config, this.#snapshot));
    if (plan.authChanged || plan.tenantsChanged) this.#authenticator = this.#newAuthenticator();
    for (const server of this.#servers.values()) server.refreshTenantPools();
    for (const server of retired) {
      server
        .drain(drainTimeout)
        .catch((err: unknown) => this.log.error({ err, server: server.name }, 'drain failed'));
    }
    const touched = [...plan.added, ...plan.changed, ...plan.removed];
    for (const session of this.#sessions.values()) {
      if (plan.tenantsChanged || touched.length > 0) {
        session.notifyListChanged('tools');
        session.notifyListChanged('prompts');
        session.notifyListChanged('resources');
      }
    }
    this.log.info(
      {
        added: plan.added,
        removed: plan.removed,
        changed: plan.changed,
        unchanged: plan.unchanged.length,
        restartRequired: plan.restartRequired,
      },
      'config reloaded',
    );
    if (plan.restartRequired.length > 0) {
      this.log.warn({ settings: plan.restartRequired }, 'these settings changed but need a restart to apply');
    }
    return plan;
  }

  /**
   * Opens a session for a principal. The session is bound to that principal for its whole life.
   * A tenant or principal already at its session limit is refused (SESSION_LIMIT, HTTP 429).
   */
  connect(principal: Principal, face: Face = 'stdio'): ClientSession {
    if (this.#closing) throw new GatewayError('GATEWAY_CLOSING');
    const tenant = this.#view.tenants.get(principal.tenantId);
    if (!tenant || tenant.status !== 'active') {
      throw new GatewayError('UNKNOWN_TENANT', `Unknown tenant ${principal.tenantId}`);
    }
    const limits = { ...this.config.gateway.sessionLimits, ...tenant.sessionLimits };
    const principalKey = principalKeyOf(principal);
    const byTenant = this.#openByTenant.get(principal.tenantId) ?? 0;
    const byPrincipal = this.#openByPrincipal.get(principalKey) ?? 0;
    if (byTenant >= limits.perTenant || byPrincipal >= limits.perPrincipal) {
      // Worth an operator's eye: a tenant that keeps hitting it leaves sessions behind or needs more.
      this.log.info(
        { tenant: principal.tenantId, tenantSessions: byTenant, principalSessions: byPrincipal, limits },
        'session refused: at its session limit',
      );
    }
    if (byTenant >= limits.perTenant) {
      throw new GatewayError(
        'SESSION_LIMIT',
        `Tenant ${principal.tenantId} has ${byTenant} sessions open, its limit (sessionLimits.perTenant). Close sessions you no longer use (HTTP DELETE), or wait for idle ones to expire.`,
      );
    }
    if (byPrincipal >= limits.perPrincipal) {
      throw new GatewayError(
        'SESSION_LIMIT',
        `This principal has ${byPrincipal} sessions open, its limit (sessionLimits.perPrincipal). Close sessions you no longer use (HTTP DELETE), or wait for idle ones to expire.`,
      );
    }
    const session = new ClientSession(principal, this.#core, face);
    this.#sessions.set(session.key, session);
    this.#openByTenant.set(principal.tenantId, byTenant + 1);
    this.#openByPrincipal.set(principalKey, byPrincipal + 1);
    return session;
  }

  /** Client requests in flight over every session. */
  inflight(): number {
    let count = 0;
    for (const session of this.#sessions.values()) count += session.inflight;
    return count;
  }

  get sessionCount(): number {
    return this.#sessions.size;
  }

  /** Whether every server has its warm processes up. */
  get ready(): boolean {
    return !this.#closing && [...this.servers.values()].every((server) => server.warmed);
  }

  status(): GatewayStatus {
    const servers: GatewayStatus['servers'] = {};
    for (const [name, server] of this.#servers) {
      servers[name] = { ...server.status(), breakers: this.#resilience.breakers.viewsOf(name) };
    }
    return { sessions: this.#sessions.size, servers };
  }

  /** Open sessions by tenant, for the admin status. */
  sessionsByTenant(): Record<string, number> {
    return Object.fromEntries(this.#openByTenant);
  }

  /** Open sessions by face and tenant, for metrics. */
  sessionCounts(): { face: Face; tenant: string; count: number }[] {
    const counts = new Map<string, { face: Face; tenant: string; count: number }>();
    for (const session of this.#sessions.values()) {
      const key = `${session.face}\n${session.tenantId}`;
      const entry = counts.get(key);
      if (entry) entry.count++;
      else counts.set(key, { face: session.face, tenant: session.tenantId, count: 1 });
    }
    return [...counts.values()];
  }

  /** Server-initiated messages refused or dropped because no session could be found for them. */
  unattributable(): number {
    return [...this.#servers.values()].reduce((sum, server) => sum + server.unattributable(), 0);
  }

  /** Log messages dropped because a process shared across tenants sent them on its own. */
  droppedLogs(): number {
    return [...this.#servers.values()].reduce((sum, server) => sum + server.droppedLogs(), 0);
  }

  /** Calls flagged as anomalous so far, in total and by component (for metrics). */
  anomalyFlags(): AnomalyFlags {
    return this.#anomaly.flags();
  }

  /** Process ids of every live child. */
  pids(): number[] {
    return [...this.#servers.values()].flatMap((server) => server.pids());
  }

  /** Closes every session and stops every process. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    this.#expiry.stop();
    const reason = new GatewayError('GATEWAY_CLOSING');
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.close(reason)));
    // While the processes still run: their CPU since the last sample is read once more.
    this.#meter?.finalSample();
    await Promise.allSettled([...this.#servers.values()].map((server) => server.close()));
    // Every call has ended, so its usage event is queued: write them all before the store closes.
    await this.#meter?.close();
    this.#unwatchStore?.();
    this.#resilience.close();
    await this.#anomaly.close();
    await this.#pinning.close();
    await this.#keys?.close();
    // Every call has ended: what the quotas counted goes to the store before Redis goes.
    await this.#limits.close();
    await this.#redis?.quit().catch(() => this.#redis?.disconnect());
    // Last: every call has ended, so its record is queued; close writes it and a checkpoint.
    await this.#audit?.log.close();
  }

  /**
   * The call pipeline, in the order a call travels. Audit is outermost so that it records every
   * call, refused or not, with what the stages inside decided.
   */
  #buildPipeline(): Next {
    const { policies, profiles } = this.#guarding;
    const telemetry = this.#telemetry;
    const stages: Stage[] = [
      ...(this.#audit
        ? [auditStage(this.#audit.recorder, { context: (call) => auditTrace(telemetry.traceIdOf(call)) })]
        : []),
      // Outermost with audit: it meters refused calls too, and sees the reply the client gets.
      ...(this.#meter ? [meterStage(this.#meter)] : []),
      ...telemetry.stages(),
      admitStage,
      limitStage(this.#limits),
      usageStage(this.#usage),
      routeStage(() => this.#router),
      pinningStage({
        pinning: this.#pinning,
        router: () => this.#router,
        separator: () => this.config.gateway.namespaceSeparator,
      }),
      ...this.#anomaly.stages(),
      ...(this.#grantUses ? [sharedUseStage(this.#grantUses.note)] : []),
      telemetry.traced(
        authorizeStage({
          policies: () => policies,
          facts: (call) => ({
            tier: this.#view.tenants.get(call.session.principal.tenantId)?.tier ?? 'standard',
            role: call.session.principal.role ?? 'member',
            usage: this.#usage.usage(principalKey(call)),
            anomaly: anomalyOf(call),
          }),
          owner: (kind, listed, call) => this.#router.place(call.session.principal, kind, listed),
        }),
      ),
      telemetry.traced(new InputGuardStage({ profiles })),
      telemetry.traced(
        new OutputGuardStage({
          profiles,
          outputSchema: (server, tool, call) => this.#outputSchema(server, tool, call),
        }),
      ),
      // Innermost, so that what a fallback or a stale copy serves passes the output guards too.
      resilienceStage({
        resilience: this.#resilience,
        router: () => this.#router,
        metaPrefix: () => this.config.gateway.metaPrefix,
        log: this.log,
        pinning: this.#pinning,
      }),
    ];
    return composePipeline(stages, forwardAttached);
  }

  #newMeter(store: Store, config: Config): Meter {
    return new Meter({
      settings: config.gateway.metering,
      log: this.log,
      write: (events, charges) => store.usage.record(events, charges),
      projectOf: (apiKeyId) => this.#keys?.get(apiKeyId)?.projectId ?? undefined,
      costOf: (server) => this.config.servers[server]?.cost,
      processes: () =>
        [...this.#servers.values()].flatMap((server) =>
          server.costReadings().map((reading) => ({ ...reading, server: server.name, mode: server.mode })),
        ),
    });
  }

  #outputSchema(server: string, tool: string, call: Call): Record<string, unknown> | undefined {
    // The catalog the call's own pool last listed first (for a grant, the owner's pool).
    const route = findContext(call)?.route;
    const poolTenant = route?.kind === 'upstream' ? route.poolTenant : call.session.principal.tenantId;
    return this.#servers.get(server)?.knownTool(poolTenant, tool)?.outputSchema;
  }

  /** What the metrics collectors read at scrape time. */
  #readings(): ConstructorParameters<typeof GatewayMetrics>[1] {
    return {
      sessionCounts: () => this.sessionCounts(),
      pools: () => [...this.#servers].map(([name, server]) => [name, server.poolReadings()] as const),
      processCounts: () => this.#processCounts,
      auditBacklog: () => this.#audit?.log.backlog(),
      breakers: () => this.#resilience.breakers.readings(),
      resilience: () => this.#resilience.totals,
      breakerRejections: () => this.#resilience.breakers.rejections,
    };
  }

  #countsOf(name: string): ProcessCounts {
    let counts = this.#processCounts.get(name);
    if (!counts) {
      counts = newProcessCounts();
      this.#processCounts.set(name, counts);
    }
    return counts;
  }

  #newServer(name: string, config: Config): UpstreamServer {
    return new UpstreamServer({
      name,
      config,
      env: this.#env,
      log: this.log,
      gatewayVersion: VERSION,
      isolation: this.#isolation,
      ...(this.#sandboxTools === undefined ? {} : { sandboxTools: this.#sandboxTools }),
      sessionByKey: (key) => this.#sessions.get(key),
      sessionsOf: (tenantId, server) => this.#sessionsOf(tenantId, server),
      mayServe: (session, server, poolTenant) => this.#router.reaches(session.tenantId, server, poolTenant),
      tenantOverride: (tenantId, server) => this.#view.tenants.get(tenantId)?.overrides[server],
      onCatalogChanged: (server, scope, kind) => this.#announceListChanged(server, scope, kind),
      // After list_changed the sessions hear of it anyway; a new process's held tools need telling.
      onCatalogRead: (server, tenantId, catalog, cause) =>
        void this.#pinning.observe(server, tenantId, catalog.tools, { announce: cause === 'start' }),
      counts: this.#countsOf(name),
      scrubStderr: this.#scrubStderr,
      slotRequest: (tenantId) => {
        const tier = tierOf(this.config.tiers, this.#view.tenants.get(tenantId)?.tier ?? 'standard');
        return {
          tenant: tenantId,
          weight: tier.weight,
          ...(tier.queueCap === undefined ? {} : { queueCap: tier.queueCap }),
        };
      },
      onAsked: (server, asked) => {
        if (asked.method !== 'sampling/createMessage') return;
        this.#meter?.recordSampling({
          server,
          tenantId: asked.session.tenantId,
          subject: asked.session.subject,
          latencyMs: asked.latencyMs,
          ok: asked.ok,
          params: asked.params,
          result: asked.result,
        });
      },
    });
  }

  /** What the built-in `mcplane` server's tools need: the admin API's own dependencies. */
  #management(store: Store, options: GatewayOptions): ManagementDeps {
    const config = (): Config => this.config;
    return {
      store,
      // Read when a key is made, so a reloaded pepper applies.
      get pepper() {
        return config().gateway.auth.apiKeys.pepper;
      },
      configSource: options.configPath ?? 'servers.config.yaml',
      view: () => this.#view,
      applied: () => this.applyStore(),
      probe: (tenantId, server, override, secrets) => this.probe(tenantId, server, override, secrets),
    };
  }

  #newAuthenticator(): Authenticator {
    return createAuthenticator(this.config, {
      ...(this.#keys ? { stored: this.#keys } : {}),
      tenantActive: (id) => this.#view.tenants.get(id)?.status === 'active',
    });
  }

  #buildView(config: Config, snapshot: StoreSnapshot): LiveView {
    const { view, shadowed } = buildLiveView(config, snapshot);
    if (shadowed.length > 0) {
      this.log.warn(
        { tenants: shadowed },
        'store tenants shadowed by config tenants of the same id are ignored',
      );
    }
    return view;
  }

  #forget(session: ClientSession): void {
    if (!this.#sessions.delete(session.key)) return;
    decrement(this.#openByTenant, session.tenantId);
    decrement(this.#openByPrincipal, principalKeyOf(session.principal));
  }

  /** A tenant's own sessions that reach its own pool of the server (not the grantees: see onStrayLog). */
  *#sessionsOf(tenantId: string, server: string): Iterable<ClientSession> {
    if (!this.#router.reaches(tenantId, server)) return;
    for (const session of this.#sessions.values()) if (session.tenantId === tenantId) yield session;
  }

  /** A tenant pool's catalog changed: its tenant's sessions and those it shares the server with hear it. */
  #announceListChanged(server: string, scope: CatalogScope, kind: CatalogKind): void {
    if (scope.session) {
      (scope.session as ClientSession).notifyListChanged(kind);
      return;
    }
    for (const session of this.#sessions.values()) {
      if (this.#router.reaches(session.tenantId, server, scope.tenantId)) session.notifyListChanged(kind);
    }
  }

  /** Swaps in a new view; grantees whose shared servers it changed hear of it. */
  #applyView(next: LiveView): void {
    const before = this.#view;
    const builtAt = this.#viewBuiltAt;
    this.#view = next;
    this.#viewBuiltAt = Date.now();
    this.#expiry.schedule(next.grants, this.#viewBuiltAt);
    if (before.grants.length === 0 && next.grants.length === 0) return;
    announceSharing({
      before,
      builtAt,
      router: this.#router,
      servers: this.#servers,
      sessions: this.#sessions.values(),
      log: this.log,
    });
  }

  /**
   * A process shared by several sessions runs at the most verbose level any of them asked for;
   * each session's own level is applied when messages are delivered to it.
   */
  async #applyLogLevel(session: ClientSession): Promise<void> {
    const work = this.#router.routesFor(session.tenantId).map(async ({ server, poolTenant }) => {
      // Everyone a process serves: a tenant pool serves its tenant and the grantees it is shared with.
      const peers =
        server.mode === 'session'
          ? [session]
          : [...this.#sessions.values()].filter((peer) =>
              this.#router.reaches(peer.tenantId, server.name, poolTenant),
            );
      const level = mostVerbose(peers.flatMap<LogLevel>((peer) => (peer.logLevel ? [peer.logLevel] : [])));
      if (!level) return;
      const processes = server.processesFor(session, poolTenant);
      await Promise.allSettled(processes.map((process) => process.setLogLevel(level)));
    });
    await Promise.allSettled(work);
  }
}

/** A stored finding as the pipeline's type: an unknown action (none is stored) reads as flag. */
function toFinding(finding: ToolFinding): Finding {
  const action = finding.action === 'block' || finding.action === 'redact' ? finding.action : 'flag';
  return { ...finding, action };
}

/**
 * The one Redis client of the limits. Commands fail at once while it is not connected (no offline
 * queue) and after `commandTimeout` when it does not answer, so that `gateway.redis.onError`
 * decides rather than a call waiting; it reconnects by itself.
 */
function newRedis(config: Config, log: Logger): Redis {
  const { url, commandTimeout } = config.gateway.redis;
  const redis = new Redis(url as string, {
    enableOfflineQueue: false,
    // The checks of one call (a Lua script per window and scope, the quota's MULTI) go out in one write.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    // Names the connection in CLIENT LIST, per key prefix, so an operator can tell replicas' sets apart.
    connectionName: `mcplane/${config.gateway.redis.keyPrefix}`.replaceAll(/\s/g, '_'),
  });
  // Failed commands are logged by the limits, at most every 10 s; connection errors only at debug.
  redis.on('error', (err: unknown) => log.debug({ err }, 'Redis connection error'));
  return redis;
}

function auditTrace(traceId: string | undefined): { traceId?: string } {
  return traceId === undefined ? {} : { traceId };
}

function principalKeyOf(principal: Principal): string {
  return JSON.stringify([principal.tenantId, principal.via, principal.subject]);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 0) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

const STDERR_LINES = 5;

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length > 0) out = out.replaceAll(secret, '[redacted]');
  return out;
}

/** Everything the view needs from the store, read in one pass. */
export async function loadSnapshot(store: Store): Promise<StoreSnapshot> {
  const version = await store.version();
  const [tenants, serverConfigs, grants, limitOverrides] = await Promise.all([
    store.tenants.list(),
    store.serverConfigs.resolveAll(),
    store.grants.listActive(),
    store.limits.listOverrides(),
  ]);
  return { version, tenants, serverConfigs, grants, limitOverrides };
}

/** Builds a gateway (with the store's tenants and keys, when given) and starts its warm processes. */
export async function createGateway(
  config: Config,
  options: GatewayOptions & { readonly configPath?: string } = {},
): Promise<Gateway> {
  const snapshot = options.store ? await loadSnapshot(options.store) : EMPTY_SNAPSHOT;
  const guarding = options.guarding ?? (await loadCallGuarding(config, options.configPath));
  const audit =
    options.audit ??
    (await openAudit(config, options.env ?? process.env, options.log ?? createLogger(), options.store));
  const gateway = new Gateway(config, { ...options, guarding, ...(audit ? { audit } : {}) }, snapshot);
  await gateway.attachStore();
  if (!(await gateway.redisReady())) {
    gateway.log.warn(
      { onError: config.gateway.redis.onError },
      'Redis did not answer at start: limits follow gateway.redis.onError until it does',
    );
  }
  if (options.warm !== false) await gateway.warm();
  return gateway;
}
