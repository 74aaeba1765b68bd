/**
 * HTTP test harness: the real gateway over real fixture processes, behind the real HTTP front,
 * served by `@hono/node-server` on 127.0.0.1 port 0. Tests talk to it with the official SDK
 * client or with plain `fetch`, and {@link stopHttpGateways} tears everything down afterwards
 * and reports any child process still running.
 */
import { createServer, type Server } from 'node:http';
import type { Tracer } from '@opentelemetry/api';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { ADMIN_PATH, createAdminApi } from '../../src/admin/admin-api.ts';
import { adminDeps } from '../../src/control/admin-deps.ts';
import { webhooksFor } from '../../src/control/webhook-deps.ts';
import { ConfigReloader } from '../../src/control/config-reloader.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import type { Store } from '../../src/store/store.ts';
import type { AuditLog } from '../../src/audit/audit-log.ts';
import type { CallGuarding } from '../../src/guard/call-guarding.ts';
import { generateApiKey, type ParsedApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { createDashboard, UI_PATH } from '../../src/dashboard/dashboard-app.ts';
import { createHttpFront, MCP_PATH, type HttpFront } from '../../src/ingress/http/http-app.ts';
import { frontListener } from '../../src/ingress/http/node-listener.ts';
import { silentLogger, type Logger } from '../../src/log.ts';
import { isRunning, testConfig } from '../support/harness.ts';

export type HttpGateway = {
  readonly gateway: Gateway;
  readonly front: HttpFront;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** The Streamable HTTP endpoint. */
  readonly url: URL;
};

type Running = HttpGateway & { readonly server: Server; readonly clients: Client[] };

const running: Running[] = [];

/** Starts a gateway for `input` (a config object, tenants acme and globex by default) over HTTP. */
export async function startHttpGateway(
  input: Record<string, unknown>,
  options: {
    log?: Logger;
    warm?: boolean;
    /** A store: its tenants and keys join the config's, and the admin API is mounted. */
    store?: Store;
    /** The file `POST /admin/v1/reload` reads (with a store). */
    configPath?: string;
    /** Policies and guard profiles, instead of none and the config's guards. */
    guarding?: CallGuarding;
    audit?: AuditLog;
    /** A started OpenTelemetry SDK's tracer: the gateway makes spans. */
    tracer?: Tracer;
    /** The clock monthly quotas run on. */
    now?: () => Date;
  } = {},
): Promise<HttpGateway> {
  const log = options.log ?? silentLogger();
  const gateway = await createGateway(testConfig(input), {
    log,
    env: process.env,
    ...(options.warm === undefined ? {} : { warm: options.warm }),
    ...(options.store === undefined ? {} : { store: options.store }),
    ...(options.guarding === undefined ? {} : { guarding: options.guarding }),
    ...(options.audit === undefined ? {} : { audit: options.audit }),
    ...(options.tracer === undefined ? {} : { tracer: options.tracer }),
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  const reloader = new ConfigReloader({
    path: options.configPath ?? '/nonexistent',
    env: process.env,
    gateway,
  });
  const admin = options.store
    ? createAdminApi(adminDeps(gateway, options.store, reloader, options.configPath ?? 'servers.config.yaml'))
    : undefined;
  // The front needs the bound port for its protected-resource metadata, so it is built after
  // listening; no request can arrive before the test knows the address.
  let listening: (info: AddressInfo) => void = () => undefined;
  const address = new Promise<AddressInfo>((resolve) => (listening = resolve));
  // Served as `mcplane serve` does: the front's direct POST path first, then the Hono app.
  const server: Server = createServer(
    frontListener(
      (request, env) => front.app.fetch(request, env),
      () => front,
    ),
  );
  server.listen(0, '127.0.0.1', () => listening(server.address() as AddressInfo));
  const origin = `http://127.0.0.1:${(await address).port}`;
  const dashboard = admin
    ? createDashboard({ admin: (request) => admin.fetch(request), log, secureCookies: false })
    : undefined;
  const front = createHttpFront(gateway, {
    log,
    baseUrl: origin,
    ...(admin ? { admin: { path: ADMIN_PATH, fetch: (request: Request) => admin.fetch(request) } } : {}),
    ...(dashboard
      ? { dashboard: { path: UI_PATH, fetch: (request: Request) => dashboard.fetch(request) } }
      : {}),
    ...(options.store ? { webhooks: webhooksFor(gateway, options.store) } : {}),
  });
  const entry: Running = {
    gateway,
    front,
    origin,
    url: new URL(MCP_PATH, origin),
    server,
    clients: [],
  };
  running.push(entry);
  return entry;
}

/**
 * Closes every client, front, gateway and server started by this file's tests, and returns the
 * ids of child processes that are still running afterwards (the caller expects none).
 */
export async function stopHttpGateways(): Promise<number[]> {
  const leftover: number[] = [];
  for (const entry of running.splice(0)) {
    await Promise.allSettled(entry.clients.map((client) => client.close()));
    const pids = entry.gateway.pids();
    await entry.front.close();
    await entry.gateway.close();
    entry.server.closeAllConnections();
    await new Promise((resolve) => entry.server.close(resolve));
    leftover.push(...pids.filter((pid) => isRunning(pid)));
  }
  return leftover;
}

/** An SDK client over Streamable HTTP, closed by {@link stopHttpGateways}. */
export async function connectHttpClient(
  target: HttpGateway,
  headers: Record<string, string>,
  capabilities: ClientCapabilities = {},
  fetchImpl?: typeof fetch,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(target.url, {
    requestInit: { headers },
    ...(fetchImpl === undefined ? {} : { fetch: fetchImpl }),
  });
  const client = new Client({ name: 'http-test-client', version: '1.0.0' }, { capabilities });
  (target as Running).clients.push(client);
  await client.connect(transport);
  return { client, transport };
}

/** A fresh API key and the config entry that admits it. */
export function newApiKey(scopes?: string[]): {
  key: string;
  entry: Record<string, unknown>;
  id: ParsedApiKey['id'];
} {
  const { key, id } = generateApiKey();
  return { key, id, entry: { id, hash: hashApiKey(key), ...(scopes === undefined ? {} : { scopes }) } };
}

export const bearer = (credential: string): Record<string, string> => ({
  authorization: `Bearer ${credential}`,
});

/** What every POST to the MCP endpoint carries (spec 2025-11-25, "Transports": Accept both). */
export const POST_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

export const LATEST = '2025-11-25';

/** `initialize` over plain fetch; returns the response and the session id it assigned. */
export async function initialize(
  target: HttpGateway,
  headers: Record<string, string>,
  protocolVersion = LATEST,
): Promise<{ response: Response; body: string; sessionId: string | null }> {
  const response = await fetch(target.url, {
    method: 'POST',
    headers: { ...POST_HEADERS, ...headers },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1.0.0' } },
    }),
  });
  // The SSE body ends once the InitializeResult is on it.
  const body = await response.text();
  return { response, body, sessionId: response.headers.get('mcp-session-id') };
}

/** A JSON-RPC message POSTed to an open session over plain fetch. */
export async function postToSession(
  target: HttpGateway,
  sessionId: string,
  headers: Record<string, string>,
  message: unknown,
  protocolVersion = LATEST,
): Promise<Response> {
  return fetch(target.url, {
    method: 'POST',
    headers: {
      ...POST_HEADERS,
      'mcp-session-id': sessionId,
      'mcp-protocol-version': protocolVersion,
      ...headers,
    },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
}

/** A session opened over plain fetch and announced initialized, ready for requests. */
export async function openRawSession(target: HttpGateway, headers: Record<string, string>): Promise<string> {
  const { response, sessionId } = await initialize(target, headers);
  if (response.status !== 200 || sessionId === null)
    throw new Error(`initialize failed with ${response.status}`);
  const initialized = await postToSession(target, sessionId, headers, {
    jsonrpc: '2.0',
    method: 'notifications/initialized',
  });
  if (initialized.status !== 202) throw new Error(`initialized got ${initialized.status}`);
  return sessionId;
}
