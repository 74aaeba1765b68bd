/** The address a request came from, for the failed-authentication limit (docs/limits.md). */
import type { IncomingMessage } from 'node:http';

/** The source of a request served in-process (`app.fetch`, no socket): they share one budget. */
export const UNKNOWN_IP = 'unknown';

/**
 * The peer address of the socket under `@hono/node-server`. Not `X-Forwarded-For`: a client
 * sets that header itself, so trusting it would let a brute force pick a new address per try.
 */
export function sourceIp(env: unknown): string {
  return (env as { incoming?: IncomingMessage } | undefined)?.incoming?.socket.remoteAddress ?? UNKNOWN_IP;
}
