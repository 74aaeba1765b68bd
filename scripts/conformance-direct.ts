/**
 * Harness that checks test/fixtures/conformance-server.ts without the gateway: a bare Streamable
 * HTTP front on 127.0.0.1 that gives each session its own stdio child and relays JSON-RPC
 * messages between them unchanged. It is not a gateway (no identity, policy, pooling or
 * resumability); see test/fixtures/CONFORMANCE.md for what it passes and why.
 *
 *   node scripts/conformance-direct.ts [--port 0] [--check-host]      serve until SIGINT
 *   node scripts/conformance-direct.ts --run [-- <conformance server args>]
 *
 * `--run` starts the official suite (`conformance server --url <this front>`) and exits with
 * its exit code. `--check-host` adds the Host/Origin check the `dns-rebinding-protection`
 * scenario expects, as a stand-in for the gateway's own.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  isInitializeRequest,
  isJSONRPCNotification,
  isJSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCMessage, ProgressToken, RequestId } from '@modelcontextprotocol/sdk/types.js';

type ProxySession = {
  http: StreamableHTTPServerTransport;
  child: StdioClientTransport;
  /** Client requests the child has not answered yet, with their progress tokens. */
  inFlight: Map<RequestId, ProgressToken | undefined>;
  close: () => Promise<void>;
};

const { values: options, positionals: suiteArgs } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    fixture: {
      type: 'string',
      default: fileURLToPath(new URL('../test/fixtures/conformance-server.ts', import.meta.url)),
    },
    'check-host': { type: 'boolean', default: false },
    run: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const sessions = new Map<string, ProxySession>();
const live = new Set<ProxySession>();

function log(...parts: unknown[]): void {
  console.error('[conformance-direct]', ...parts);
}

function replyError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code, message } }));
}

function hostnameOf(value: string, withScheme: boolean): string | undefined {
  try {
    return new URL(withScheme ? value : `http://${value}`).hostname;
  } catch {
    return undefined;
  }
}

/** DNS-rebinding guard (spec 2025-11-25, basic/transports § Security Warning). */
function isLocalRequest(req: IncomingMessage): boolean {
  const host = hostnameOf(req.headers.host ?? '', false);
  const origin = req.headers.origin;
  const originHost = origin === undefined ? undefined : hostnameOf(origin, true);
  return LOCAL_HOSTNAMES.has(host ?? '') && (origin === undefined || LOCAL_HOSTNAMES.has(originHost ?? ''));
}

/**
 * Stdio carries no link between a child's notification or request and the client request that
 * caused it, so this front guesses: progress by token, anything else to the only request in
 * flight, or else the standalone GET stream.
 */
function relatedRequest(session: ProxySession, message: JSONRPCMessage): RequestId | undefined {
  if (isJSONRPCNotification(message) && message.method === 'notifications/progress') {
    const token = message.params?.progressToken;
    for (const [id, progressToken] of session.inFlight) if (progressToken === token) return id;
    return undefined;
  }
  return session.inFlight.size === 1 ? session.inFlight.keys().next().value : undefined;
}

async function openSession(): Promise<ProxySession> {
  const child = new StdioClientTransport({
    command: process.execPath,
    args: [options.fixture],
    stderr: 'inherit',
  });
  let closed = false;
  const session: ProxySession = {
    child,
    inFlight: new Map(),
    http: new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, session),
    }),
    close: async () => {
      if (closed) return;
      closed = true;
      live.delete(session);
      if (session.http.sessionId) sessions.delete(session.http.sessionId);
      await Promise.allSettled([session.http.close(), child.close()]);
    },
  };
  session.http.onmessage = (message) => {
    if (isJSONRPCRequest(message)) session.inFlight.set(message.id, message.params?._meta?.progressToken);
    child.send(message).catch((error: unknown) => log('to child:', error));
  };
  child.onmessage = (message) => {
    const isResponse = !('method' in message);
    if (isResponse && message.id !== undefined) session.inFlight.delete(message.id);
    const relatedRequestId = isResponse ? undefined : relatedRequest(session, message);
    session.http.send(message, { relatedRequestId }).catch((error: unknown) => log('to client:', error));
  };
  session.http.onclose = () => void session.close();
  child.onclose = () => void session.close();
  child.onerror = (error) => log('child:', error);
  await child.start();
  await session.http.start();
  live.add(session);
  return session;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/mcp')
    return replyError(res, 404, -32600, 'Not found');
  if (options['check-host'] && !isLocalRequest(req))
    return replyError(res, 403, -32000, 'Forbidden Host or Origin');
  const sessionId = req.headers['mcp-session-id'];
  if (typeof sessionId === 'string') {
    const session = sessions.get(sessionId);
    if (!session) return replyError(res, 404, -32001, 'Session not found');
    return session.http.handleRequest(req, res);
  }
  if (req.method !== 'POST')
    return replyError(res, 400, -32000, 'Bad Request: Mcp-Session-Id header is required');
  let body: unknown;
  try {
    body = await readJson(req);
  } catch {
    return replyError(res, 400, -32700, 'Parse error');
  }
  if (!isInitializeRequest(body))
    return replyError(res, 400, -32000, 'Bad Request: No valid session ID provided');
  const session = await openSession();
  await session.http.handleRequest(req, res, body);
  if (!session.http.sessionId) await session.close();
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    log('request failed:', error);
    if (!res.headersSent) replyError(res, 500, -32603, 'Internal error');
    else res.end();
  });
});

async function shutdown(): Promise<void> {
  server.closeAllConnections();
  await Promise.allSettled([...live].map((session) => session.close()));
  await new Promise((resolve) => server.close(resolve));
}

function runSuite(url: string): Promise<number> {
  const bin = fileURLToPath(import.meta.resolve('@modelcontextprotocol/conformance/dist/index.js'));
  const suite = spawn(process.execPath, [bin, 'server', '--url', url, ...suiteArgs], { stdio: 'inherit' });
  return new Promise((resolve) => suite.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

server.listen(Number(options.port), '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
console.log(`MCP endpoint: ${url}`);

if (options.run) {
  const code = await runSuite(url);
  await shutdown();
  process.exit(code);
} else {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void shutdown().then(() => process.exit(0)));
  }
}
