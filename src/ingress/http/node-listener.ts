/**
 * The Node request listener in front of the HTTP front: the direct POST path first
 * ({@link HttpFront.handleNode}), then the Hono app under `@hono/node-server`, which converts
 * to web-standard Request and Response. `mcplane serve` and the HTTP tests listen through it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { HttpFront } from './http-app.ts';

type Fetch = Parameters<typeof getRequestListener>[0];

/** `front()` is asked per request: `mcplane serve` listens before its front is built. */
export function frontListener(
  fetch: Fetch,
  front: () => HttpFront | undefined,
): (req: IncomingMessage, res: ServerResponse) => void {
  const hono = getRequestListener(fetch);
  const fallback = (req: IncomingMessage, res: ServerResponse): void => void hono(req, res);
  return (req, res) => {
    const current = front();
    if (current) current.handleNode(req, res, fallback);
    else fallback(req, res);
  };
}
