/**
 * Joins an SDK `Transport` (stdio, Streamable HTTP, in-memory) to a client session: messages the
 * transport receives go to the session, messages the session emits go out on the transport with
 * the id of the client request they belong to (so Streamable HTTP puts them on that request's
 * stream). Closing either side closes the other. A `traceparent` header of the HTTP request that
 * carried a message joins the message's `_meta`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.ts';
import { errorResponse, isRequestId, type JSONRPCMessage, type RequestId } from '../jsonrpc/message.ts';
import { valueNestsDeeperThan } from '../jsonrpc/nesting-depth.ts';
import type { ClientSession } from '../session/client-session.ts';
import { withHeaderTraceContext } from './trace-header.ts';

export type BindOptions = {
  /**
   * Refuse client messages nested deeper than this. For transports that parse the client's bytes
   * themselves (stdio); the HTTP faces refuse such bodies before parsing them.
   */
  readonly maxJsonDepth?: number;
  /**
   * Asked first about every message the session emits; true means it was delivered another way
   * (Streamable HTTP's direct POST path answers some requests on the Node response itself).
   */
  readonly divert?: (message: JSONRPCMessage, relatedRequestId: RequestId | undefined) => boolean;
};

export async function bindTransport(
  session: ClientSession,
  transport: Transport,
  log: Logger,
  options: BindOptions = {},
): Promise<void> {
  const { maxJsonDepth, divert } = options;
  transport.onmessage = (message, extra) => {
    if (maxJsonDepth !== undefined && valueNestsDeeperThan(message, maxJsonDepth)) {
      refuseTooDeep(message, maxJsonDepth, session, transport, log);
      return;
    }
    session.receive(withHeaderTraceContext(message, extra));
  };
  transport.onerror = (error) => log.warn({ err: error }, 'transport error');
  transport.onclose = () => {
    void session.close();
  };
  // Sends still being written (a transport may await its event store before it writes).
  const sending = new Set<Promise<void>>();
  session.output = (message, relatedRequestId) => {
    if (divert?.(message, relatedRequestId)) return;
    const sent = transport
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((error: unknown) => {
        log.debug({ err: error }, 'could not send a message to the client');
      });
    sending.add(sent);
    void sent.then(() => sending.delete(sent));
  };
  session.onClosed(() => {
    // A closing session's last answers (an error for each call cut short) must reach their
    // streams before closing the transport ends them.
    Promise.all(sending)
      .then(() => transport.close())
      .catch((error: unknown) => log.debug({ err: error }, 'could not close the transport'));
  });
  await transport.start();
}

/**
 * A request nested too deeply is answered with JSON_TOO_DEEP; a response (to a server's
 * sampling or elicitation request) becomes that error, so the server's request still ends; a
 * notification is dropped. None of it reaches the session, which would hold it while a
 * recursive walk of it fails.
 */
function refuseTooDeep(
  message: JSONRPCMessage,
  limit: number,
  session: ClientSession,
  transport: Transport,
  log: Logger,
): void {
  log.warn({ limit }, 'refused a client message nested too deeply');
  const error = new GatewayError(
    'JSON_TOO_DEEP',
    `Invalid request: JSON nested deeper than ${limit} levels (gateway.http.maxJsonDepth)`,
  ).toJsonRpcError();
  const id = 'id' in message ? message.id : undefined;
  if (!isRequestId(id)) return;
  if ('method' in message) {
    transport.send(errorResponse(id, error), { relatedRequestId: id }).catch(() => undefined);
  } else {
    session.receive(errorResponse(id, error));
  }
}
