/**
 * Finds the credential in a request's headers and authenticates it with whichever method fits.
 * Knows headers only through `get`, so it works with Fetch `Headers`, Hono and Node alike.
 */
import type { Config } from '../config/schema.ts';
import { GatewayError } from '../errors.ts';
import { createApiKeyAuthenticator, type ApiKeySources } from './api-key-authenticator.ts';
import { API_KEY_PREFIX } from './api-key-format.ts';
import { createJwtAuthenticator } from './jwt-authenticator.ts';
import type { Principal } from './principal.ts';

export type Credential = { readonly kind: 'api-key' | 'bearer'; readonly value: string };

export type HeaderSource = { get(name: string): string | null | undefined };

export type Authenticator = {
  /** The caller's principal; throws UNAUTHENTICATED (401), or FORBIDDEN / UNKNOWN_TENANT (403). */
  authenticate(headers: HeaderSource): Promise<Principal>;
};

/** `detail.reason` of the error for a request that carried no credential at all. */
export const MISSING_CREDENTIAL = 'missing_credential';

/** Far above any real key or access token; stops oversized input before parsing or hashing. */
const MAX_CREDENTIAL_LENGTH = 8192;
// RFC 6750 §2.1: the scheme is case-insensitive, the token is b64token (token68).
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

function malformed(): GatewayError {
  return new GatewayError('UNAUTHENTICATED', 'Malformed credential', {
    detail: { reason: 'malformed_header' },
  });
}

/**
 * The credential of a request: `Authorization: Bearer <value>` or `x-api-key: <value>`.
 * A bearer value with the `mcpl_` prefix is an API key (a JWT starts with `eyJ`); any other is
 * taken for a JWT. `undefined` when neither header is present, or `Authorization` uses another
 * scheme. Throws UNAUTHENTICATED when both headers are sent (RFC 6750 §2: one method per
 * request) or a value is malformed. The value is never put into an error.
 */
export function extractCredential(headers: HeaderSource): Credential | undefined {
  const authorization = headers.get('authorization') ?? undefined;
  const apiKey = headers.get('x-api-key') ?? undefined;
  const bearer =
    authorization !== undefined && /^Bearer(\s|$)/i.test(authorization) ? authorization : undefined;
  if (bearer !== undefined && apiKey !== undefined) {
    throw new GatewayError('UNAUTHENTICATED', 'Send one credential, not both Authorization and x-api-key', {
      detail: { reason: 'two_credentials' },
    });
  }
  if (apiKey !== undefined) {
    const value = apiKey.trim();
    if (value === '' || value.length > MAX_CREDENTIAL_LENGTH) throw malformed();
    return { kind: 'api-key', value };
  }
  if (bearer === undefined) return undefined;
  const value = BEARER.exec(bearer)?.[1];
  if (value === undefined || value.length > MAX_CREDENTIAL_LENGTH) throw malformed();
  return { kind: value.startsWith(API_KEY_PREFIX) ? 'api-key' : 'bearer', value };
}

/**
 * API keys always (the config's, and the store's when `sources.stored` is given); JWTs when
 * `gateway.auth.jwt` is configured. Build once per config; tenants are checked live through
 * `sources.tenantActive` (by default, the config's tenants).
 */
export function createAuthenticator(config: Config, sources: ApiKeySources = {}): Authenticator {
  const tenantActive = sources.tenantActive ?? ((id: string) => config.tenants[id] !== undefined);
  const apiKeys = createApiKeyAuthenticator(config, { ...sources, tenantActive });
  const jwtConfig = config.gateway.auth.jwt;
  const jwt = jwtConfig === undefined ? undefined : createJwtAuthenticator(jwtConfig, { tenantActive });

  return {
    async authenticate(headers) {
      const credential = extractCredential(headers);
      if (credential === undefined) {
        const anonymous = config.gateway.auth.anonymous;
        if (anonymous)
          return {
            tenantId: anonymous.tenant,
            subject: 'anonymous',
            scopes: anonymous.scopes,
            via: 'anonymous',
          };
        throw new GatewayError('UNAUTHENTICATED', undefined, { detail: { reason: MISSING_CREDENTIAL } });
      }
      if (credential.kind === 'api-key') {
        try {
          return apiKeys.authenticate(credential.value);
        } catch (error) {
          const unknown = error instanceof GatewayError && error.detail?.reason === 'unknown_key';
          if (!unknown || !(await sources.stored?.caughtUp())) throw error;
          return apiKeys.authenticate(credential.value);
        }
      }
      if (jwt === undefined) {
        throw new GatewayError('UNAUTHENTICATED', 'Invalid token', {
          detail: { reason: 'jwt_not_configured' },
        });
      }
      return jwt.authenticate(credential.value);
    },
  };
}
