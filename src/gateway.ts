/**
 * The composition root: builds the servers, the router and the session registry from a loaded
 * config, and wires the order a request travels. Transports (stdio, HTTP) sit on top: they
 * authenticate, call {@link Gateway.connect} and pass messages.
 */
import type { Config } from './config/schema.ts';
import { GatewayError } from './errors.ts';
import type { Principal } from './identity/principal.ts';
import { createLogger, type Logger } from './log.ts';
import { Router } from './router/router.ts';
import { ClientSession, type SessionCore } from './session/client-session.ts';
import { mostVerbose, type LogLevel } from './session/log-level.ts';
import { resolveProcessIsolation } from './upstream/process-isolation.ts';
import type { CatalogKind } from './upstream/server-catalog.ts';
import { UpstreamServer, type CatalogScope, type ServerStatus } from './upstream/upstream-server.ts';
import { VERSION } from './version.ts';

export type GatewayOptions = {
  /** Where children's allowlisted variables come from; the process environment by default. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly log?: Logger;
  /** Start warm processes before resolving (default true). */
  readonly warm?: boolean;
};

export type GatewayStatus = {
  readonly sessions: number;
  readonly servers: Record<string, ServerStatus>;
};

export class Gateway {
  readonly config: Config;
  readonly log: Logger;
  readonly servers: ReadonlyMap<string, UpstreamServer>;
  readonly #router: Router;
  readonly #sessions = new Map<string, ClientSession>();
  readonly #openByTenant = new Map<string, number>();
  readonly #openByPrincipal = new Map<string, number>();
  readonly #core: SessionCore;
  #closing = false;

  constructor(config: Config, options: GatewayOptions = {}) {
    this.config = config;
    this.log = options.log ?? createLogger();
    const isolation = resolveProcessIsolation(config.gateway.processIsolation, options.env ?? process.env);
    if (isolation.kind === 'none' && config.gateway.processIsolation === 'auto') {
      this.log.info(
        { reason: isolation.reason },
        'children run without bubblewrap: if the gateway is killed with SIGKILL, their own children may outlive it',
      );
    }
    const servers = new Map<string, UpstreamServer>();
    for (const name of Object.keys(config.servers)) {
      servers.set(
        name,
        new UpstreamServer({
          name,
          config,
          env: options.env ?? process.env,
          log: this.log,
          gatewayVersion: VERSION,
          isolation,
          sessionByKey: (key) => this.#sessions.get(key),
          sessionsOf: (tenantId, server) => this.#sessionsOf(tenantId, server),
          onCatalogChanged: (server, scope, kind) => this.#announceListChanged(server, scope, kind),
        }),
      );
    }
    this.servers = servers;
    this.#router = new Router({ servers, config, log: this.log });
    this.#core = {
      router: this.#router,
      version: VERSION,
      log: this.log,
      metaPrefix: config.gateway.metaPrefix,
      onLogLevelChanged: (session) => this.#applyLogLevel(session),
      onClosed: (session) => this.#forget(session),
    };
  }

  /** Starts every server's warm processes; a server that fails is logged and left out, not fatal. */
  async warm(): Promise<void> {
    await Promise.allSettled([...this.servers.values()].map((server) => server.warm()));
  }

  /**
   * Opens a session for a principal. The session is bound to that principal for its whole life.
   * A tenant or principal already at its session limit is refused (SESSION_LIMIT, HTTP 429).
   */
  connect(principal: Principal): ClientSession {
    if (this.#closing) throw new GatewayError('GATEWAY_CLOSING');
    const tenant = this.config.tenants[principal.tenantId];
    if (!tenant) {
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
    const session = new ClientSession(principal, this.#core);
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
    for (const [name, server] of this.servers) servers[name] = server.status();
    return { sessions: this.#sessions.size, servers };
  }

  /** Server-initiated messages refused or dropped because no session could be found for them. */
  unattributable(): number {
    return [...this.servers.values()].reduce((sum, server) => sum + server.unattributable(), 0);
  }

  /** Log messages dropped because a process shared across tenants sent them on its own. */
  droppedLogs(): number {
    return [...this.servers.values()].reduce((sum, server) => sum + server.droppedLogs(), 0);
  }

  /** Process ids of every live child. */
  pids(): number[] {
    return [...this.servers.values()].flatMap((server) => server.pids());
  }

  /** Closes every session and stops every process. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const reason = new GatewayError('GATEWAY_CLOSING');
    await Promise.allSettled([...this.#sessions.values()].map((session) => session.close(reason)));
    await Promise.allSettled([...this.servers.values()].map((server) => server.close()));
  }

  #forget(session: ClientSession): void {
    if (!this.#sessions.delete(session.key)) return;
    decrement(this.#openByTenant, session.tenantId);
    decrement(this.#openByPrincipal, principalKeyOf(session.principal));
  }

  *#sessionsOf(tenantId: string, server: string): Iterable<ClientSession> {
    if (!this.#router.allows(tenantId, server)) return;
    for (const session of this.#sessions.values()) if (session.tenantId === tenantId) yield session;
  }

  #announceListChanged(server: string, scope: CatalogScope, kind: CatalogKind): void {
    if (scope.session) {
      (scope.session as ClientSession).notifyListChanged(kind);
      return;
    }
    for (const session of this.#sessions.values()) {
      if (scope.tenantId !== undefined && session.tenantId !== scope.tenantId) continue;
      if (this.#router.allows(session.tenantId, server)) session.notifyListChanged(kind);
    }
  }

  /**
   * A process shared by several sessions runs at the most verbose level any of them asked for;
   * each session's own level is applied when messages are delivered to it.
   */
  async #applyLogLevel(session: ClientSession): Promise<void> {
    const work = this.#router.serversFor(session.tenantId).map(async (server) => {
      const peers =
        server.mode === 'session'
          ? [session]
          : [...this.#sessions.values()].filter(
              (peer) =>
                this.#router.allows(peer.tenantId, server.name) &&
                (server.mode === 'shared' || peer.tenantId === session.tenantId),
            );
      const level = mostVerbose(peers.flatMap<LogLevel>((peer) => (peer.logLevel ? [peer.logLevel] : [])));
      if (!level) return;
      const processes = server.processesFor(session);
      await Promise.allSettled(processes.map((process) => process.setLogLevel(level)));
    });
    await Promise.allSettled(work);
  }
}

function principalKeyOf(principal: Principal): string {
  return JSON.stringify([principal.tenantId, principal.via, principal.subject]);
}

function decrement(counts: Map<string, number>, key: string): void {
  const left = (counts.get(key) ?? 0) - 1;
  if (left > 0) counts.set(key, left);
  else counts.delete(key);
}

/** Builds a gateway and (unless told not to) starts its warm processes. */
export async function createGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const gateway = new Gateway(config, options);
  if (options.warm !== false) await gateway.warm();
  return gateway;
}
