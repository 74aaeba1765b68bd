/**
 * DNS-rebinding protection (spec 2025-11-25, "Transports" §security: servers MUST validate
 * `Origin`; bind to loopback for local use). A request must name an allowed host, and a browser
 * request must come from an allowed origin; anything else is 403 before any other work.
 */
import type { MiddlewareHandler } from 'hono';
import { GatewayError } from '../../errors.ts';
import type { HttpConfig } from '../../config/http-schema.ts';
import { errorResponse } from './error-response.ts';

export function hostGuard(http: HttpConfig): MiddlewareHandler {
  const hosts = new Set(http.allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(http.allowedOrigins);
  return async (c, next) => {
    const host = c.req.header('host');
    if (!host || !allowedHost(host, hosts)) return forbidden('Host not allowed');
    const origin = c.req.header('origin');
    if (origin !== undefined && !allowedOrigin(origin, hosts, origins))
      return forbidden('Origin not allowed');
    await next();
  };
}

function forbidden(message: string): Response {
  return errorResponse(new GatewayError('FORBIDDEN', message));
}

/** `host` or `host:port`; an allowed entry with a port must match exactly, without one any port does. */
function allowedHost(header: string, hosts: ReadonlySet<string>): boolean {
  const value = header.toLowerCase();
  return hosts.has(value) || hosts.has(hostname(value));
}

function allowedOrigin(origin: string, hosts: ReadonlySet<string>, origins: ReadonlySet<string>): boolean {
  if (origins.has('*') || origins.has(origin)) return true;
  try {
    return allowedHost(new URL(origin).host, hosts);
  } catch {
    return false;
  }
}

function hostname(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}
