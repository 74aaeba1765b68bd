/**
 * Many client sessions over one stdio process. The multiplexer owns the process's request-id
 * space: every request it writes gets a fresh integer id, and the reply is handed back to the
 * caller that sent it, who still holds the client's original id (value and JSON type).
 * Progress tokens are rewritten the same way, cancellations and timeouts are translated, and
 * server-to-client traffic is attributed to a session when that can be done soundly.
 */
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import {
  checkMessageShape,
  errorResponse,
  isNotification,
  isRequest,
  isRequestId,
  resultResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponse,
  type RequestId,
} from '../jsonrpc/message.ts';
import { CallDeadlines } from './call-deadlines.ts';
import { findNumericId, type OversizedLine } from './line-framer.ts';
import type { RootsPolicy } from './roots-policy.ts';
import { CancelledError, RemoteError, type SessionLink } from './session-link.ts';

export type ProgressParams = { progress: number; total?: number; message?: string };

export type CallOptions = {
  readonly timeoutMs: number;
  /** The session the call is made for; absent for the gateway's own calls. */
  readonly session?: SessionLink;
  /** The client's id of the request being forwarded, for routing related messages. */
  readonly clientRequestId?: RequestId;
  readonly signal?: AbortSignal;
  /** Set when the client asked for progress: the token is rewritten and progress comes here. */
  readonly onProgress?: (progress: ProgressParams) => void;
  /** The largest response line accepted for this request (a tool's `maxResultSize`), in bytes. */
  readonly maxResultBytes?: number;
  /** Names the limit in the error when the response is larger (e.g. `servers.fs.limits.maxResultSize`). */
  readonly maxResultSetting?: string;
};

export type MultiplexerHooks = {
  /** Finds a live session by the key a session-aware server echoed back; undefined if unknown or not allowed here. */
  sessionByKey(key: string): SessionLink | undefined;
  onListChanged(kind: 'tools' | 'prompts' | 'resources'): void;
  onResourceUpdated(notification: JSONRPCNotification): void;
  /** A log message (`notifications/message`) no session could be found for. */
  onStrayLog(notification: JSONRPCNotification): void;
  /** A server-initiated message no session could be found for was dropped or refused (counted). */
  onUnattributable?(): void;
  /** A server-to-client request was relayed to a session's client and has been answered (metering). */
  onAsked?(asked: AskedRequest): void;
};

/** What metering learns of one relayed server-to-client request. */
export type AskedRequest = {
  readonly session: SessionLink;
  readonly method: string;
  readonly latencyMs: number;
  readonly ok: boolean;
  readonly params: Record<string, unknown> | undefined;
  readonly result: Record<string, unknown> | undefined;
};

export type MultiplexerStats = {
  requests: number;
  droppedLines: number;
  unattributable: number;
};

type Pending = {
  readonly id: number;
  readonly method: string;
  readonly session: SessionLink | undefined;
  readonly clientRequestId: RequestId | undefined;
  readonly resolve: (reply: JSONRPCResponse) => void;
  readonly reject: (error: Error) => void;
  readonly onProgress: ((progress: ProgressParams) => void) | undefined;
  readonly maxResult: { readonly bytes: number; readonly setting: string | undefined } | undefined;
  /** When the request times out (`performance.now()`), and after how long. */
  readonly deadline: number;
  readonly timeoutMs: number;
  detachSignal: (() => void) | undefined;
};

const LIST_CHANGED: Record<string, 'tools' | 'prompts' | 'resources'> = {
  'notifications/tools/list_changed': 'tools',
  'notifications/prompts/list_changed': 'prompts',
  'notifications/resources/list_changed': 'resources',
};

