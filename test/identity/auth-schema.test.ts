import { describe, expect, it } from 'vitest';
import { ConfigSchema } from '../../src/config/schema.ts';

const JWT = { issuer: 'https://idp.example.com', audience: 'https://gw.example.com/mcp' };
const SECRET = 'a-shared-secret-of-at-least-32-chars!!';

function parse(auth: unknown, tenants: unknown = {}) {
  return ConfigSchema.safeParse({ servers: {}, tenants, gateway: auth === undefined ? {} : { auth } });
}

function problems(auth: unknown, tenants?: unknown): string[] {
  const result = parse(auth, tenants);
  return result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('auth settings in the config', () => {
  it('auth defaults to API keys only, without a pepper, with 10 failed authentications a minute per source IP', () => {
    const result = parse(undefined);
    expect(result.success && result.data.gateway.auth).toEqual({
      apiKeys: {},
      failureLimit: { perMinute: 10 },
    });
  });

  it('a jwt block gets its defaults: asymmetric algorithms, tenant and scope claims, 5s tolerance', () => {
    const result = parse({ jwt: { ...JWT, jwksUrl: 'https://idp.example.com/jwks' } });
    expect(result.success && result.data.gateway.auth.jwt).toEqual({
      ...JWT,
      jwksUrl: 'https://idp.example.com/jwks',
      algorithms: ['RS256', 'ES256', 'EdDSA'],
      tenantClaim: 'tenant',
      scopeClaim: 'scope',
      clockTolerance: 5_000,
    });
  });

  it('a jwt block with a secret defaults to HS256', () => {
    const result = parse({ jwt: { ...JWT, secret: SECRET } });
    expect(result.success && result.data.gateway.auth.jwt?.algorithms).toEqual(['HS256']);
  });

  it('a jwt block needs exactly one key source', () => {
    const message = 'gateway.auth.jwt: configure exactly one of jwksUrl, publicKeys or secret';
    expect(problems({ jwt: JWT })).toEqual([message]);
    expect(problems({ jwt: { ...JWT, jwksUrl: 'https://idp.example.com/jwks', secret: SECRET } })).toEqual([
      message,
    ]);
  });

  it('HS algorithms without a secret, asymmetric ones with it, and none are refused', () => {
    const keys = { publicKeys: ['-----BEGIN PUBLIC KEY-----'] };
    expect(problems({ jwt: { ...JWT, ...keys, algorithms: ['RS256', 'HS256'] } })).toEqual([
      'gateway.auth.jwt.algorithms.1: HS* algorithms need `secret`',
    ]);
    expect(problems({ jwt: { ...JWT, secret: SECRET, algorithms: ['RS256'] } })).toEqual([
      'gateway.auth.jwt.algorithms.0: with `secret` only HS256, HS384 or HS512',
    ]);
    expect(problems({ jwt: { ...JWT, ...keys, algorithms: ['none'] } })).toHaveLength(1);
  });

  it('short secrets and peppers are refused', () => {
    expect(problems({ jwt: { ...JWT, secret: 'short' } })).toEqual([
      'gateway.auth.jwt.secret: an HMAC secret needs at least 32 characters',
    ]);
    expect(problems({ apiKeys: { pepper: 'short' } })).toEqual([
      'gateway.auth.apiKeys.pepper: the pepper needs at least 32 characters',
    ]);
  });

  it('a JWKS URL over plain http is refused unless it is on loopback', () => {
    expect(problems({ jwt: { ...JWT, jwksUrl: 'http://idp.example.com/jwks' } })).toEqual([
      'gateway.auth.jwt.jwksUrl: expected an https URL (plain http is allowed only for localhost)',
    ]);
    expect(problems({ jwt: { ...JWT, jwksUrl: 'http://127.0.0.1:8080/jwks' } })).toEqual([]);
  });

  it('an API key id used by two tenants is refused at the second use', () => {
    const entry = { id: 'abc', hash: 'sha256:AAAA' };
    const tenants = { a: { name: 'A', apiKeys: [entry] }, b: { name: 'B', apiKeys: [entry] } };
    expect(problems(undefined, tenants)).toEqual([
      'tenants.b.apiKeys.0.id: API key id "abc" is used more than once',
    ]);
  });

  it('an hmac-sha256 key hash without a configured pepper is refused', () => {
    const tenants = { a: { name: 'A', apiKeys: [{ id: 'abc', hash: 'hmac-sha256:AAAA' }] } };
    expect(problems(undefined, tenants)).toEqual([
      'tenants.a.apiKeys.0.hash: an hmac-sha256 hash needs gateway.auth.apiKeys.pepper',
    ]);
    expect(problems({ apiKeys: { pepper: 'p'.repeat(32) } }, tenants)).toEqual([]);
  });
});
