/**
 * Scope checks and what a resource server tells clients about them: the RFC 9728
 * protected-resource metadata and the RFC 6750 `WWW-Authenticate` challenge.
 */
import type { AuthConfig } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { MISSING_CREDENTIAL } from './credentials.ts';
import type { Principal } from './principal.ts';

/** The scope that grants every other. */
export const ALL_SCOPES = '*';

/** Throws INSUFFICIENT_SCOPE unless the principal holds `scope` or `*`. */
export function requireScope(principal: Principal, scope: string): void {
  if (principal.scopes.includes(ALL_SCOPES) || principal.scopes.includes(scope)) return;
  throw new GatewayError('INSUFFICIENT_SCOPE', undefined, { detail: { requiredScope: scope } });
}

/** RFC 9728 §2. */
export type ProtectedResourceMetadata = {
  readonly resource: string;
  readonly authorization_servers?: readonly string[];
  readonly bearer_methods_supported: readonly ['header'];
  readonly scopes_supported?: readonly string[];
};

/**
 * The document served at `/.well-known/oauth-protected-resource` (see
 * {@link protectedResourceMetadataUrl}). `resource` is `auth.resourceUri`, else `jwt.audience`,
 * else `baseUrl` (the gateway's public MCP endpoint URL). The authorization servers default
 * to the JWT issuer. Tokens are accepted only in the Authorization header (MCP authorization
 * spec: never in the query string).
 */
export function protectedResourceMetadata(
  auth: AuthConfig,
  baseUrl: string,
  scopesSupported?: readonly string[],
): ProtectedResourceMetadata {
  const servers = auth.authorizationServers ?? (auth.jwt === undefined ? [] : [auth.jwt.issuer]);
  return {
    resource: auth.resourceUri ?? auth.jwt?.audience ?? baseUrl,
    ...(servers.length === 0 ? {} : { authorization_servers: servers }),
    bearer_methods_supported: ['header'],
    ...(scopesSupported === undefined ? {} : { scopes_supported: scopesSupported }),
  };
}

/**
 * Where the metadata for `resource` lives (RFC 9728 §3.1): the well-known path goes between
 * the host and the resource's path, so `https://gw.example/mcp` has its metadata at
 * `https://gw.example/.well-known/oauth-protected-resource/mcp`.
 */
export function protectedResourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  const path = url.pathname === '/' ? '' : url.pathname;
  return `${url.origin}/.well-known/oauth-protected-resource${path}`;
}

/** An auth-param value as an RFC 9110 §5.6.4 quoted-string. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, (char) => `\\${char}`)}"`;
}

/**
 * The `WWW-Authenticate` value for a 401 or 403 (RFC 6750 §3, RFC 9728 §5.1). Without an
 * error, or for a request that sent no credential, only `resource_metadata` (RFC 6750 §3.1:
 * no error code when no credential was offered). A rejected credential adds
 * `error="invalid_token"`; a missing scope adds `error="insufficient_scope", scope="…"`.
 */
export function wwwAuthenticate(resourceMetadataUrl: string, error?: GatewayError): string {
  const params = [`resource_metadata=${quoted(resourceMetadataUrl)}`];
  if (error?.code === 'INSUFFICIENT_SCOPE') {
    params.push('error="insufficient_scope"');
    const scope = error.detail?.['requiredScope'];
    if (typeof scope === 'string') params.push(`scope=${quoted(scope)}`);
  } else if (error?.code === 'UNAUTHENTICATED' && error.detail?.['reason'] !== MISSING_CREDENTIAL) {
    params.push('error="invalid_token"');
  }
  return `Bearer ${params.join(', ')}`;
}
