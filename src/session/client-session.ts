/**
 * The gateway's side of one client's MCP session. It takes JSON-RPC messages from whatever
 * transport the client came in on and emits messages back; it knows nothing of HTTP or stdio.
 * The gateway terminates the session itself: it answers `initialize` and `ping`, aggregates
 * lists, and forwards everything else to the right server through the multiplexer.
 */
import type { ClientCapabilities, InitializeResult } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import { GatewayError, asGatewayError } from '../errors.ts';
import type { Principal } from '../identity/principal.ts';
import { withoutGatewayKeys } from '../jsonrpc/gateway-meta-key.ts';
import {
  errorResponse,
  isNotification,
  isRequest,
  resultResponse,
  type JSONRPCError,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type RequestId,
} from '../jsonrpc/message.ts';
import { attachContext, contextOf } from '../guard/call-context.ts';
import { newCall, type Call, type Face, type Next } from '../guard/pipeline.ts';
import { LIST_METHODS, type ListMethod, type Route, type Router } from '../router/router.ts';
import { CancelledError, RemoteError, type SessionLink } from '../upstream/session-link.ts';
import type { ProgressParams } from '../upstream/session-multiplexer.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';
import { ClientRequests } from './client-requests.ts';
import { initializeResult } from './initialize.ts';
import { isLogLevel, passes, type LogLevel } from './log-level.ts';
import { randomToken } from './session-tokens.ts';

/** What a session needs of the gateway around it. */
export type SessionCore = {
  readonly router: Router;
  /** The call pipeline (guard/), ending in the forwarding each call attaches. */
  readonly pipeline: () => Next;
  readonly version: string;
  readonly log: Logger;
  readonly metaPrefix: string;
  onLogLevelChanged(session: ClientSession): Promise<void>;
  onClosed(session: ClientSession): void;
  /**
   * A call's exchange with a process begins (cost attribution follows in-flight time per
   * process); what it returns is called when the exchange ends.
   */
  onExchange?(call: Call, process: { readonly pid: number | undefined; readonly server: string }): () => void;
};

/** Where a session's outgoing messages go; `relatedRequestId` ties a message to a client request. */
export type SessionOutput = (message: JSONRPCMessage, relatedRequestId: RequestId | undefined) => void;

type Outcome = { result: Record<string, unknown> } | { error: JSONRPCError['error'] };

/**
 * The refusal of a request whose id the client is still using for another (JSON-RPC ids are
 * unique among a sender's active requests); the first request goes on and is answered.
 */
export function requestIdInUse(id: RequestId): GatewayError {
  const shown = JSON.stringify(id);
  return new GatewayError(
    'INVALID_REQUEST',
    `request id ${shown.length > 64 ? `${shown.slice(0, 61)}...` : shown} is already in use in this session`,
  );
}

export class ClientSession implements SessionLink {
  readonly key = randomToken(18);
  readonly principal: Principal;
  readonly #core: SessionCore;
  /** Made at its first use: a pino child runs its redaction over the bindings, ~17 µs a session. */
  #logger: Logger | undefined;
  readonly #inflight = new Map<RequestId, AbortController>();
  /** Servers this session has sent work to; released at close, even after a reload replaced them. */
  readonly #used = new Set<UpstreamServer>();
  readonly #asks: ClientRequests;
  #clientCapabilities: ClientCapabilities | undefined;
  #protocolVersion: string | undefined;
  #logLevel: LogLevel | undefined;
  #closed = false;
  /** Receives the session's outgoing messages; the transport binding sets it. */
  output: SessionOutput | undefined;
  readonly #closeListeners: (() => void)[] = [];
  /** Set once close() has finished and its listeners have run. */
  #ended = false;

  /** The transport the client came in on, for policy and audit. */
  readonly face: Face;

  constructor(principal: Principal, core: SessionCore, face: Face = 'stdio') {
    this.principal = principal;
    this.face = face;
    this.#core = core;
    this.#asks = new ClientRequests((message, related) => this.#send(message, related));
  }

