/**
 * A started, initialized stdio MCP server: the child process, its multiplexer, what it said in
 * its InitializeResult and what it offers (its catalog), plus the per-process state that the
 * gateway shares out between sessions (resource subscriptions, log level).
 */
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { InitializeResult, ServerCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { hasGatewayKeys, withoutGatewayKeys } from '../jsonrpc/gateway-meta-key.ts';
import type { JSONRPCNotification, JSONRPCResponse, RequestId } from '../jsonrpc/message.ts';
import {
  EMPTY_CATALOG,
  readCatalog,
  refreshCatalog,
  type CatalogKind,
  type ServerCatalog,
} from './server-catalog.ts';
import { SessionMultiplexer, type AskedRequest, type ProgressParams } from './session-multiplexer.ts';
import type { RootsPolicy } from './roots-policy.ts';
import { RemoteError, type SessionLink } from './session-link.ts';
import { StdioChild, type ChildExit, type ChildSpec } from './stdio-child.ts';
import type { ProcessCounts } from './process-counts.ts';
import { CallCpuWatch } from './call-cpu-watch.ts';
import { ChildCpu } from './process-cpu.ts';
import type { CallLimits } from './call-limits.ts';
import { sandboxLimitHit } from './sandbox.ts';

export type UpstreamProcessOptions = {
  readonly server: string;
  readonly tenantId: string | undefined;
  readonly child: ChildSpec;
  readonly metaPrefix: string;
  readonly injectContext: boolean;
  readonly roots: RootsPolicy;
  readonly timeouts: { readonly startup: number; readonly call: number; readonly shutdown: number };
  readonly log: Logger;
  readonly gatewayVersion: string;
  /** The server's running totals (spawns, exits, unattributable messages), for metrics. */
  readonly counts?: ProcessCounts;
  /** What one forwarded request may take (per tool); without it, `timeouts.call` and no more. */
  readonly limits?: (method: string, params: Record<string, unknown> | undefined) => CallLimits;
};

export type UpstreamProcessHooks = {
  sessionByKey(key: string): SessionLink | undefined;
  onExit(process: UpstreamProcess, exit: ChildExit): void;
  onCatalogChanged(process: UpstreamProcess, kind: CatalogKind): void;
  /**
   * The process read its catalog: at start (before it serves anything) and after each
   * `list_changed` (before anyone can see the new one, and before onCatalogChanged). For
   * tool-definition pinning.
   */
  onCatalogRead?(process: UpstreamProcess, catalog: ServerCatalog, cause: 'start' | 'list_changed'): void;
  /** A log message the process sent that no session could be found for. */
  onStrayLog(notification: JSONRPCNotification): void;
  /** A server-to-client request the process sent was answered by a session's client. */
  onAsked?(asked: AskedRequest): void;
};

export type ForwardOptions = {
  readonly session: SessionLink;
  readonly clientRequestId: RequestId;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ProgressParams) => void;
  /** Told the call's CPU time (ms) when it could be measured (see call-cpu-watch.ts). */
  readonly onCpu?: (cpuMs: number) => void;
};

/**
 * What the gateway declares to a child. Declaring these changes what some servers offer (more
 * tools for a client that can sample); the multiplexer then decides per request whether a
 * server-to-client request can be routed, and refuses it clearly when it cannot.
 */
const GATEWAY_CLIENT_CAPABILITIES = {
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
};

type State = 'starting' | 'ready' | 'stopping' | 'exited';

export class UpstreamProcess {
  readonly server: string;
  readonly tenantId: string | undefined;
  readonly #options: UpstreamProcessOptions;
  readonly #hooks: UpstreamProcessHooks;
  readonly #child: StdioChild;
  readonly #mux: SessionMultiplexer;
  readonly #log: Logger;
  readonly #subscribers = new Map<string, Set<SessionLink>>();
  #state: State = 'starting';
  #initializeResult: InitializeResult | undefined;
  #catalog: ServerCatalog = EMPTY_CATALOG;
  #logLevel: string | undefined;
  /** Read for the CPU time of calls, on processes of one tenant or session. */
  #cpu: ChildCpu | undefined;
  /** Requests forwarded for sessions over this process's life (for `pool.maxRequests`). */
  served = 0;
  /** When the last request finished; for idle eviction. */
  idleSince = Date.now();
  /** When the process was spawned (epoch ms): cost attribution charges its wall time from here. */
  readonly startedAt = Date.now();

