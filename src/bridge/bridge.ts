/**
 * The bridge: a local stdio MCP server for one desktop client, relaying every JSON-RPC message to
 * a remote MCP server over HTTP and back. stdout carries only MCP messages (spec 2025-11-25,
 * "Transports" §stdio); every diagnostic goes to the logger, which writes to stderr.
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { StreamableHTTPReconnectionOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Logger } from '../log.ts';
import { DEFAULT_BACKOFF } from './backoff.ts';
import { safeUrl } from './http-upstream.ts';
import { RemoteLink, type RemoteLinkOptions } from './remote-link.ts';

export type BridgeOptions = Partial<Omit<RemoteLinkOptions, 'url' | 'log'>> & {
  readonly url: URL;
  readonly log: Logger;
  readonly stdin?: Readable;
  readonly stdout?: Writable;
};

// The SDK transport resumes a broken Streamable HTTP stream with Last-Event-ID; these retries
// (about 16 s in all, unless the server sends a `retry` hint) replace its default of two.
const RECONNECTION: StreamableHTTPReconnectionOptions = Object.freeze({
  initialReconnectionDelay: 250,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 2,
  maxRetries: 6,
});

export const BRIDGE_DEFAULTS = Object.freeze({
  headers: Object.freeze({}),
  queueLimit: 1000,
  queueTimeoutMs: 60_000,
  backoff: DEFAULT_BACKOFF,
  reconnection: RECONNECTION,
  resumeBudgetMs: 60_000,
  reinitializeTimeoutMs: 30_000,
  terminateTimeoutMs: 2_000,
});

export type RunningBridge = {
  /** Settles once the bridge has stopped: stdin ended, or `close()` was called. */
  readonly closed: Promise<void>;
  /** Ends the remote session and stops relaying. */
  close(): Promise<void>;
};

export async function startBridge(options: BridgeOptions): Promise<RunningBridge> {
  const { stdin = process.stdin, stdout = process.stdout, log } = options;
  const stdio = new StdioServerTransport(stdin, stdout);
  const link = new RemoteLink({ ...BRIDGE_DEFAULTS, ...withoutStreams(options) }, (message) => {
    void stdio.send(message);
  });
  let resolveClosed: () => void = () => {};
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      await link.close();
      await stdio.close();
      log.info('bridge stopped');
      resolveClosed();
    })();
    return closing;
  };
  stdio.onmessage = (message) => link.send(message);
  // A line that is not JSON-RPC carries no id to answer; the SDK reports it here. Its text is
  // not logged: it is raw client input.
  stdio.onerror = () => log.warn('ignored a line from the client that is not a JSON-RPC message');
  stdin.once('end', () => void close());
  stdin.once('close', () => void close());
  stdout.on('error', (error: Error) => {
    log.warn({ error: error.message }, 'the client stopped reading stdout');
    void close();
  });
  await stdio.start();
  log.info({ url: safeUrl(options.url) }, 'bridge started');
  return { closed, close };
}

function withoutStreams(
  options: BridgeOptions,
): Partial<RemoteLinkOptions> & Pick<RemoteLinkOptions, 'url' | 'log'> {
  const { stdin: _stdin, stdout: _stdout, ...rest } = options;
  return rest;
}
