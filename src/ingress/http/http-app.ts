/**
 * The HTTP front door, in request order: Host/Origin guard → CORS → body limit → the MCP
 * endpoints (which authenticate every request), the admin API and dashboard when mounted, and
 * the public probes.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { GatewayError } from '../../errors.ts';
import type { Gateway } from '../../gateway.ts';
import { protectedResourceMetadata, protectedResourceMetadataUrl } from '../../identity/scopes.ts';
import type { Logger } from '../../log.ts';
import { errorResponse } from './error-response.ts';
import { DirectPosts, type NodeListener } from './direct-posts.ts';
import { bodyTooLarge } from './request-admission.ts';
import { hostGuard } from './host-guard.ts';
import { LegacySseFace } from './legacy-sse.ts';
import { OutputStreams } from './output-streams.ts';
import { readinessProbe } from './readiness.ts';
import { sourceIp, UNKNOWN_IP } from './source-ip.ts';
import { problemResponse } from '../../admin/problem.ts';
import { GATEWAY_SCOPES } from '../../identity/required-scope.ts';
import { StreamableHttpFace, type HeaderReader } from './streamable-http.ts';

export const MCP_PATH = '/mcp';

export type HttpFront = {
  readonly app: Hono<{ Bindings: { outgoing: ServerResponse } }>;
  readonly streamable: StreamableHttpFace;
  readonly legacy: LegacySseFace;
  /**
   * Serves a Node request: a POST to an open Streamable HTTP session on the direct path, anything
   * else by `fallback` (the Hono app under `@hono/node-server`'s request listener).
   */
  handleNode(req: IncomingMessage, res: ServerResponse, fallback: NodeListener): void;
  /** Every SSE stream being written, and what was closed for not being read. */
  readonly streams: OutputStreams;
  /** Stops new sessions and new calls; in-flight calls and client responses still pass. */
  drain(): void;
  /** Calls in flight over every HTTP session. */
  inflight(): number;
  close(): Promise<void>;
};

export type HttpFrontOptions = {
  readonly log: Logger;
  readonly baseUrl: string;
  /** The admin API, mounted at its path behind the same Host guard and body limit. */
  readonly admin?: { readonly path: string; fetch(request: Request): Response | Promise<Response> };
  /** The web dashboard, mounted at its path (it sees the whole path) behind the same guards. */
  readonly dashboard?: { readonly path: string; fetch(request: Request): Response | Promise<Response> };
  /** Webhooks from outside (Stripe's, docs/billing.md), authenticated by their own signatures. */
  readonly webhooks?: {
    readonly paths: readonly string[];
    fetch(request: Request): Response | Promise<Response>;
  };
};

/**
 * Authenticates, unless the source IP is over its failed-authentication budget: then 429 before
 * any key is hashed. A credential that does not authenticate counts against it; a request that
 * carries none (a client learning it needs one) does not.
 */
async function authenticateFrom(gateway: Gateway, headers: HeaderReader, ip: string) {
  await gateway.authFailures.check(ip);
  try {
    return await gateway.authenticate(headers);
  } catch (error) {
    if (presentsCredential(headers) && error instanceof GatewayError && error.spec.http === 401)
      await gateway.authFailures.failed(ip);
    throw error;
  }
}

function presentsCredential(headers: HeaderReader): boolean {
  return headers.get('authorization') != null || headers.get('x-api-key') != null;
}

/** A problem response of a limit's refusal, with its `Retry-After`. */
function withRetryAfter(response: Response, error: unknown): Response {
  const seconds = error instanceof GatewayError ? error.data?.retryAfterSeconds : undefined;
  if (typeof seconds === 'number') response.headers.set('retry-after', String(seconds));
  return response;
}

