/**
 * Joins an SDK `Transport` (stdio, Streamable HTTP, in-memory) to a client session: messages the
 * transport receives go to the session, messages the session emits go out on the transport with
 * the id of the client request they belong to (so Streamable HTTP puts them on that request's
 * stream). Closing either side closes the other.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Logger } from 'pino';
import type { ClientSession } from '../session/client-session.ts';

export async function bindTransport(
  session: ClientSession,
  transport: Transport,
  log: Logger,
): Promise<void> {
  transport.onmessage = (message) => session.receive(message);
  transport.onerror = (error) => log.warn({ err: error }, 'transport error');
  transport.onclose = () => {
    void session.close();
  };
  session.output = (message, relatedRequestId) => {
    transport
      .send(message, relatedRequestId === undefined ? undefined : { relatedRequestId })
      .catch((error: unknown) => {
        log.debug({ err: error }, 'could not send a message to the client');
      });
  };
  session.onClosed(() => {
    void transport.close();
  });
  await transport.start();
}
