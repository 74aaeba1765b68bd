/**
 * The admin listener (`gateway.admin.listen`): a port of its own, apart from the MCP port, that
 * serves `GET /metrics` in the Prometheus text format. It asks for no credential and has no Host
 * guard: Prometheus scrapes by pod IP and carries no key. What keeps it private is where it is
 * bound (loopback by default in the docs; in Kubernetes the NetworkPolicy lets only the
 * monitoring namespace reach it), which is why it is not on the MCP port, open to every client.
 *
 * Like the MCP port it is bound before the gateway starts any child, so a taken port fails at
 * once; until the gateway is attached /metrics answers 503.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.ts';
import type { GatewayMetrics } from '../telemetry/gateway-metrics.ts';
import type { ListenAddress } from '../telemetry/telemetry-schema.ts';

export const METRICS_PATH = '/metrics';

export type AdminListener = {
  readonly address: AddressInfo;
  /** `http://host:port`, as bound. */
  readonly origin: string;
  /** Serves this gateway's metrics from now on; undefined when metrics are off. */
  attach(metrics: GatewayMetrics | undefined): void;
  close(): Promise<void>;
};

export async function bindAdmin(listen: ListenAddress, log: Logger): Promise<AdminListener> {
  let attached: { metrics: GatewayMetrics | undefined } | undefined;
  const server: Server = createServer((request, response) => {
    answer(request, response, attached, log);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Scrapes keep connections alive; they must not hold the process open at shutdown.
  server.unref();
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    address,
    origin: `http://${host}:${address.port}`,
    attach: (metrics) => {
      attached = { metrics };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(
  request: IncomingMessage,
  response: ServerResponse,
  attached: { metrics: GatewayMetrics | undefined } | undefined,
  log: Logger,
): void {
  const path = new URL(request.url ?? '/', 'http://admin').pathname;
  if (path !== METRICS_PATH)
    return plain(response, 404, 'Not found: the admin listener serves GET /metrics\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return plain(response, 405, 'Method not allowed\n');
  }
  if (attached === undefined) return plain(response, 503, 'The gateway is starting\n');
  const { metrics } = attached;
  if (metrics === undefined)
    return plain(response, 404, 'Metrics are off (gateway.metrics.enabled: false)\n');
  metrics.text().then(
    (text) => {
      response.writeHead(200, { 'content-type': metrics.contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : text);
    },
    (error: unknown) => {
      log.error({ err: error }, 'could not collect the metrics');
      plain(response, 500, 'Could not collect the metrics\n');
    },
  );
}

function plain(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(body);
}
