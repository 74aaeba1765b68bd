/**
 * The HTTP+SSE transport of protocol 2024-11-05, for older clients: `GET /sse` opens a stream
 * whose first event (`endpoint`) names the URL to POST messages to; responses come back on the
 * stream. Same identity and session binding rules as Streamable HTTP.
 */
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { GatewayError } from '../../errors.ts';
import { samePrincipal } from '../../identity/principal.ts';
import { bindTransport } from '../transport-binding.ts';
import { HttpSessions } from './http-sessions.ts';
import { sourceIp } from './source-ip.ts';
import { admit, asMessage, readJsonBody, refusal } from './request-admission.ts';
import type { FaceOptions, NodeContext } from './streamable-http.ts';

export type LegacySseOptions = FaceOptions & {
  /** Path that POSTs go to, e.g. `/messages`. */
  readonly messagesPath: string;
};

export class LegacySseFace {
  readonly sessions: HttpSessions<SSEServerTransport>;
  readonly #options: LegacySseOptions;

  constructor(options: LegacySseOptions) {
    this.#options = options;
    this.sessions = new HttpSessions(options.http.sessionIdleTimeout);
  }

  /** `GET /sse`: opens a session and its stream. */
  async open(c: NodeContext): Promise<Response> {
    try {
      if (this.#options.draining()) throw new GatewayError('GATEWAY_CLOSING');
      const principal = await this.#options.authenticate(c.req.raw.headers, sourceIp(c.env));
      await this.#options.gateway.limits.checkSessionOpen(principal);
      const session = this.#options.gateway.connect(principal, 'legacy-sse');
      // Guarded before the transport writes its first event; see stream-guard.ts.
      this.#options.streams.guardServerResponse(c.env.outgoing);
      const transport = new SSEServerTransport(this.#options.messagesPath, c.env.outgoing);
      this.sessions.add({ id: transport.sessionId, transport, session, principal, lastSeen: Date.now() });
      await bindTransport(session, transport, this.#options.log);
      return RESPONSE_ALREADY_SENT;
    } catch (error) {
      return this.#fail(error);
    }
  }

  /** `POST /messages?sessionId=…`: one message for an open session; answered on its stream. */
  async post(c: NodeContext): Promise<Response> {
    try {
      const principal = await this.#options.authenticate(c.req.raw.headers, sourceIp(c.env));
      const entry = this.sessions.get(c.req.query('sessionId') ?? '');
      if (!entry || !samePrincipal(entry.principal, principal)) throw new GatewayError('SESSION_NOT_FOUND');
      const message = asMessage(await readJsonBody(c.req.raw, this.#options.http.maxJsonDepth));
      admit(message, principal, this.#options.draining());
      // The headers go along, for the trace context (the SDK's own POST handler passes them too).
      await entry.transport.handleMessage(message, {
        requestInfo: { headers: Object.fromEntries(c.req.raw.headers.entries()) },
      });
      return new Response('Accepted', { status: 202 });
    } catch (error) {
      return this.#fail(error);
    }
  }

  #fail(error: unknown): Response {
    return refusal(error, this.#options);
  }
}
