/**
 * The remote end of the bridge: one SDK client transport, Streamable HTTP or the legacy
 * HTTP+SSE of 2024-11-05, behind one small type. A new upstream is a new remote session; the
 * bridge opens one after a fallback, after a 404 for an expired session, and after the legacy
 * event stream breaks.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import {
  StreamableHTTPClientTransport,
  type StreamableHTTPReconnectionOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '../jsonrpc/message.ts';

export type UpstreamKind = 'streamable-http' | 'sse';

export type UpstreamOptions = {
  readonly url: URL;
  /** Sent on every request: the bearer key and the user's `--header`s. */
  readonly headers: Readonly<Record<string, string>>;
  readonly fetch: FetchLike;
  /** How the SDK resumes a broken Streamable HTTP stream with `Last-Event-ID`. */
  readonly reconnection: StreamableHTTPReconnectionOptions;
};

export type UpstreamHandlers = {
  readonly message: (message: JSONRPCMessage) => void;
  readonly error: (error: Error) => void;
};

export type HttpUpstream = {
  readonly kind: UpstreamKind;
  /** Resolves once the remote has taken the message; rejects with the SDK's error. */
  send(message: JSONRPCMessage, onResumptionToken?: (token: string) => void): Promise<void>;
  /** Whether requests carry an `Mcp-Session-Id`, so a 404 means the session is gone. */
  hasSession(): boolean;
  setProtocolVersion(version: string): void;
  /** Ends the remote session with DELETE when there is one, waiting at most `timeoutMs`. */
  terminate(timeoutMs: number): Promise<void>;
  /** Aborts every open stream and request. */
  close(): Promise<void>;
};

/**
 * Opens an upstream; for the legacy transport this waits for the `endpoint` event, and `signal`
 * gives up the wait.
 */
export async function openUpstream(
  kind: UpstreamKind,
  options: UpstreamOptions,
  handlers: UpstreamHandlers,
  signal: AbortSignal,
): Promise<HttpUpstream> {
  return kind === 'sse' ? openLegacy(options, handlers, signal) : openStreamable(options, handlers);
}

async function openStreamable(options: UpstreamOptions, handlers: UpstreamHandlers): Promise<HttpUpstream> {
  const transport = new StreamableHTTPClientTransport(options.url, {
    requestInit: { headers: { ...options.headers } },
    fetch: options.fetch,
    reconnectionOptions: options.reconnection,
  });
  transport.onmessage = handlers.message;
  transport.onerror = handlers.error;
  await transport.start();
  return {
    kind: 'streamable-http',
    send: (message, onResumptionToken) =>
      transport.send(message, onResumptionToken ? { onresumptiontoken: onResumptionToken } : undefined),
    hasSession: () => transport.sessionId !== undefined,
    setProtocolVersion: (version) => transport.setProtocolVersion(version),
    terminate: async (timeoutMs) => {
      if (transport.sessionId === undefined) return;
      await withTimeout(transport.terminateSession(), timeoutMs);
    },
    close: () => detachAndClose(transport),
  };
}

async function openLegacy(
  options: UpstreamOptions,
  handlers: UpstreamHandlers,
  signal: AbortSignal,
): Promise<HttpUpstream> {
  const transport = new SSEClientTransport(options.url, {
    requestInit: { headers: { ...options.headers } },
    fetch: options.fetch,
  });
  transport.onmessage = handlers.message;
  transport.onerror = handlers.error;
  const abort = (): void => void detachAndClose(transport);
  signal.addEventListener('abort', abort, { once: true });
  try {
    signal.throwIfAborted();
    await transport.start();
  } catch (error) {
    // The EventSource retries by itself after a failed connect; the bridge owns retries.
    await detachAndClose(transport);
    throw error;
  } finally {
    signal.removeEventListener('abort', abort);
  }
  return {
    kind: 'sse',
    send: (message) => transport.send(message),
    // The legacy POST endpoint names its session in the URL (`?sessionId=`).
    hasSession: () => true,
    setProtocolVersion: (version) => transport.setProtocolVersion(version),
    // HTTP+SSE has no DELETE; closing the event stream ends the session.
    terminate: async () => {},
    close: () => detachAndClose(transport),
  };
}

async function detachAndClose(transport: SSEClientTransport | StreamableHTTPClientTransport): Promise<void> {
  transport.onmessage = undefined;
  transport.onerror = undefined;
  transport.onclose = undefined;
  await transport.close();
}

async function withTimeout(work: Promise<void>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The remote URL for logs and error messages: without credentials or query, which may hold secrets. */
export function safeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}
