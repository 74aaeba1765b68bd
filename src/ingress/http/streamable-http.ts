/**
 * Streamable HTTP (spec 2025-11-25, "Transports" §Streamable HTTP) on one endpoint. The SDK's
 * web-standard transport speaks the wire protocol (SSE and JSON responses, the GET stream,
 * resumption, DELETE, the protocol-version header); this layer decides who may reach which
 * session: it authenticates every request, binds each session to the principal that opened it,
 * checks scopes, and refuses what the negotiated protocol version removed (batches).
 */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Context } from 'hono';
import type { HttpConfig } from '../../config/http-schema.ts';
import { GatewayError } from '../../errors.ts';
import type { Gateway } from '../../gateway.ts';
import { samePrincipal, type Principal } from '../../identity/principal.ts';
import {
  isRequest,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type RequestId,
} from '../../jsonrpc/message.ts';
import type { Logger } from '../../log.ts';
import { requestIdInUse } from '../../session/client-session.ts';
import type { ClientSession } from '../../session/client-session.ts';
import { withHeaderTraceContext } from '../trace-header.ts';
import { bindTransport } from '../transport-binding.ts';
import { BoundedEventStore } from './bounded-event-store.ts';
import { DirectReplies } from './direct-replies.ts';
import { EventBudget } from './event-budget.ts';
import { HttpSessions, type HttpSession } from './http-sessions.ts';
import type { OutputStreams } from './output-streams.ts';
import { admit, asMessage, readJsonBody, refusal } from './request-admission.ts';
import { RequestIdClaims } from './request-id-claims.ts';
import { sourceIp } from './source-ip.ts';
import { randomToken } from '../../session/session-tokens.ts';

/** Batches (JSON arrays) were removed in 2025-06-18 ("Changelog" of that revision). */
const BATCHLESS_SINCE = '2025-06-18';

/** What both HTTP faces (Streamable HTTP and legacy SSE) are built from. */
export type FaceOptions = {
  readonly gateway: Gateway;
  readonly http: HttpConfig;
  readonly log: Logger;
  /** Authenticates, after the source IP's failed-authentication budget (429 past it). */
  readonly authenticate: (headers: HeaderReader, ip?: string) => Promise<Principal>;
  readonly resourceMetadataUrl: string;
  /** True while the server drains for shutdown: no new sessions, no new calls. */
  readonly draining: () => boolean;
  /** Guards every SSE stream against clients that do not read. */
  readonly streams: OutputStreams;
};

/** Request headers by name, from a web `Headers` or a Node request. */
export type HeaderReader = { get(name: string): string | null | undefined };

/** The Hono context under `@hono/node-server`, which hands over the Node response. */
export type NodeContext = Context<{ Bindings: { outgoing: ServerResponse } }>;

type Transport = WebStandardStreamableHTTPServerTransport;

export class StreamableHttpFace {
  readonly sessions: HttpSessions<Transport>;
  /** The bytes every session's resumption buffer holds together. */
  readonly events: EventBudget;
  /** Request ids between admission and the session (both POST paths claim them here). */
  readonly claims = new RequestIdClaims();
  /** Requests answered on the Node response by the direct POST path. */
  readonly replies: DirectReplies;
  readonly #options: FaceOptions;
  readonly #stores = new WeakMap<Transport, BoundedEventStore>();

  constructor(options: FaceOptions) {
    this.#options = options;
    this.sessions = new HttpSessions(options.http.sessionIdleTimeout);
    this.events = new EventBudget(options.http.maxEventBytes);
    this.replies = new DirectReplies(options.streams);
  }

  /** Authenticates, after the source IP's failed-authentication budget (the direct POST path's entry). */
  authenticate(headers: HeaderReader, ip: string): Promise<Principal> {
    return this.#options.authenticate(headers, ip);
  }

  async handle(c: NodeContext): Promise<Response> {
    const replay = { bytes: 0 };
    const response = await this.#handle(c.req.raw, replay, sourceIp(c.env));
    // Under an in-process `app.fetch` there is no Node response; the guard then measures its own queue.
    const outgoing = (c.env as { outgoing?: ServerResponse } | undefined)?.outgoing;
    return this.#options.streams.guardResponse(response, outgoing, replay.bytes);
  }

