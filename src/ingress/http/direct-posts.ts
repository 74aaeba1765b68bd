/**
 * The Node-native path for the common Streamable HTTP requests: a POST of one JSON-RPC message
 * to an open session, the `initialize` that opens one, and the DELETE that ends one. It reads
 * the Node request and answers on the Node response ({@link DirectReplies}), with no web
 * Request, ReadableStream or SDK transport in between, and parses the body once. It passes the
 * same checks as the Hono path, by the same functions: the Host/Origin guard, the body limit,
 * authentication, the JSON depth limit, the session and its principal, the message screen
 * (shape, scopes, batches, draining) and the request-id claims.
 *
 * Anything else goes to the Hono path untouched, or with the body it already read: GET, any
 * other POST without a session id, batches, browser requests (CORS), an unsupported
 * protocol-version header, and the Accept or Content-Type refusals the SDK words.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import { SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../../errors.ts';
import type { HttpConfig } from '../../config/http-schema.ts';
import { samePrincipal, type Principal } from '../../identity/principal.ts';
import type { JSONRPCMessage, JSONRPCRequest } from '../../jsonrpc/message.ts';
import { requestIdInUse } from '../../session/client-session.ts';
import { withHeaderTraceContext } from '../trace-header.ts';
import type { DirectReplies } from './direct-replies.ts';
import { hostRefusal } from './host-guard.ts';
import { bodyTooLarge, parseJsonBody } from './request-admission.ts';
import { UNKNOWN_IP } from './source-ip.ts';
import { CAN_ADOPT_SESSIONS, type StreamableHttpFace } from './streamable-http.ts';

/** The Hono path, handed a request the direct path does not serve. */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

export class DirectPosts {
  readonly #face: StreamableHttpFace;
  readonly #replies: DirectReplies;
  readonly #http: HttpConfig;
  readonly #path: string;
  readonly #hostRefusal: ReturnType<typeof hostRefusal>;

  constructor(face: StreamableHttpFace, replies: DirectReplies, http: HttpConfig, path: string) {
    this.#face = face;
    this.#replies = replies;
    this.#http = http;
    this.#path = path;
    this.#hostRefusal = hostRefusal(http);
  }

