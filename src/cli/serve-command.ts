/**
 * `mcplane serve --config <file> [--host 127.0.0.1] [--port 8080]`: the gateway over Streamable
 * HTTP (and legacy SSE). On SIGTERM or SIGINT it stops taking new work, lets in-flight calls
 * finish within `gateway.http.shutdownGrace`, stops every child, and exits 0.
 */
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { createGateway, type Gateway } from '../gateway.ts';
import { createHttpFront, MCP_PATH, type HttpFront } from '../ingress/http/http-app.ts';
import { createLogger, type Logger } from '../log.ts';
import type { CommandIo } from './command-io.ts';
import { setUpCommand } from './command-setup.ts';

const USAGE =
  'usage: mcplane serve [--config servers.config.yaml] [--host 127.0.0.1] [--port 8080] [--log-level info]\n';

export async function serveCommand(args: string[], io: CommandIo): Promise<number> {
  const setup = await setUpCommand(args, io, USAGE, {
    host: { type: 'string', default: io.env.MCPLANE_HOST },
    port: { type: 'string', default: io.env.MCPLANE_PORT ?? io.env.PORT },
  });
  if (typeof setup === 'number') return setup;
  const { config, logLevel } = setup;
  const values = setup.values as { host?: string; port?: string };
  const host = values.host ?? config.gateway.http.host;
  const port = values.port === undefined ? config.gateway.http.port : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    io.stderr(`mcplane serve: --port must be a port number\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level: logLevel });
  const gateway = await createGateway(config, { log, env: io.env });
  const address = await listen(gateway, log, host, port);
  const url = `http://${urlHost(address)}${MCP_PATH}`;
  io.stdout(connectHelp(url, config.gateway.auth.anonymous !== undefined));
  return address.stopped;
}

type Listening = AddressInfo & { stopped: Promise<number> };

async function listen(gateway: Gateway, log: Logger, host: string, port: number): Promise<Listening> {
  // The front is built once the port is known (port 0 picks one), since the protected-resource
  // metadata and 401 challenges name the gateway's own URL.
  const bound: { front?: HttpFront } = {};
  let server: ServerType | undefined;
  const info = await new Promise<AddressInfo>((resolve) => {
    server = serve(
      {
        fetch: (request, env) => (bound.front as HttpFront).app.fetch(request, env),
        hostname: host,
        port,
      },
      resolve,
    );
  });
  const publicUrl = gateway.config.gateway.http.publicUrl;
  const front = createHttpFront(gateway, { log, baseUrl: publicUrl ?? `http://${urlHost(info)}` });
  bound.front = front;
  const stopped = new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down: draining in-flight calls');
      void shutdown(server as ServerType, front, gateway, log).then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return { ...info, stopped };
}

function urlHost(info: AddressInfo): string {
  return `${info.family === 'IPv6' ? `[${info.address}]` : info.address}:${info.port}`;
}

async function shutdown(server: ServerType, front: HttpFront, gateway: Gateway, log: Logger): Promise<void> {
  front.drain();
  server.close();
  const deadline = Date.now() + gateway.config.gateway.http.shutdownGrace;
  while (front.inflight() > 0 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 25));
  if (front.inflight() > 0)
    log.warn({ inflight: front.inflight() }, 'shutdown grace over; cancelling the rest');
  await front.close();
  await gateway.close();
  if ('closeAllConnections' in server) server.closeAllConnections();
  log.info('stopped');
}

function connectHelp(url: string, anonymous: boolean): string {
  const auth = anonymous
    ? ''
    : ',\n      "headers": { "Authorization": "Bearer <key from mcplane keys new>" }';
  return `mcplane is serving MCP at ${url}

Connect a Streamable HTTP client to that URL${anonymous ? ' (no credential needed: this config allows anonymous local access)' : ''}, or a stdio client through the bridge:
  { "mcpServers": { "mcplane": { "command": "npx", "args": ["mcplane", "bridge", "--url", "${url}"] } } }
or, for clients that speak HTTP:
  { "mcpServers": { "mcplane": { "type": "http", "url": "${url}"${auth} } } }
`;
}