  async #handle(request: Request, replay: { bytes: number }, ip: string): Promise<Response> {
    let principal: Principal;
    try {
      principal = await this.#options.authenticate(request.headers, ip);
    } catch (error) {
      return this.fail(error);
    }
    const sessionId = request.headers.get('mcp-session-id');
    let body: unknown;
    try {
      body =
        request.method === 'POST' ? await readJsonBody(request, this.#options.http.maxJsonDepth) : undefined;
    } catch (error) {
      return this.fail(error);
    }
    if (sessionId === null) return this.#open(request, principal, body);

    const entry = this.sessions.get(sessionId);
    // Another principal's session id is treated exactly like an unknown one (spec: 404).
    if (!entry || !samePrincipal(entry.principal, principal))
      return this.fail(new GatewayError('SESSION_NOT_FOUND'));
    if (body !== undefined) return this.#post(entry, request, principal, body);
    const lastEventId = request.method === 'GET' ? request.headers.get('last-event-id') : null;
    const store = this.#stores.get(entry.transport);
    if (lastEventId && store) {
      if (store.resumeGap(lastEventId)) return this.fail(new GatewayError('RESUME_GAP'));
      replay.bytes = store.replayBytesAfter(lastEventId);
    }
    return entry.transport.handleRequest(request);
  }