  get #log(): Logger {
    return (this.#logger ??= this.#core.log.child({
      tenant: this.principal.tenantId,
      subject: this.principal.subject,
    }));
  }

  get tenantId(): string {
    return this.principal.tenantId;
  }

  get subject(): string {
    return this.principal.subject;
  }

  /** The protocol version negotiated by `initialize`, once it has run. */
  get protocolVersion(): string | undefined {
    return this.#protocolVersion;
  }

  get logLevel(): LogLevel | undefined {
    return this.#logLevel;
  }

  get clientCapabilities(): ClientCapabilities | undefined {
    return this.#clientCapabilities;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get inflight(): number {
    return this.#inflight.size;
  }

  /** Whether a request with this id is still running here (ids are unique among active requests). */
  isInflight(id: RequestId): boolean {
    return this.#inflight.has(id);
  }

  /** Takes one message from the client. */
  receive(message: JSONRPCMessage): void {
    if (this.#closed) {
      if (isRequest(message))
        this.#send(
          errorResponse(message.id, new GatewayError('SESSION_CLOSED').toJsonRpcError()),
          message.id,
        );
      return;
    }
    if (isRequest(message)) void this.#handleRequest(message);
    else if (isNotification(message)) this.#handleNotification(message);
    else if (!this.#asks.settle(message)) this.#log.debug('ignored a response to no request of ours');
  }

  /** SessionLink: a server's notification for this client. */
  deliver(notification: JSONRPCNotification, relatedRequestId: RequestId | undefined): void {
    if (
      notification.method === 'notifications/message' &&
      !passes(notification.params?.level, this.#logLevel)
    )
      return;
    this.#send(notification, relatedRequestId);
  }

  /** SessionLink: a server's request for this client. */
  ask(
    method: string,
    params: Record<string, unknown> | undefined,
    relatedRequestId: RequestId | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>> {
    if (this.#closed) return Promise.reject(new GatewayError('SESSION_CLOSED'));
    return this.#asks.ask(
      method,
      this.#withoutGatewayMeta(params),
      relatedRequestId,
      signal,
      this.#clientCapabilities,
    );
  }

  /** Tells the client that a list it may have cached changed. */
  notifyListChanged(kind: 'tools' | 'prompts' | 'resources'): void {
    if (this.#protocolVersion)
      this.#send({ jsonrpc: '2.0', method: `notifications/${kind}/list_changed` }, undefined);
  }

  /**
   * Ends the session: answers each call still running with `reason` (SESSION_CLOSED unless the
   * gateway says otherwise, e.g. GATEWAY_CLOSING at shutdown) and cancels it upstream, then ends
   * its subscriptions and dedicated processes. Every request gets exactly one response, and the
   * answers go out before the transport closes its streams.
   */
  async close(reason?: GatewayError): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // The errors are made only when something waits for them: an Error captures a stack, which
    // cost a session that closed with nothing in flight (the usual DELETE) ~35 µs.
    if (this.#inflight.size > 0) {
      const answer = (reason ?? new GatewayError('SESSION_CLOSED')).toJsonRpcError();
      for (const [id, controller] of this.#inflight) {
        this.#send(errorResponse(id, answer), id);
        controller.abort();
      }
    }
    if (this.#asks.pending > 0) this.#asks.closeAll(new GatewayError('SESSION_CLOSED'));
    // Every server it used, including one a reload has since replaced (it drains until released).
    const servers = new Set([...this.#core.router.serversFor(this.tenantId), ...this.#used]);
    await Promise.allSettled([...servers].map((server) => server.release(this)));
    this.#core.onClosed(this);
    this.#ended = true;
    for (const listener of this.#closeListeners.splice(0)) listener();
  }

  /**
   * Runs `listener` once when the session closes, whoever closes it; at once if it already has.
   * Several parties hold a session (its transport, an HTTP registry, a CLI waiting to exit),
   * and each must hear of the close without depending on the order they attached in.
   */
  onClosed(listener: () => void): void {
    if (this.#ended) listener();
    else this.#closeListeners.push(listener);
  }

  async #handleRequest(request: JSONRPCRequest): Promise<void> {
    if (this.#inflight.has(request.id)) {
      this.#send(errorResponse(request.id, requestIdInUse(request.id).toJsonRpcError()), request.id);
      return;
    }
    const controller = new AbortController();
    this.#inflight.set(request.id, controller);
    try {
      const outcome = await this.#dispatch(request, controller.signal);
      // close() has answered every call that was still running.
      if (this.#closed) return;
      this.#send(
        'error' in outcome
          ? errorResponse(request.id, outcome.error)
          : resultResponse(request.id, outcome.result),
        request.id,
      );
    } catch (error) {
      this.#answerFailure(request, error);
    } finally {
      this.#inflight.delete(request.id);
    }
  }

  #answerFailure(request: JSONRPCRequest, error: unknown): void {
    // A cancelled request is not answered (spec 2025-11-25, "Cancellation"); after close() it
    // already was.
    if (error instanceof CancelledError || this.#closed) return;
    if (error instanceof RemoteError) {
      this.#send(errorResponse(request.id, error.error), request.id);
      return;
    }
    const failure = asGatewayError(error);
    if (failure.code === 'INTERNAL')
      this.#log.error({ err: error, method: request.method }, 'request failed');
    else this.#log.debug({ code: failure.code, method: request.method }, 'request refused');
    this.#send(errorResponse(request.id, failure.toJsonRpcError()), request.id);
  }

  async #dispatch(request: JSONRPCRequest, signal: AbortSignal): Promise<Outcome> {
    const params = (request.params ?? {}) as Record<string, unknown>;
    if (request.method === 'initialize') return { result: await this.#initialize(params) };
    if (request.method === 'ping') return { result: {} };
    if (!this.#protocolVersion) throw new GatewayError('NOT_INITIALIZED');
    if (request.method === 'logging/setLevel') return { result: await this.#setLogLevel(params.level) };
    // Everything else passes the pipeline: admit, route, authorize, guards, forward, audit. A call
    // to the gateway's own management tools does so as face `admin-mcp`, for policy and audit.
    const face = this.#core.router.isBuiltinCall(this.principal, request.method, params)
      ? 'admin-mcp'
      : this.face;
    const call = newCall({
      id: request.id,
      method: request.method,
      params,
      session: { key: this.key, principal: this.principal, face },
      signal,
    });
    attachContext(call, { link: this, forward: (routed) => this.#forward(routed, request) });
    return this.#core.pipeline()(call);
  }

  /** The pipeline's last step: aggregate a list, or send the call to the server it was routed to. */
  async #forward(call: Call, request: JSONRPCRequest): Promise<Outcome> {
    if (LIST_METHODS.has(call.method)) {
      return { result: await this.#core.router.list(this, call.method as ListMethod, call.params) };
    }
    const context = contextOf(call);
    const route = context.route;
    if (!route) throw new GatewayError('INTERNAL', 'a call reached the server without a route');
    // The gateway's own server answers here; it lists tools only, so only tools/call reaches it.
    if (route.kind === 'builtin') {
      return { result: await route.server.call(this.principal, call.params, call.signal) };
    }
    if (call.method === 'resources/subscribe' || call.method === 'resources/unsubscribe') {
      return this.#subscription(call.method, route, call.params);
    }
    const onProgress = this.#progressRelay(request);
    this.#used.add(route.server);
    // On the route's pool: the session's own tenant's, or a grant owner's for a shared server.
    const queued = performance.now();
    return route.server.use(
      this,
      async (process) => {
        // The gateway's own time is told apart from the wait for a process and the server's time.
        const began = performance.now();
        call.notes.poolWaitMs = began - queued;
        const ended = context.onUpstream?.(call, process);
        const exchanged = this.#core.onExchange?.(call, process);
        try {
          return await process.forward(call.method, call.params, {
            session: this,
            clientRequestId: request.id,
            signal: call.signal,
            onProgress,
            onCpu: (cpuMs) => (call.notes.cpuMs = cpuMs),
          });
        } finally {
          call.notes.upstreamMs = performance.now() - began;
          ended?.();
          exchanged?.();
        }
      },
      route.poolTenant,
    );
  }

  async #initialize(params: Record<string, unknown>): Promise<InitializeResult> {
    if (this.#protocolVersion)
      throw new GatewayError('INVALID_REQUEST', 'The session is already initialized');
    this.#clientCapabilities = params.capabilities ?? {};
    const routes = this.#core.router.routesFor(this.tenantId);
    // Profiles, not processes: opening a session claims no session-mode process.
    const settled = await Promise.allSettled(
      routes.map((route) => route.server.profile(this, route.poolTenant)),
    );
    const profiles = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
    const result = initializeResult(params.protocolVersion, profiles, this.#core.version);
    this.#protocolVersion = result.protocolVersion;
    return result;
  }

  async #setLogLevel(level: unknown): Promise<Record<string, unknown>> {
    if (!isLogLevel(level)) throw new GatewayError('INVALID_PARAMS', 'level must be an MCP log level');
    this.#logLevel = level;
    await this.#core.onLogLevelChanged(this);
    return {};
  }

  /** Subscriptions are counted per process, so one upstream subscription serves every session. */
  async #subscription(
    method: 'resources/subscribe' | 'resources/unsubscribe',
    route: Route & { readonly kind: 'upstream' },
    params: Record<string, unknown>,
  ): Promise<Outcome> {
    const uri = params.uri as string;
    const { server, poolTenant } = route;
    if (method === 'resources/unsubscribe') {
      // Only processes that hold the subscription act on it; none is claimed to unsubscribe.
      const holding = server.processesFor(this, poolTenant);
      await Promise.all(holding.map((process) => process.unsubscribe(this, uri)));
      return { result: {} };
    }
    this.#used.add(server);
    const process = await server.representative(this, poolTenant);
    const refused = await process.subscribe(this, uri);
    return refused && 'error' in refused ? { error: refused.error } : { result: {} };
  }

  /** When the client asked for progress, relays it under the client's own token. */
  #progressRelay(request: JSONRPCRequest): ((progress: ProgressParams) => void) | undefined {
    const token = request.params?._meta?.progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return undefined;
    return (progress) =>
      this.#send(
        { jsonrpc: '2.0', method: 'notifications/progress', params: { ...progress, progressToken: token } },
        request.id,
      );
  }

  #handleNotification(notification: JSONRPCNotification): void {
    const params = (notification.params ?? {}) as Record<string, unknown>;
    switch (notification.method) {
      case 'notifications/cancelled': {
        const id = params.requestId;
        if (typeof id === 'string' || typeof id === 'number') this.#inflight.get(id)?.abort();
        return;
      }
      case 'notifications/initialized':
        return;
      case 'notifications/roots/list_changed':
        this.#forwardRootsChanged();
        return;
      default:
        this.#log.debug({ method: notification.method }, 'ignored a client notification');
    }
  }

  /**
   * Only a process dedicated to this session, set to `roots: session`, may hear that the client's
   * roots changed; the others are answered from config and never see the client's roots. A
   * process claimed later hears it when it is claimed.
   */
  #forwardRootsChanged(): void {
    for (const server of this.#core.router.serversFor(this.tenantId)) {
      if (server.mode !== 'session' || !server.forwardsRoots) continue;
      for (const process of server.processesFor(this))
        process.notifyServer('notifications/roots/list_changed');
    }
  }

  #withoutGatewayMeta(params: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const meta = params?._meta as Record<string, unknown> | undefined;
    if (!meta) return params;
    return { ...params, _meta: withoutGatewayKeys(meta, this.#core.metaPrefix) };
  }

  #send(message: JSONRPCMessage, relatedRequestId: RequestId | undefined): void {
    this.output?.(message, relatedRequestId);
  }
}