  /** Serves `req` here, or hands it to `fallback` (at once, or once its body is read). */
  handle(req: IncomingMessage, res: ServerResponse, fallback: NodeListener): void {
    const kind = this.#kind(req);
    if (kind === undefined) {
      fallback(req, res);
      return;
    }
    readBody(req, this.#http.maxBodySize)
      .then(
        (body) => {
          if (body === undefined) return write(res, this.#face.fail(bodyTooLarge(this.#http.maxBodySize)));
          return kind === 'post' ? this.#post(req, res, body, fallback) : this.#delete(req, res);
        },
        // The client went away while sending: there is no one to answer.
        () => void res.destroy(),
      )
      .catch((error: unknown) => {
        // A failure of the gateway's own (logged by the refusal as INTERNAL), never a crash.
        if (res.headersSent) res.destroy();
        else return write(res, this.#face.fail(error));
      })
      .catch(() => res.destroy());
  }

  /**
   * From the headers alone: a POST (to an open session, or an `initialize`) or a DELETE of a
   * session that the direct path may answer.
   */
  #kind(req: IncomingMessage): 'post' | 'delete' | undefined {
    const { headers, method } = req;
    if (method !== 'POST' && method !== 'DELETE') return undefined;
    const session = headers['mcp-session-id'];
    // Without a session id, only a POST (an initialize) is the direct path's, and only while the
    // SDK transport can be told the id (CAN_ADOPT_SESSIONS).
    const sessionOk =
      typeof session === 'string' || (session === undefined && method === 'POST' && CAN_ADOPT_SESSIONS);
    if (!sessionOk) return undefined;
    if (req.url !== this.#path && !req.url?.startsWith(`${this.#path}?`)) return undefined;
    // Browsers' requests keep to the Hono path, where CORS adds its headers; refusals are its too.
    if (headers.origin !== undefined || this.#hostRefusal(headers.host, undefined)) return undefined;
    const length = headers['content-length'];
    if (length !== undefined && Number(length) > this.#http.maxBodySize) return undefined;
    const version = headers['mcp-protocol-version'];
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version as string)) return undefined;
    if (method === 'DELETE') return 'delete';
    const accept = headers.accept;
    return accept !== undefined &&
      accept.includes('application/json') &&
      accept.includes('text/event-stream') &&
      isJsonContentType(headers['content-type'])
      ? 'post'
      : undefined;
  }

  /**
   * Ends the session, as the SDK transport does for a DELETE (close it, then 200 with no body):
   * closing the transport closes the session, which answers its running calls and leaves the
   * face's sessions.
   */
  async #delete(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const face = this.#face;
    let principal: Principal;
    try {
      principal = await face.authenticate(nodeHeaders(req), req.socket.remoteAddress ?? UNKNOWN_IP);
    } catch (error) {
      return write(res, face.fail(error));
    }
    const entry = face.sessions.get(req.headers['mcp-session-id'] as string);
    if (!entry || !samePrincipal(entry.principal, principal))
      return write(res, face.fail(new GatewayError('SESSION_NOT_FOUND')));
    await entry.transport.close();
    res.writeHead(200).end();
  }

  async #post(req: IncomingMessage, res: ServerResponse, raw: Buffer, fallback: NodeListener): Promise<void> {
    const face = this.#face;
    let principal: Principal;
    let body: unknown;
    try {
      principal = await face.authenticate(nodeHeaders(req), req.socket.remoteAddress ?? UNKNOWN_IP);
      body = parseJsonBody(raw.toString('utf8'), this.#http.maxJsonDepth);
    } catch (error) {
      return write(res, face.fail(error));
    }
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    const initialize = isDirect(body) && (body as { method?: unknown }).method === 'initialize';
    // The Hono path serves the rest, with the body already read: it cannot be read twice.
    const handOver = (): void => {
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      fallback(req, res);
    };
    if (sessionId === undefined) {
      if (!initialize || !('id' in (body as object))) return handOver();
      const refused = await face.openDirect(principal, body as JSONRPCRequest, res, req.headers);
      if (refused) return write(res, refused);
      return;
    }
    const entry = face.sessions.get(sessionId);
    // Another principal's session id is treated exactly like an unknown one (spec: 404).
    if (!entry || !samePrincipal(entry.principal, principal))
      return write(res, face.fail(new GatewayError('SESSION_NOT_FOUND')));
    // A second initialize on an open session is the SDK transport's to refuse.
    if (!isDirect(body) || initialize) return handOver();
    const session = entry.session;
    const refused = face.screen(body, principal, session.protocolVersion);
    if (refused) return write(res, refused);
    const message = body as JSONRPCMessage;
    if (!('method' in message) || !('id' in message)) {
      // Notifications and responses: accepted, nothing to answer (202, as the SDK does).
      session.receive(message);
      res.writeHead(202).end();
      return;
    }
    const conflict = face.claims.claim(session, [message.id]);
    if (conflict) return write(res, face.fail(requestIdInUse(conflict.id), conflict.id));
    try {
      this.#replies.open(session, sessionId, message.id, res);
      session.receive(withHeaderTraceContext(message, { requestInfo: { headers: req.headers } }));
    } finally {
      face.claims.release(session, [message.id]);
    }
  }
}

/**
 * Whether a parsed body is the direct path's: one message, and no progress asked for (a call
 * that reports progress is a stream from its start, with resumable events).
 */
function isDirect(body: unknown): body is object {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { params } = body as { params?: { _meta?: { progressToken?: unknown } } };
  return typeof params !== 'object' || params === null || params._meta?.progressToken === undefined;
}

/** The body, or undefined past `limit` bytes (what the Hono path's body limit refuses). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      else chunks.push(chunk);
    });
    req.once('end', () =>
      resolve(over ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
    );
    req.once('error', reject);
  });
}

/** The request's headers as the authenticator reads them (by lower-case name). */
function nodeHeaders(req: IncomingMessage): { get(name: string): string | null } {
  return {
    get: (name) => {
      const value = req.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** A refusal built as a web Response (the one error format), written to the Node response. */
async function write(res: ServerResponse, response: Response): Promise<void> {
  const text = await response.text();
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => (headers[name] = value));
  res.writeHead(response.status, headers).end(text);
}
