/**
 * Requests the gateway sends to a session's client on a server's behalf (sampling, elicitation,
 * roots). Ids are the session's own, so a client never sees a server's id space; the server's
 * original id stays with the multiplexer that answers it.
 */
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { GatewayError } from '../errors.ts';
import type { JSONRPCMessage, JSONRPCResponse, RequestId } from '../jsonrpc/message.ts';
import { CancelledError, RemoteError } from '../upstream/session-link.ts';

type Waiting = {
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (error: Error) => void;
  readonly detach: () => void;
};

/** The client capability each server-to-client request needs (spec 2025-11-25, "Client features"). */
const REQUIRED_CAPABILITY: Record<string, keyof ClientCapabilities> = {
  'sampling/createMessage': 'sampling',
  'elicitation/create': 'elicitation',
  'roots/list': 'roots',
};

export class ClientRequests {
  readonly #send: (message: JSONRPCMessage, relatedRequestId: RequestId | undefined) => void;
  readonly #waiting = new Map<number, Waiting>();
  #nextId = 1;

  constructor(send: (message: JSONRPCMessage, relatedRequestId: RequestId | undefined) => void) {
    this.#send = send;
  }

  ask(
    method: string,
    params: Record<string, unknown> | undefined,
    relatedRequestId: RequestId | undefined,
    signal: AbortSignal,
    capabilities: ClientCapabilities | undefined,
  ): Promise<Record<string, unknown>> {
    const needed = REQUIRED_CAPABILITY[method];
    if (needed && !capabilities?.[needed]) {
      return Promise.reject(
        new GatewayError('CLIENT_CAPABILITY_MISSING', `The client did not declare the ${needed} capability`),
      );
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.#waiting.delete(id)) return;
        this.#send(
          { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id } },
          relatedRequestId,
        );
        reject(new CancelledError('cancelled by the server'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(id, { resolve, reject, detach: () => signal.removeEventListener('abort', onAbort) });
      this.#send({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }, relatedRequestId);
    });
  }

  /** Takes the client's response to one of our requests; false if it answers nothing we asked. */
  settle(response: JSONRPCResponse): boolean {
    const waiting = typeof response.id === 'number' ? this.#waiting.get(response.id) : undefined;
    if (!waiting) return false;
    this.#waiting.delete(response.id as number);
    waiting.detach();
    if ('error' in response) waiting.reject(new RemoteError(response.error));
    else waiting.resolve(response.result);
    return true;
  }

  /** Fails every open request: the session is closing. */
  /** Requests to the client still waiting for its answer. */
  get pending(): number {
    return this.#waiting.size;
  }

  closeAll(error: Error): void {
    for (const waiting of this.#waiting.values()) {
      waiting.detach();
      waiting.reject(error);
    }
    this.#waiting.clear();
  }
}