export class SessionMultiplexer {
  readonly stats: MultiplexerStats = { requests: 0, droppedLines: 0, unattributable: 0 };
  readonly #write: (message: JSONRPCMessage) => boolean;
  readonly #hooks: MultiplexerHooks;
  readonly #log: Logger;
  readonly #sessionMetaKey: string;
  readonly #roots: RootsPolicy;
  readonly #pending = new Map<number, Pending>();
  readonly #deadlines = new CallDeadlines<Pending>(
    () => this.#pending.values(),
    (pending) =>
      this.#abandon(
        pending,
        `timed out after ${pending.timeoutMs} ms`,
        new GatewayError(
          'UPSTREAM_TIMEOUT',
          `The server did not answer ${pending.method} within ${pending.timeoutMs} ms`,
        ),
      ),
  );
  readonly #inflightBySession = new Map<SessionLink, Set<Pending>>();
  /** Server-to-client requests being answered by a client, by the server's own id. */
  readonly #asks = new Map<RequestId, AbortController>();
  /** Client roots being fetched for the server (`roots: session`), until the answer is written. */
  readonly #rootsAnswers = new Set<Promise<void>>();
  #nextId = 1;
  #closed: GatewayError | undefined;
  /** Set when the process serves exactly one session (`session` mode). */
  dedicatedTo: SessionLink | undefined;

  constructor(options: {
    write: (message: JSONRPCMessage) => boolean;
    hooks: MultiplexerHooks;
    log: Logger;
    metaPrefix: string;
    roots: RootsPolicy;
  }) {
    this.#write = options.write;
    this.#hooks = options.hooks;
    this.#log = options.log;
    this.#sessionMetaKey = `${options.metaPrefix}/session`;
    this.#roots = options.roots;
  }

  /** Requests in flight on this process. */
  get inflight(): number {
    return this.#pending.size;
  }

  /**
   * Sends a request and resolves with the server's reply: a result or a JSON-RPC error, both data.
   * Rejects with a GatewayError when the gateway could not get a reply, or a CancelledError.
   */
  call(
    method: string,
    params: Record<string, unknown> | undefined,
    options: CallOptions,
  ): Promise<JSONRPCResponse> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (options.signal?.aborted) return Promise.reject(new CancelledError('cancelled before it was sent'));
    const id = this.#nextId++;
    this.stats.requests++;
    return new Promise<JSONRPCResponse>((resolve, reject) => {
      const outgoing = options.onProgress ? withProgressToken(params, id) : params;
      const message = {
        jsonrpc: '2.0',
        id,
        method,
        ...(outgoing ? { params: outgoing } : {}),
      } as JSONRPCRequest;
      // Written before it is registered: a request that cannot be serialized (JSON.stringify
      // throws on deep nesting) or written leaves no pending entry, and no timer holding its
      // params, behind. The reply cannot overtake this: it arrives on a later stdout event.
      const failure = this.#writeRequest(message);
      if (failure) {
        reject(failure);
        return;
      }
      const pending: Pending = {
        id,
        method,
        session: options.session,
        clientRequestId: options.clientRequestId,
        resolve,
        reject,
        onProgress: options.onProgress,
        maxResult:
          options.maxResultBytes === undefined
            ? undefined
            : { bytes: options.maxResultBytes, setting: options.maxResultSetting },
        deadline: performance.now() + options.timeoutMs,
        timeoutMs: options.timeoutMs,
        detachSignal: undefined,
      };
      this.#track(pending);
      this.#deadlines.watch(pending.deadline);
      if (options.signal) {
        const signal = options.signal;
        // A gateway error as the reason is the gateway's own cancellation (a CPU limit): the
        // caller gets that error, and the server hears why.
        const onAbort = (): void =>
          signal.reason instanceof GatewayError
            ? this.#abandon(pending, signal.reason.message, signal.reason)
            : this.#abandon(
                pending,
                'cancelled by the client',
                new CancelledError('cancelled by the client'),
              );
        options.signal.addEventListener('abort', onAbort, { once: true });
        pending.detachSignal = () => options.signal?.removeEventListener('abort', onAbort);
      }
    });
  }

  /** Writes a request to the process; the error to fail it with when that cannot be done. */
  #writeRequest(message: JSONRPCRequest): GatewayError | undefined {
    try {
      return this.#write(message) ? undefined : new GatewayError('UPSTREAM_EXITED');
    } catch (error) {
      this.#log.warn({ method: message.method }, 'could not serialize a request for the server');
      return new GatewayError('INVALID_PARAMS', 'The request params cannot be serialized for the server', {
        cause: error,
      });
    }
  }

  /** Sends a notification to the process (e.g. `notifications/initialized`). */
  notify(method: string, params?: Record<string, unknown>): void {
    this.#write({ jsonrpc: '2.0', method, ...(params ? { params } : {}) });
  }

  /** Handles one line the process wrote to stdout. */
  receiveLine(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.#drop('a line that is not JSON', text);
      return;
    }
    const problem = checkMessageShape(value);
    if (problem) {
      this.#drop(`a line that is not JSON-RPC (${problem})`, text);
      return;
    }
    this.#dispatch(value as JSONRPCMessage, text);
  }

  /** A line over the size limit: fail only the request it answers, if it can be found. */
  receiveOversized(info: OversizedLine, limit: number): void {
    const id = findNumericId(info);
    const pending = id === undefined ? undefined : this.#pending.get(id);
    this.#log.warn({ bytes: info.bytes, limit, requestId: id }, 'dropped a message over the size limit');
    if (pending) {
      this.#settle(
        pending,
        new GatewayError(
          'UPSTREAM_MESSAGE_TOO_LARGE',
          `The server's response (${info.bytes} bytes) exceeded the ${limit}-byte limit`,
        ),
      );
    }
  }

  /** Fails everything in flight: the process is gone. */
  close(error: GatewayError): void {
    this.#closed = error;
    this.#deadlines.stop();
    for (const pending of [...this.#pending.values()]) this.#settle(pending, error);
    for (const controller of this.#asks.values()) controller.abort();
    this.#asks.clear();
  }

  /** Sessions with requests in flight here. */
  sessionsInFlight(): number {
    return this.#inflightBySession.size;
  }

  #dispatch(message: JSONRPCMessage, text: string): void {
    if (isRequest(message)) {
      this.#onServerRequest(message);
    } else if (isNotification(message)) {
      this.#onNotification(message);
    } else {
      this.#onResponse(message, text);
    }
  }

  #onResponse(message: JSONRPCResponse, text: string): void {
    const pending = typeof message.id === 'number' ? this.#pending.get(message.id) : undefined;
    if (!pending) {
      // A reply that raced a cancellation or timeout; the spec says to ignore it.
      this.#log.debug({ id: message.id }, 'ignored a response to no pending request');
      return;
    }
    const limit = pending.maxResult;
    const bytes = limit === undefined ? 0 : Buffer.byteLength(text);
    if (limit !== undefined && bytes > limit.bytes) {
      this.#log.warn(
        { bytes, limit: limit.bytes, method: pending.method },
        'refused a result over its size limit',
      );
      const setting = limit.setting === undefined ? '' : ` (${limit.setting})`;
      this.#settle(
        pending,
        new GatewayError(
          'UPSTREAM_MESSAGE_TOO_LARGE',
          `The server's response (${bytes} bytes) exceeded the ${limit.bytes}-byte limit${setting}`,
        ),
      );
      return;
    }
    this.#settle(pending, message);
  }

  #onNotification(message: JSONRPCNotification): void {
    const params = (message.params ?? {}) as Record<string, unknown>;
    switch (message.method) {
      case 'notifications/progress':
        this.#onProgress(params);
        return;
      case 'notifications/cancelled':
        if (isRequestId(params.requestId)) this.#asks.get(params.requestId)?.abort();
        return;
      case 'notifications/resources/updated':
        this.#hooks.onResourceUpdated(message);
        return;
    }
    const kind = LIST_CHANGED[message.method];
    if (kind) {
      this.#hooks.onListChanged(kind);
      return;
    }
    const target = this.#attribute(params);
    if (target) {
      target.session.deliver(message, target.relatedRequestId);
    } else if (message.method === 'notifications/message') {
      this.#hooks.onStrayLog(message);
    } else {
      this.stats.unattributable++;
      this.#hooks.onUnattributable?.();
      this.#log.debug({ method: message.method }, 'dropped an unattributable notification');
    }
  }

  #onProgress(params: Record<string, unknown>): void {
    const token = params.progressToken;
    const pending = typeof token === 'number' ? this.#pending.get(token) : undefined;
    if (!pending?.onProgress) return;
    const { progressToken: _, _meta: __, ...progress } = params;
    pending.onProgress(progress as ProgressParams);
  }

  #onServerRequest(message: JSONRPCRequest): void {
    if (message.method === 'ping') {
      this.#write(resultResponse(message.id, {}));
      return;
    }
    // Roots from config are answered here, never by a client. A spare set to `roots: session`
    // has no client yet: it hears roots/list_changed once a session claims it.
    if (message.method === 'roots/list' && (this.#roots.kind === 'fixed' || !this.dedicatedTo)) {
      const roots = this.#roots.kind === 'fixed' ? this.#roots.roots : [];
      this.#write(resultResponse(message.id, { roots }));
      return;
    }
    const params = message.params;
    const target = this.#attribute(params ?? {});
    if (!target) {
      this.stats.unattributable++;
      this.#hooks.onUnattributable?.();
      // With no session work in flight this is startup chatter (a spare asking a client that does
      // not exist yet); with work in flight it is a real request the gateway had to refuse.
      this.#log[this.#inflightBySession.size === 0 ? 'debug' : 'warn'](
        { method: message.method },
        'refused a server-to-client request no session can be found for',
      );
      this.#write(errorResponse(message.id, new GatewayError('UNATTRIBUTABLE').toJsonRpcError()));
      return;
    }
    const controller = new AbortController();
    this.#asks.set(message.id, controller);
    const began = performance.now();
    const told = (ok: boolean, result: Record<string, unknown> | undefined): void =>
      this.#hooks.onAsked?.({
        session: target.session,
        method: message.method,
        latencyMs: performance.now() - began,
        ok,
        params,
        result,
      });
    const answered = target.session
      .ask(message.method, params, target.relatedRequestId, controller.signal)
      .then(
        (result) => {
          told(true, result);
          this.#answerAsk(message.id, controller, resultResponse(message.id, result));
        },
        (error: unknown) => {
          told(false, undefined);
          this.#answerAsk(message.id, controller, errorResponse(message.id, askError(error)));
        },
      )
      .catch((error: unknown) =>
        this.#log.error({ err: error }, 'failed to answer a server-to-client request'),
      );
    if (message.method === 'roots/list') {
      this.#rootsAnswers.add(answered);
      void answered.finally(() => this.#rootsAnswers.delete(answered));
    }
  }

  /** Settles once every roots/list the server has sent so far has been answered. */
  async rootsAnswered(): Promise<void> {
    await Promise.allSettled([...this.#rootsAnswers]);
  }

  #answerAsk(id: RequestId, controller: AbortController, reply: JSONRPCResponse): void {
    if (this.#asks.get(id) !== controller) return;
    this.#asks.delete(id);
    if (!controller.signal.aborted) this.#write(reply);
  }

  /**
   * Which session a server-initiated message belongs to. Over stdio such messages carry no link to
   * the request that caused them (MCP-NOTES, "Server-to-client requests"), so only three cases are
   * sound: the process serves one session; the server echoed the injected session key; or exactly
   * one session has requests in flight here. Anything else would risk handing one tenant's
   * sampling prompt to another.
   */
  #attribute(
    params: Record<string, unknown>,
  ): { session: SessionLink; relatedRequestId: RequestId | undefined } | undefined {
    let session = this.dedicatedTo;
    if (!session) {
      const meta = params._meta as Record<string, unknown> | undefined;
      const key = meta?.[this.#sessionMetaKey];
      if (typeof key === 'string') session = this.#hooks.sessionByKey(key);
    }
    if (!session && this.#inflightBySession.size === 1) {
      session = this.#inflightBySession.keys().next().value;
    }
    if (!session) return undefined;
    const inflight = this.#inflightBySession.get(session);
    const only = inflight?.size === 1 ? inflight.values().next().value : undefined;
    return { session, relatedRequestId: only?.clientRequestId };
  }

  #track(pending: Pending): void {
    this.#pending.set(pending.id, pending);
    if (!pending.session) return;
    let set = this.#inflightBySession.get(pending.session);
    if (!set) {
      set = new Set();
      this.#inflightBySession.set(pending.session, set);
    }
    set.add(pending);
  }

  #untrack(pending: Pending): boolean {
    if (!this.#pending.delete(pending.id)) return false;
    pending.detachSignal?.();
    if (pending.session) {
      const set = this.#inflightBySession.get(pending.session);
      set?.delete(pending);
      if (set?.size === 0) this.#inflightBySession.delete(pending.session);
    }
    return true;
  }

  #settle(pending: Pending, outcome: JSONRPCResponse | Error): void {
    if (!this.#untrack(pending)) return;
    if (outcome instanceof Error) pending.reject(outcome);
    else pending.resolve(outcome);
  }

  /**
   * Gives up on a request (the client cancelled it, or it ran out of time): the server is told
   * with `notifications/cancelled` under its own id, and the caller gets `error`.
   */
  #abandon(pending: Pending, reason: string, error: Error): void {
    if (!this.#untrack(pending)) return;
    this.#write({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: pending.id, reason },
    });
    pending.reject(error);
  }

  #drop(what: string, text: string): void {
    this.stats.droppedLines++;
    this.#log.warn({ bytes: text.length }, `dropped ${what} from the server's stdout`);
  }
}

function withProgressToken(
  params: Record<string, unknown> | undefined,
  token: number,
): Record<string, unknown> {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  return { ...params, _meta: { ...meta, progressToken: token } };
}

function askError(error: unknown): { code: number; message: string; data?: unknown } {
  if (error instanceof RemoteError) return error.error;
  if (error instanceof GatewayError) return error.toJsonRpcError();
  if (error instanceof CancelledError) return { code: -32800, message: 'Request cancelled' };
  return new GatewayError('INTERNAL').toJsonRpcError();
}
