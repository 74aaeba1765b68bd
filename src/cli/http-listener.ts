/**
 * The port `mcplane serve` listens on. It is bound before the gateway starts any child, so a
 * port that is taken fails at once with one line that says how to choose another, and nothing
 * was started that would need stopping (or would fill the terminal with its logs first). Until
 * the HTTP front is attached, /health answers (the process is alive) and everything else is 503.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerType } from '@hono/node-server';
import { GatewayError } from '../errors.ts';
import { errorResponse } from '../ingress/http/error-response.ts';
import type { HttpFront } from '../ingress/http/http-app.ts';
import { frontListener } from '../ingress/http/node-listener.ts';

export type HttpListener = {
  readonly server: ServerType;
  readonly address: AddressInfo;
  /** Routes every request to `front` from now on. */
  attach(front: HttpFront): void;
};

export async function bindHttp(host: string, port: number): Promise<HttpListener> {
  let front: HttpFront | undefined;
  let server: ServerType | undefined;
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    const listener = frontListener(
      (request, env) => (front ? front.app.fetch(request, env) : starting(request)),
      () => front,
    );
    const created = createServer(listener);
    server = created;
    created.listen(port, host, () => resolve(created.address() as AddressInfo));
    // A busy port is reported as an 'error' event, after serve() returns.
    server.once('error', reject);
  });
  return {
    server: server as ServerType,
    address,
    attach: (attached) => {
      front = attached;
    },
  };
}

function starting(request: Request): Response {
  if (new URL(request.url).pathname === '/health') return Response.json({ status: 'ok' });
  return errorResponse(new GatewayError('GATEWAY_STARTING'));
}

/** One line for the listen failures a user can fix, naming the setting that fixes it. */
export function listenProblem(error: unknown, host: string, port: number): string | undefined {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use; choose another with --port <n> or MCPLANE_PORT (0 picks a free one)`;
    case 'EACCES':
      return `not allowed to listen on port ${port} on ${host}; choose another with --port <n> or MCPLANE_PORT`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return `cannot listen on host ${host}; choose another with --host <address> or MCPLANE_HOST`;
    default:
      return undefined;
  }
}
