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
  const refusal = hostRefusal(http);
  return async (c, next) => {
    const refused = refusal(c.req.header('host'), c.req.header('origin'));
    if (refused) return errorResponse(refused);
    await next();
  };
}

/**
 * The check itself, for every face that reads the headers: the Hono middleware above, and the
 * Node-native POST path that answers before Hono sees the request.
 */
export function hostRefusal(
  http: HttpConfig,
): (host: string | undefined, origin: string | undefined) => GatewayError | undefined {
  const hosts = new Set(http.allowedHosts.map((host) => host.toLowerCase()));
  const origins = new Set(http.allowedOrigins);
  return (host, origin) => {
    if (!host || !allowedHost(host, hosts)) return new GatewayError('FORBIDDEN', 'Host not allowed');
    if (origin !== undefined && !allowedOrigin(origin, hosts, origins))
      return new GatewayError('FORBIDDEN', 'Origin not allowed');
    return undefined;
  };
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
