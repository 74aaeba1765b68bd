/**
 * The one place where a GatewayError becomes an HTTP response: its status, a JSON-RPC error
 * body, and for 401/403 the `WWW-Authenticate` challenge (RFC 6750 §3, RFC 9728 §5.1).
 */
import { GatewayError } from '../../errors.ts';
import type { RequestId } from '../../jsonrpc/message.ts';
import { wwwAuthenticate } from '../../identity/scopes.ts';

export function errorResponse(
  error: GatewayError,
  options: { id?: RequestId | null; resourceMetadataUrl?: string } = {},
): Response {
  const headers = new Headers({ 'content-type': 'application/json' });
  if ((error.spec.http === 401 || error.code === 'INSUFFICIENT_SCOPE') && options.resourceMetadataUrl) {
    headers.set('www-authenticate', wwwAuthenticate(options.resourceMetadataUrl, error));
  }
  // RFC 9110 §10.2.3: seconds. Set by the limits' refusals (429) and their 503.
  const retryAfter = error.data?.retryAfterSeconds;
  if (typeof retryAfter === 'number') headers.set('retry-after', String(retryAfter));
  const body = { jsonrpc: '2.0', id: options.id ?? null, error: error.toJsonRpcError() };
  return new Response(JSON.stringify(body), { status: error.spec.http, headers });
}
