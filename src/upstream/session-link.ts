/**
 * What the upstream layer needs of a client session, so that upstream code never imports the
 * session module: a key to recognise it by, and two ways to reach its client.
 */
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCNotification, RequestId } from '../jsonrpc/message.ts';

export type SessionLink = {
  /** An opaque, unguessable key; it is what a session-aware server echoes back in `_meta`. */
  readonly key: string;
  readonly tenantId: string;
  readonly subject: string;
  /** The level the client asked for with `logging/setLevel`; undefined until it asks. */
  readonly logLevel: string | undefined;
  /** What the client declared in `initialize`; undefined before it. */
  readonly clientCapabilities: ClientCapabilities | undefined;
  /**
   * Delivers a notification from a server to the session's client. `relatedRequestId` is the
   * client's own id of the request the notification belongs to, when there is one.
   */
  deliver(notification: JSONRPCNotification, relatedRequestId: RequestId | undefined): void;
  /**
   * Sends a server-to-client request (sampling, elicitation, roots, ...) to the session's client.
   * Resolves with the client's result; rejects with a {@link RemoteError} carrying the client's
   * JSON-RPC error, or with a GatewayError.
   */
  ask(
    method: string,
    params: Record<string, unknown> | undefined,
    relatedRequestId: RequestId | undefined,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
};

/** A JSON-RPC error that the other side sent: data to pass on unchanged, not a gateway failure. */
export class RemoteError extends Error {
  readonly error: { code: number; message: string; data?: unknown };

  constructor(error: { code: number; message: string; data?: unknown }) {
    super(error.message);
    this.name = 'RemoteError';
    this.error = error;
  }
}

/** A request that was cancelled: its caller must not answer it (spec 2025-11-25, "Cancellation"). */
export class CancelledError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'CancelledError';
  }
}
