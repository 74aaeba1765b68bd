/**
 * Requests of a Streamable HTTP session that the Node-native POST path answers on the Node
 * response itself, without the SDK transport. The spec lets the server answer a POST either as
 * `application/json` or as an SSE stream (2025-11-25, "Transports" §Sending messages to the
 * server): the answer goes out as JSON, in one `res.end()`, unless the session has something
 * else to say about the request first (a log message, a sampling or elicitation request). Then
 * the response becomes an SSE stream at that first message, and carries the answer at its end.
 */
import type { ServerResponse } from 'node:http';
import { armSseKeepAlive, DEFAULT_SSE_KEEP_ALIVE_MS } from '@modelcontextprotocol/sdk/server/sseKeepAlive.js';
import type { JSONRPCMessage, RequestId } from '../../jsonrpc/message.ts';
import type { ClientSession } from '../../session/client-session.ts';
import type { OutputStreams } from './output-streams.ts';

/** The headers the SDK transport sends on an SSE response, so both paths look the same. */
const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

export class DirectReplies {
  readonly #bySession = new WeakMap<ClientSession, Map<RequestId, DirectReply>>();
  readonly #streams: OutputStreams;

  constructor(streams: OutputStreams) {
    this.#streams = streams;
  }

  /** From now on, what `session` emits about request `id` goes to `res`. */
  open(session: ClientSession, sessionId: string, id: RequestId, res: ServerResponse): void {
    let replies = this.#bySession.get(session);
    if (!replies) this.#bySession.set(session, (replies = new Map<RequestId, DirectReply>()));
    replies.set(id, new DirectReply(res, sessionId, this.#streams));
  }

  /**
   * Takes a message the session emits if it belongs to a request answered here (the transport
   * binding asks first); false sends it the usual way.
   */
  take(session: ClientSession, message: JSONRPCMessage, relatedRequestId: RequestId | undefined): boolean {
    const replies = this.#bySession.get(session);
    if (!replies) return false;
    const response = !('method' in message);
    const id = response ? message.id : relatedRequestId;
    const reply = id === undefined || id === null ? undefined : replies.get(id);
    if (!reply) return false;
    if (response) {
      replies.delete(id as RequestId);
      if (replies.size === 0) this.#bySession.delete(session);
      reply.answer(message);
    } else reply.stream(message);
    return true;
  }
}

class DirectReply {
  readonly #res: ServerResponse;
  readonly #sessionId: string;
  readonly #streams: OutputStreams;
  #streaming = false;
  #keepAlive: NodeJS.Timeout | undefined;

  constructor(res: ServerResponse, sessionId: string, streams: OutputStreams) {
    this.#res = res;
    this.#sessionId = sessionId;
    this.#streams = streams;
  }

  /** The request's response: the whole JSON body in one write, or the stream's last event. */
  answer(message: JSONRPCMessage): void {
    const res = this.#res;
    if (res.destroyed) return;
    const json = JSON.stringify(message);
    if (this.#streaming) {
      clearInterval(this.#keepAlive);
      res.end(event(json));
      return;
    }
    const bytes = Buffer.byteLength(json);
    res.writeHead(200, {
      'content-type': 'application/json',
      'mcp-session-id': this.#sessionId,
      'content-length': bytes,
    });
    res.end(json);
    this.#streams.guardAnswer(res, bytes);
  }

  /** A message about the request before its response: the answer becomes an SSE stream. */
  stream(message: JSONRPCMessage): void {
    const res = this.#res;
    if (res.destroyed) return;
    if (!this.#streaming) {
      this.#streaming = true;
      res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.#sessionId });
      // The same guard as every other SSE stream: a client that does not read loses the stream.
      this.#streams.guardServerResponse(res);
      this.#keepAlive = armSseKeepAlive(DEFAULT_SSE_KEEP_ALIVE_MS, () => res.write(': keepalive\n\n'));
      res.once('close', () => clearInterval(this.#keepAlive));
    }
    res.write(event(JSON.stringify(message)));
  }
}

/** One SSE event as the SDK frames it. No event id: see docs/benchmarks.md on resumption. */
function event(json: string): string {
  return `event: message\ndata: ${json}\n\n`;
}