export function createHttpFront(gateway: Gateway, options: HttpFrontOptions): HttpFront {
  const { http, auth } = gateway.config.gateway;
  const resource = auth.resourceUri ?? auth.jwt?.audience ?? new URL(MCP_PATH, options.baseUrl).href;
  const resourceMetadataUrl = protectedResourceMetadataUrl(resource);
  let draining = false;
  const streams = new OutputStreams(
    { highWaterMark: http.streamHighWaterMark, stallTimeout: http.streamStallTimeout },
    options.log,
  );
  const shared = {
    gateway,
    http,
    log: options.log,
    authenticate: (headers: HeaderReader, ip = UNKNOWN_IP) => authenticateFrom(gateway, headers, ip),
    resourceMetadataUrl,
    draining: () => draining,
    streams,
  };
  const streamable = new StreamableHttpFace(shared);
  const legacy = new LegacySseFace({ ...shared, messagesPath: '/messages' });
  const direct = new DirectPosts(streamable, streamable.replies, http, MCP_PATH);

  const app = new Hono<{ Bindings: { outgoing: ServerResponse } }>();
  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.use('*', hostGuard(http));
  if (http.cors.origins.length > 0) {
    app.use(
      '*',
      cors({
        origin: http.cors.origins,
        allowHeaders: [
          'Authorization',
          'Content-Type',
          'Mcp-Session-Id',
          'MCP-Protocol-Version',
          'Last-Event-ID',
          'x-api-key',
        ],
        exposeHeaders: ['Mcp-Session-Id', 'WWW-Authenticate'],
        maxAge: Math.round(http.cors.maxAge / 1000),
      }),
    );
  }
  app.use(
    '*',
    bodyLimit({
      maxSize: http.maxBodySize,
      onError: () => errorResponse(bodyTooLarge(http.maxBodySize)),
    }),
  );
  app.get('/ready', readinessProbe(gateway, shared.authenticate, shared.draining));
  const metadata = (): Response => Response.json(protectedResourceMetadata(auth, resource, GATEWAY_SCOPES));
  app.get('/.well-known/oauth-protected-resource', metadata);
  app.get(`/.well-known/oauth-protected-resource${MCP_PATH}`, metadata);
  app.all(MCP_PATH, (c) => streamable.handle(c));
  app.get('/sse', (c) => legacy.open(c));
  app.post('/messages', (c) => legacy.post(c));
  for (const path of options.webhooks?.paths ?? []) {
    const webhooks = options.webhooks;
    app.post(path, (c) => (webhooks as NonNullable<typeof webhooks>).fetch(c.req.raw));
  }
  const admin = options.admin;
  if (admin) {
    // The admin API authenticates on its own; the failed-authentication limit holds for it too.
    const forward = async (request: Request, ip: string): Promise<Response> => {
      try {
        await gateway.authFailures.check(ip);
      } catch (error) {
        return withRetryAfter(problemResponse(error, options.log), error);
      }
      const url = new URL(request.url);
      url.pathname = url.pathname.slice(admin.path.length) || '/';
      const response = await admin.fetch(new Request(url, request));
      if (response.status === 401 && presentsCredential(request.headers))
        await gateway.authFailures.failed(ip);
      return response;
    };
    app.all(admin.path, (c) => forward(c.req.raw, sourceIp(c.env)));
    app.all(`${admin.path}/*`, (c) => forward(c.req.raw, sourceIp(c.env)));
  }
  const dashboard = options.dashboard;
  if (dashboard) {
    app.all(dashboard.path, (c) => dashboard.fetch(c.req.raw));
    app.all(`${dashboard.path}/*`, (c) => dashboard.fetch(c.req.raw));
  }

  return {
    app,
    streamable,
    legacy,
    handleNode: (req, res, fallback) => direct.handle(req, res, fallback),
    streams,
    drain: () => {
      draining = true;
    },
    inflight: () => gateway.inflight(),
    close: async () => {
      // Only shutdown closes the front: calls still running hear that the gateway is closing.
      const reason = new GatewayError('GATEWAY_CLOSING');
      await Promise.allSettled([streamable.sessions.closeAll(reason), legacy.sessions.closeAll(reason)]);
    },
  };
}