  /** A POST to an open session: screened, its request ids claimed, then handed to the transport. */
  async #post(
    entry: HttpSession<Transport>,
    request: Request,
    principal: Principal,
    body: unknown,
  ): Promise<Response> {
    const refused = this.screen(body, principal, entry.session.protocolVersion);
    if (refused) return refused;
    const ids = requestIds(body);
    const conflict = this.claims.claim(entry.session, ids);
    if (conflict) {
      const error = conflict.withinBatch
        ? new GatewayError('INVALID_REQUEST', 'request ids must be unique within a batch')
        : requestIdInUse(conflict.id);
      return this.fail(error, conflict.id);
    }
    try {
      return await entry.transport.handleRequest(request, { parsedBody: body });
    } finally {
      // The session has the requests now (or the transport refused them): it tracks their ids.
      this.claims.release(entry.session, ids);
    }
  }

  /** A request without a session id must be an `initialize`; it opens a session for the principal. */
  async #open(request: Request, principal: Principal, body: unknown): Promise<Response> {
    if (body !== undefined) {
      const refused = this.screen(body, principal, undefined);
      if (refused) return refused;
    }
    if (request.method !== 'POST' || !isInitialize(body)) {
      return this.fail(new GatewayError('INVALID_REQUEST', 'Bad Request: Mcp-Session-Id header is required'));
    }
    const opened = await this.#start(principal, body);
    if (opened instanceof Response) return opened;
    const { session, transport } = opened;
    const response = await transport.handleRequest(request, { parsedBody: body });
    if (transport.sessionId === undefined) void session.close();
    return response;
  }

  /**
   * The direct POST path's `initialize` (one message, no session id): the session opens as on
   * the SDK path, but the transport is told its session id rather than finding it in the
   * request, and the InitializeResult goes out on `res` as `application/json` (which the spec
   * allows for any POST, 2025-11-25 "Transports" §Sending messages to the server). Resolves to a
   * refusal to write, or to undefined once the request is on its way to the session.
   */
  async openDirect(
    principal: Principal,
    message: JSONRPCRequest,
    res: ServerResponse,
    headers: IncomingHttpHeaders,
  ): Promise<Response | undefined> {
    const refused = this.screen(message, principal, undefined);
    if (refused) return refused;
    const opened = await this.#start(principal, message);
    if (opened instanceof Response) return opened;
    const { session, transport } = opened;
    const id = randomToken(24);
    adoptSession(transport, id);
    this.sessions.add({ id, transport, session, principal, lastSeen: Date.now() });
    this.replies.open(session, id, message.id, res);
    session.receive(withHeaderTraceContext(message, { requestInfo: { headers } }));
    return undefined;
  }

  /** A new session for the principal, bound to a new transport, or the refusal to answer with. */
  async #start(
    principal: Principal,
    body: unknown,
  ): Promise<{ session: ClientSession; transport: Transport } | Response> {
    if (this.#options.draining()) return this.fail(new GatewayError('GATEWAY_CLOSING'));
    let session: ClientSession;
    try {
      // A key or tenant over its rate may not open a session: the whole request is 429.
      await this.#options.gateway.limits.checkSessionOpen(principal);
      session = this.#options.gateway.connect(principal, 'streamable-http');
    } catch (error) {
      // A refused open (over a session limit: 429) answers the initialize by its own id.
      return this.fail(error, initializeId(body));
    }
    const { http } = this.#options;
    const eventStore = new BoundedEventStore(
      { maxEvents: http.maxEventsPerStream, maxBytes: http.maxEventBytesPerSession },
      this.events,
    );
    session.onClosed(() => eventStore.clear());
    const transport: Transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => randomToken(24),
      eventStore,
      retryInterval: 1_000,
      onsessioninitialized: (id) => {
        this.sessions.add({ id, transport, session, principal, lastSeen: Date.now() });
      },
    });
    this.#stores.set(transport, eventStore);
    await bindTransport(session, transport, this.#options.log, {
      divert: (message, related) => this.replies.take(session, message, related),
    });
    return { session, transport };
  }

  /** Checks a POST body against the session: batches where removed, scopes, draining. */
  screen(body: unknown, principal: Principal, version: string | undefined): Response | undefined {
    const messages = Array.isArray(body) ? body : [body];
    if (Array.isArray(body) && version !== undefined && version >= BATCHLESS_SINCE) {
      return this.fail(
        new GatewayError('INVALID_REQUEST', `JSON-RPC batches are not supported in protocol ${version}`),
      );
    }
    for (const value of messages) {
      let id: RequestId | undefined;
      try {
        const message = asMessage(value);
        id = 'id' in message ? message.id : undefined;
        admit(message, principal, this.#options.draining());
      } catch (error) {
        return this.fail(error, id);
      }
    }
    return undefined;
  }

  /** The HTTP answer to a refusal, by the one error format. */
  fail(error: unknown, id?: RequestId): Response {
    return refusal(error, this.#options, id);
  }
}

/**
 * Whether the SDK transport can be told a session id it did not generate ({@link adoptSession}):
 * the field it keeps its state in is private to it, so a release that renames it turns the
 * direct `initialize` off (those requests take the SDK path) rather than breaking sessions.
 * test/http/direct-post.test.ts fails when this is false.
 */
export const CAN_ADOPT_SESSIONS =
  '_initialized' in new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: () => '' });

/**
 * Puts the transport in the state its own handling of an `initialize` leaves it in
 * (`handlePostRequest` of @modelcontextprotocol/sdk 1.x sets `sessionId` and `_initialized`):
 * it then serves the session's GET stream, DELETE and later POSTs as if it had opened it.
 */
function adoptSession(transport: Transport, id: string): void {
  transport.sessionId = id;
  (transport as unknown as { _initialized: boolean })._initialized = true;
}

function initializeId(body: unknown): RequestId | undefined {
  const message = (Array.isArray(body) ? body : [body]).find(
    (value) => (value as { method?: unknown } | null)?.method === 'initialize',
  ) as { id?: unknown } | undefined;
  return typeof message?.id === 'string' || typeof message?.id === 'number' ? message.id : undefined;
}

/** Whether an admitted body carries an `initialize` request. */
function isInitialize(body: unknown): boolean {
  const messages = (Array.isArray(body) ? body : [body]) as JSONRPCMessage[];
  return messages.some((message) => 'method' in message && message.method === 'initialize');
}

/** The ids of the requests in an admitted body. */
function requestIds(body: unknown): RequestId[] {
  const messages = (Array.isArray(body) ? body : [body]) as JSONRPCMessage[];
  return messages.flatMap((message) => (isRequest(message) ? [message.id] : []));
}
