/**
 * The remote MCP servers the bridge tests relay to: the SDK's `McpServer` over node:http on
 * 127.0.0.1, either Streamable HTTP (one `StreamableHTTPServerTransport` per session, with an
 * event store so streams can be resumed) or the legacy HTTP+SSE transport of 2024-11-05.
 * Each records what arrived (headers, methods, Last-Event-ID) and can forget its sessions, so
 * tests can see what the bridge sent and make it meet a 404.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

/** One HTTP request as the remote saw it. */
export type SeenRequest = {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The JSON-RPC method of a POSTed message, when it was one. */
  readonly rpcMethod: string | undefined;
};

export type RemoteServer = {
  /** `http://127.0.0.1:<port>/mcp` */
  readonly url: string;
  readonly port: number;
  readonly seen: SeenRequest[];
  /** Closes every session on the server side; the next request for one gets 404. */
  dropSessions(): Promise<void>;
  close(): Promise<void>;
};

export type RemoteOptions = {
  /** Listen on this port instead of a free one (to come up where a bridge is already waiting). */
  readonly port?: number;
  /** Answer every request without this bearer token with 401. */
  readonly requiredToken?: string;
  /** Answer requests with one JSON body instead of an SSE stream (`enableJsonResponse`). */
  readonly jsonResponse?: boolean;
};

/** An McpServer with the tools the tests call. */
function createMcpServer(): McpServer {
  const server = new McpServer({ name: 'bridge-remote', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echoes its message.', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: `echo: ${message}` }] }),
  );
  server.registerTool(
    'count',
    { description: 'Sends progress 1..steps, then answers.', inputSchema: { steps: z.number().int() } },
    async ({ steps }, extra) => {
      const progressToken = extra._meta?.progressToken;
      for (let step = 1; step <= steps; step += 1) {
        if (progressToken !== undefined) {
          await extra.sendNotification({
            method: 'notifications/progress',
            params: { progressToken, progress: step, total: steps },
          });
        }
        await sleep(10);
      }
      return { content: [{ type: 'text', text: `counted to ${steps}` }] };
    },
  );
  server.registerTool(
    'slow',
    { description: 'Answers after `ms` milliseconds.', inputSchema: { ms: z.number().int() } },
    async ({ ms }) => {
      await sleep(ms);
      return { content: [{ type: 'text', text: `slept ${ms} ms` }] };
    },
  );
  server.registerTool(
    'ask-model',
    { description: 'Asks the client to sample a completion.', inputSchema: { question: z.string() } },
    async ({ question }) => {
      const answer = await server.server.createMessage({
        messages: [{ role: 'user', content: { type: 'text', text: question } }],
        maxTokens: 50,
      });
      const text = answer.content.type === 'text' ? answer.content.text : '(not text)';
      return { content: [{ type: 'text', text: `the model said: ${text}` }] };
    },
  );
  server.registerTool(
    'interrupted',
    { description: 'Closes its response stream mid-call, then answers on the resumed one.' },
    async (extra) => {
      // Spec 2025-11-25 §Resumability: the server may close the stream; the client resumes it
      // with GET and Last-Event-ID and gets what was sent meanwhile.
      extra.closeSSEStream?.();
      await sleep(300);
      return { content: [{ type: 'text', text: 'answered after the stream broke' }] };
    },
  );
  return server;
}

/** A Streamable HTTP MCP server on 127.0.0.1. */
export async function startStreamableRemote(options: RemoteOptions = {}): Promise<RemoteServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const seen: SeenRequest[] = [];
  const http = createServer((req, res) => {
    void (async () => {
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      seen.push(record(req, body));
      if (!authorized(req, res, options.requiredToken)) return;
      if (new URL(req.url ?? '/', 'http://x').pathname !== '/mcp') return reply(res, 404, 'not found');
      const sessionId = req.headers['mcp-session-id'];
      if (typeof sessionId === 'string') {
        const transport = sessions.get(sessionId);
        if (!transport) return reply(res, 404, 'session not found');
        return transport.handleRequest(req, res, body);
      }
      if (req.method !== 'POST' || !isInitialize(body)) return reply(res, 400, 'no session');
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        ...(options.jsonResponse
          ? { enableJsonResponse: true }
          : { eventStore: new InMemoryEventStore(), retryInterval: 100 }),
        onsessioninitialized: (id) => void sessions.set(id, transport),
      });
      transport.onclose = () => {
        if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      };
      await createMcpServer().connect(transport);
      await transport.handleRequest(req, res, body);
    })().catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, String(error));
    });
  });
  return listen(http, seen, options.port, async () => {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((transport) => transport.close()));
  });
}

/** A legacy HTTP+SSE MCP server: GET /mcp opens the event stream, POST /messages carries messages. */
export async function startLegacyRemote(options: RemoteOptions = {}): Promise<RemoteServer> {
  const sessions = new Map<string, SSEServerTransport>();
  const seen: SeenRequest[] = [];
  const http = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      seen.push(record(req, body));
      if (!authorized(req, res, options.requiredToken)) return;
      if (url.pathname === '/mcp' && req.method === 'GET') {
        const transport = new SSEServerTransport('/messages', res);
        sessions.set(transport.sessionId, transport);
        transport.onclose = () => void sessions.delete(transport.sessionId);
        await createMcpServer().connect(transport);
        return;
      }
      if (url.pathname === '/messages' && req.method === 'POST') {
        const transport = sessions.get(url.searchParams.get('sessionId') ?? '');
        if (!transport) return reply(res, 404, 'session not found');
        return transport.handlePostMessage(req, res, body);
      }
      // A pre-2025-03-26 server knows nothing of POST on its SSE URL.
      return reply(res, url.pathname === '/mcp' ? 405 : 404, 'not supported');
    })().catch((error: unknown) => {
      if (!res.headersSent) reply(res, 500, String(error));
    });
  });
  return listen(http, seen, options.port, async () => {
    const open = [...sessions.values()];
    sessions.clear();
    await Promise.all(open.map((transport) => transport.close()));
  });
}

async function listen(
  http: Server,
  seen: SeenRequest[],
  port: number | undefined,
  dropSessions: () => Promise<void>,
): Promise<RemoteServer> {
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port ?? 0, '127.0.0.1', resolve);
  });
  const bound = (http.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/mcp`,
    port: bound,
    seen,
    dropSessions,
    close: async () => {
      await dropSessions();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

function authorized(req: IncomingMessage, res: ServerResponse, token: string | undefined): boolean {
  if (token === undefined || req.headers.authorization === `Bearer ${token}`) return true;
  res.writeHead(401, { 'www-authenticate': 'Bearer' }).end();
  return false;
}

function record(req: IncomingMessage, body: unknown): SeenRequest {
  const rpcMethod =
    typeof body === 'object' && body !== null && 'method' in body ? String(body.method) : undefined;
  return {
    method: req.method ?? '',
    path: new URL(req.url ?? '/', 'http://x').pathname,
    headers: req.headers,
    rpcMethod,
  };
}

function isInitialize(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'method' in body && body.method === 'initialize';
}

function reply(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}
