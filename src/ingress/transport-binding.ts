/**
 * Joins an SDK `Transport` (stdio, Streamable HTTP, in-memory) to a client session: messages the
 * transport receives go to the session, messages the session emits go out on the transport with
 * the id of the client request they belong to (so Streamable HTTP puts them on that request's
 * stream). Closing either side closes the other. A `traceparent` header of the HTTP request that
 * carried a message joins the message's `_meta`.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import type { ClientSession } from '../session/client-session.ts';
import { withHeaderTraceContext } from './trace-header.ts';

export async function bindTransport(
  session: ClientSession,
  transport: Transport,
  log: Logger,
): Promise<void> {
  transport.onmessage = (message, extra) => session.receive(withHeaderTraceContext(message, extra));
  transport.onerror = (error) => log.warn({ err: error }, 'transport error');
  transport.onclose = () => {
    void session.close();
  };
  // Sends still being written (a transport may await its event store before it writes).
  const sending = new Set<Promise<void>>();
  session.output = (message, relatedRequestId) => {
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