  constructor(options: UpstreamProcessOptions, hooks: UpstreamProcessHooks) {
    this.server = options.server;
    this.tenantId = options.tenantId;
    this.#options = options;
    this.#hooks = hooks;
    this.#child = new StdioChild(options.child, options.log, {
      line: (text) => this.#mux.receiveLine(text),
      oversized: (info) => this.#mux.receiveOversized(info, options.child.maxMessageBytes),
      exit: (exit) => this.#onExit(exit),
    });
    if (options.counts) options.counts.spawned++;
    this.#log = options.log.child({ pid: this.#child.pid });
    this.#mux = new SessionMultiplexer({
      write: (message) => this.#child.write(JSON.stringify(message)),
      log: this.#log,
      metaPrefix: options.metaPrefix,
      roots: options.roots,
      hooks: {
        sessionByKey: (key) => hooks.sessionByKey(key),
        onListChanged: (kind) => this.#onListChanged(kind),
        onResourceUpdated: (notification) => this.#onResourceUpdated(notification),
        onStrayLog: (notification) => hooks.onStrayLog(notification),
        onUnattributable: () => {
          if (options.counts) options.counts.unattributable++;
        },
        ...(hooks.onAsked ? { onAsked: (asked) => hooks.onAsked?.(asked) } : {}),
      },
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get ready(): boolean {
    return this.#state === 'ready';
  }

  get alive(): boolean {
    return this.#state === 'starting' || this.#state === 'ready';
  }

  get inflight(): number {
    return this.#mux.inflight;
  }

  get catalog(): ServerCatalog {
    return this.#catalog;
  }

  get capabilities(): ServerCapabilities {
    return this.#initializeResult?.capabilities ?? {};
  }

  get initializeResult(): InitializeResult | undefined {
    return this.#initializeResult;
  }

  get stats(): SessionMultiplexer['stats'] {
    return this.#mux.stats;
  }

  /** Whether any session holds a resource subscription here (state a restart would lose). */
  get hasSubscriptions(): boolean {
    return this.#subscribers.size > 0;
  }

  /** The tenant of the session a session-mode process is dedicated to; undefined for a spare. */
  get dedicatedTenant(): string | undefined {
    return this.#mux.dedicatedTo?.tenantId;
  }

  /** Dedicates the process to one session, so everything it initiates belongs to that session. */
  dedicate(session: SessionLink): void {
    this.#mux.dedicatedTo = session;
    // A spare's idle time was spent waiting for a session; its life as a dedicated process starts now.
    this.idleSince = Date.now();
  }

  /** Initializes the server (spec "Lifecycle": initialize, then notifications/initialized) and reads its catalog. */
  async start(): Promise<void> {
    const deadline = AbortSignal.timeout(this.#options.timeouts.startup);
    const call = (method: string, params: Record<string, unknown> | undefined): Promise<JSONRPCResponse> =>
      this.#mux.call(method, params, { timeoutMs: this.#options.timeouts.startup, signal: deadline });
    try {
      const reply = await call('initialize', {
        protocolVersion: LATEST_PROTOCOL_VERSION,
        capabilities: GATEWAY_CLIENT_CAPABILITIES,
        clientInfo: { name: 'mcplane', version: this.#options.gatewayVersion },
      });
      if ('error' in reply) throw new RemoteError(reply.error);
      this.#initializeResult = reply.result as InitializeResult;
      this.#mux.notify('notifications/initialized');
      this.#catalog = await readCatalog(call, this.capabilities);
      this.#hooks.onCatalogRead?.(this, this.#catalog, 'start');
    } catch (error) {
      this.#child.kill();
      throw startupError(this.server, error, deadline.aborted, this.#options.timeouts.startup);
    }
    if (this.#state !== 'starting')
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${this.server} exited during startup`);
    this.#state = 'ready';
    this.#log.info({ tools: this.#catalog.tools.length }, 'server ready');
  }

  /**
   * Forwards a client's request. The reply (result or JSON-RPC error) is the server's data; a
   * GatewayError means the gateway could not get one.
   */
  async forward(
    method: string,
    params: Record<string, unknown> | undefined,
    options: ForwardOptions,
  ): Promise<JSONRPCResponse> {
    this.served++;
    const limits = this.#options.limits?.(method, params) ?? { timeoutMs: this.#options.timeouts.call };
    const cpu = this.#watchCpu(limits);
    const signal = cpu && limits.cpuLimit ? anySignal(options.signal, cpu.signal) : options.signal;
    try {
      return await this.#mux.call(method, this.#withContext(params, options.session), {
        timeoutMs: limits.timeoutMs,
        session: options.session,
        clientRequestId: options.clientRequestId,
        signal,
        onProgress: options.onProgress,
        ...(limits.maxResultBytes === undefined
          ? {}
          : { maxResultBytes: limits.maxResultBytes, maxResultSetting: limits.maxResultSetting }),
      });
    } finally {
      const cpuMs = cpu?.stop();
      if (cpuMs !== undefined) options.onCpu?.(cpuMs);
      if (this.#mux.inflight === 0) this.idleSince = Date.now();
    }
  }

  /**
   * A CPU watch for the request about to be sent, when its time can be told apart: the process
   * serves one tenant or one session, and has nothing else in flight.
   */
  #watchCpu(limits: CallLimits): CallCpuWatch | undefined {
    const pid = this.#child.pid;
    const ownsProcess = this.tenantId !== undefined || this.#mux.dedicatedTo !== undefined;
    if (pid === undefined || !ownsProcess || this.#mux.inflight > 0) return undefined;
    this.#cpu ??= new ChildCpu(pid);
    return CallCpuWatch.start(this.#cpu, () => this.#mux.stats.requests, limits.cpuLimit);
  }

  /** Sends a notification to the server. */
  notifyServer(method: string, params?: Record<string, unknown>): void {
    this.#mux.notify(method, params);
  }

  /**
   * Tells the server its client's roots changed, and waits (at most `timeouts.call`) until a
   * `roots/list` it sent in response has been answered, so the request that follows is served
   * with the new roots. The server reads its input in order, so by the time it answers a ping it
   * has sent any `roots/list` its handler of the notification asks at once.
   */
  async refreshRoots(): Promise<void> {
    this.#mux.notify('notifications/roots/list_changed');
    const settled = (async () => {
      await this.#mux.call('ping', undefined, { timeoutMs: this.#options.timeouts.call });
      await this.#mux.rootsAnswered();
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#options.timeouts.call);
      timer.unref();
    });
    await Promise.race([settled.catch(() => undefined), deadline]);
    clearTimeout(timer);
  }

  /** Adds a session to a resource's subscribers; the first one subscribes upstream. */
  async subscribe(session: SessionLink, uri: string): Promise<JSONRPCResponse | undefined> {
    const current = this.#subscribers.get(uri);
    if (current) {
      current.add(session);
      return undefined;
    }
    const reply = await this.#mux.call(
      'resources/subscribe',
      { uri },
      { timeoutMs: this.#options.timeouts.call },
    );
    if ('error' in reply) return reply;
    const again = this.#subscribers.get(uri) ?? new Set<SessionLink>();
    again.add(session);
    this.#subscribers.set(uri, again);
    return undefined;
  }

  /** Removes a session from a resource's subscribers; the last one unsubscribes upstream. */
  async unsubscribe(session: SessionLink, uri: string): Promise<void> {
    const current = this.#subscribers.get(uri);
    if (!current?.delete(session) || current.size > 0) return;
    this.#subscribers.delete(uri);
    if (this.alive)
      await this.#mux.call('resources/unsubscribe', { uri }, { timeoutMs: this.#options.timeouts.call });
  }

  /** Forgets a closed session: its subscriptions end. */
  async release(session: SessionLink): Promise<void> {
    const uris = [...this.#subscribers].filter(([, set]) => set.has(session)).map(([uri]) => uri);
    await Promise.allSettled(uris.map((uri) => this.unsubscribe(session, uri)));
  }

  /** Sets the server's log level, when it has logging and the level changes. */
  async setLogLevel(level: string): Promise<void> {
    if (!this.capabilities.logging || level === this.#logLevel || !this.ready) return;
    this.#logLevel = level;
    await this.#mux.call('logging/setLevel', { level }, { timeoutMs: this.#options.timeouts.call });
  }

  /** Stops the process by the ladder: close stdin, SIGTERM, SIGKILL. */
  async stop(): Promise<void> {
    if (this.#state === 'exited') return;
    this.#state = 'stopping';
    await this.#child.stop(this.#options.timeouts.shutdown);
  }

  /**
   * The params a server sees: the client's own `_meta` minus any key under the gateway's prefix,
   * or one that could pass for it (a client must never choose its tenant, principal or session),
   * plus the gateway's context.
   */
  #withContext(
    params: Record<string, unknown> | undefined,
    session: SessionLink,
  ): Record<string, unknown> | undefined {
    const prefix = `${this.#options.metaPrefix}/`;
    const clientMeta = params?._meta as Record<string, unknown> | undefined;
    // Nothing to add and nothing to remove: the params go as they came, uncopied.
    if (!this.#options.injectContext && !(clientMeta && hasGatewayKeys(clientMeta, this.#options.metaPrefix)))
      return params;
    const meta = clientMeta ? withoutGatewayKeys(clientMeta, this.#options.metaPrefix) : {};
    if (this.#options.injectContext) {
      meta[`${prefix}tenant`] = session.tenantId;
      meta[`${prefix}principal`] = session.subject;
      meta[`${prefix}session`] = session.key;
    }
    return { ...params, _meta: meta };
  }

  #onListChanged(kind: CatalogKind): void {
    if (!this.ready) return;
    const call = (method: string, params: Record<string, unknown> | undefined): Promise<JSONRPCResponse> =>
      this.#mux.call(method, params, { timeoutMs: this.#options.timeouts.call });
    refreshCatalog(call, this.#catalog, kind).then(
      (catalog) => {
        this.#catalog = catalog;
        this.#hooks.onCatalogRead?.(this, catalog, 'list_changed');
        this.#hooks.onCatalogChanged(this, kind);
      },
      (error: unknown) =>
        this.#log.warn({ err: error, kind }, 'could not refresh the catalog after list_changed'),
    );
  }

  #onResourceUpdated(notification: JSONRPCNotification): void {
    const uri = (notification.params as { uri?: unknown } | undefined)?.uri;
    if (typeof uri !== 'string') return;
    for (const session of this.#subscribers.get(uri) ?? []) session.deliver(notification, undefined);
  }

  #onExit(exit: ChildExit): void {
    const expected = this.#state === 'stopping';
    this.#countExit();
    this.#state = 'exited';
    const how = exit.spawnError ?? (exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`);
    const limit = this.#options.child.sandbox
      ? sandboxLimitHit(this.#options.child.sandbox.rlimits, exit)
      : undefined;
    this.#mux.close(
      limit === undefined
        ? new GatewayError('UPSTREAM_EXITED', `Server ${this.server} exited (${how}) before answering`)
        : new GatewayError(
            'SANDBOX_LIMIT',
            `Server ${this.server} was stopped at its ${limit} (${how}) before answering; the next call gets a new process`,
          ),
    );
    this.#subscribers.clear();
    if (expected) this.#log.debug({ exit }, 'server stopped');
    else this.#log.warn({ exit }, 'server exited unexpectedly');
    this.#hooks.onExit(this, exit);
  }

  /** An exit while starting is a failed start, whoever ended it; after that, stopped or crashed. */
  #countExit(): void {
    const counts = this.#options.counts;
    if (!counts) return;
    if (this.#state === 'stopping') counts.stopped++;
    else if (this.#state === 'starting') counts.startFailed++;
    else counts.crashed++;
  }
}

function startupError(server: string, error: unknown, timedOut: boolean, timeoutMs: number): GatewayError {
  if (timedOut)
    return new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${server} did not start within ${timeoutMs} ms`);
  if (error instanceof RemoteError) {
    return new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${server} refused initialize: ${error.message}`);
  }
  if (error instanceof GatewayError) {
    return new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${server} failed to start: ${error.message}`, {
      cause: error,
    });
  }
  return new GatewayError('UPSTREAM_UNAVAILABLE', `Server ${server} failed to start`, { cause: error });
}

/** Aborts when either signal does. */
function anySignal(first: AbortSignal | undefined, second: AbortSignal): AbortSignal {
  return first ? AbortSignal.any([first, second]) : second;
}
