import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { MISSING_CREDENTIAL } from '../../src/identity/credentials.ts';
import type { Principal } from '../../src/identity/principal.ts';
import {
  protectedResourceMetadata,
  protectedResourceMetadataUrl,
  requireScope,
  wwwAuthenticate,
} from '../../src/identity/scopes.ts';
import { configWith } from './config-fixture.ts';

const principal = (scopes: string[]): Principal => ({
  tenantId: 'acme',
  subject: 'user-1',
  scopes,
  via: 'jwt',
});
const METADATA_URL = 'https://gw.example.com/.well-known/oauth-protected-resource/mcp';

describe('scopes', () => {
  it('a held scope or * passes, any other scope is insufficient', () => {
    expect(() => requireScope(principal(['tools:call']), 'tools:call')).not.toThrow();
    expect(() => requireScope(principal(['*']), 'resources:read')).not.toThrow();
    try {
      requireScope(principal(['tools:call']), 'resources:read');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(GatewayError);
      const gatewayError = error as GatewayError;
      expect([gatewayError.code, gatewayError.spec.http, gatewayError.detail]).toEqual([
        'INSUFFICIENT_SCOPE',
        403,
        { requiredScope: 'resources:read' },
      ]);
    }
  });
});

describe('protected-resource metadata', () => {
  const jwt = {
    issuer: 'https://idp.example.com',
    audience: 'https://gw.example.com/mcp',
    jwksUrl: 'https://idp.example.com/jwks',
  };

  it('the resource is the JWT audience and the issuer is the authorization server by default', () => {
    const auth = configWith({ auth: { jwt } }).gateway.auth;
    expect(protectedResourceMetadata(auth, 'http://127.0.0.1:3000/mcp', ['tools:call'])).toEqual({
      resource: 'https://gw.example.com/mcp',
      authorization_servers: ['https://idp.example.com'],
      bearer_methods_supported: ['header'],
      scopes_supported: ['tools:call'],
    });
  });

  it('configured resourceUri and authorizationServers win; without them the base URL is the resource', () => {
    const auth = configWith({
      auth: {
        jwt,
        resourceUri: 'https://mcp.example.com/',
        authorizationServers: ['https://as.example.com'],
      },
    }).gateway.auth;
    expect(protectedResourceMetadata(auth, 'http://x')).toMatchObject({
      resource: 'https://mcp.example.com/',
      authorization_servers: ['https://as.example.com'],
    });
    expect(protectedResourceMetadata(configWith({}).gateway.auth, 'http://127.0.0.1:3000/mcp')).toEqual({
      resource: 'http://127.0.0.1:3000/mcp',
      bearer_methods_supported: ['header'],
    });
  });

  it('the metadata URL puts the well-known path between host and resource path', () => {
    expect(protectedResourceMetadataUrl('https://gw.example.com/mcp')).toBe(METADATA_URL);
    expect(protectedResourceMetadataUrl('https://gw.example.com/')).toBe(
      'https://gw.example.com/.well-known/oauth-protected-resource',
    );
  });
});

describe('WWW-Authenticate', () => {
  it('a request without a credential gets only the metadata pointer', () => {
    const missing = new GatewayError('UNAUTHENTICATED', undefined, {
      detail: { reason: MISSING_CREDENTIAL },
    });
    expect(wwwAuthenticate(METADATA_URL)).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
    expect(wwwAuthenticate(METADATA_URL, missing)).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });

  it('a rejected credential is an invalid_token', () => {
    const invalid = new GatewayError('UNAUTHENTICATED', 'Invalid token', {
      detail: { reason: 'ERR_JWT_EXPIRED' },
    });
    expect(wwwAuthenticate(METADATA_URL, invalid)).toBe(
      `Bearer resource_metadata="${METADATA_URL}", error="invalid_token"`,
    );
  });

  it('a missing scope is insufficient_scope naming the scope', () => {
    let error: unknown;
    try {
      requireScope(principal([]), 'tools:call');
    } catch (thrown) {
      error = thrown;
    }
    expect(wwwAuthenticate(METADATA_URL, error as GatewayError)).toBe(
      `Bearer resource_metadata="${METADATA_URL}", error="insufficient_scope", scope="tools:call"`,
    );
  });

  it('quotes and backslashes in a value are escaped', () => {
    expect(wwwAuthenticate('https://x/a"b\\c')).toBe('Bearer resource_metadata="https://x/a\\"b\\\\c"');
  });
});
