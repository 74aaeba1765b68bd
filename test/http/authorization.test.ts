/**
 * The gateway as an OAuth 2.1 resource server over HTTP: the 401 challenge and the RFC 9728
 * metadata it points at, JWT validation on every request, and scope checks (403).
 */
import { SignJWT, UnsecuredJWT, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIENCE, ISSUER, publicPem, signingKey, type SigningKey } from '../identity/jwt-fixture.ts';
import { fixtureServer } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  initialize,
  newApiKey,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

/** A token for tenant acme that passes every check unless `claims` says otherwise. */
async function mint(key: SigningKey, claims: JWTPayload = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ tenant: 'acme', scope: 'tools:call', ...claims })
    .setProtectedHeader({ alg: key.alg })
    .setIssuer(typeof claims.iss === 'string' ? claims.iss : ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setSubject('user-1')
    .setIssuedAt(now - 600)
    .setExpirationTime(claims.exp ?? now + 300)
    .sign(key.privateKey);
}

/** A gateway that accepts JWTs signed by `key`; with `servers: false` it has none, for refusals. */
async function jwtGateway(key: SigningKey, { servers = true } = {}): Promise<HttpGateway> {
  return startHttpGateway({
    gateway: { auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, publicKeys: [await publicPem(key)] } } },
    servers: servers ? { fixture: fixtureServer() } : {},
  });
}

describe('authorization over HTTP', () => {
  it('a request without a credential gets 401 pointing at protected-resource metadata that names the endpoint', async () => {
    const http = await startHttpGateway({
      servers: {},
      tenants: { acme: { name: 'Acme', apiKeys: [newApiKey().entry] } },
    });
    const { response } = await initialize(http, {});
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    const match = /^Bearer resource_metadata="([^"]+)"$/.exec(challenge);
    expect(match, challenge).not.toBeNull();

    const metadataUrl = match?.[1] as string;
    expect(new URL(metadataUrl).origin).toBe(http.origin);
    const metadata = await fetch(metadataUrl);
    expect(metadata.status).toBe(200);
    expect(metadata.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await metadata.json()).toMatchObject({
      resource: http.url.href,
      bearer_methods_supported: ['header'],
      scopes_supported: expect.arrayContaining(['tools:call']) as unknown,
    });
  });

  it('a valid JWT opens a session and calls a tool', async () => {
    const key = await signingKey('ES256');
    const http = await jwtGateway(key);
    const { client } = await connectHttpClient(http, bearer(await mint(key)));
    const result = await client.callTool({ name: 'fixture__echo', arguments: {} });
    expect(result.isError).toBeFalsy();
  });

  it.each<[string, (key: SigningKey) => Promise<string>]>([
    ['an expired token', (key) => mint(key, { exp: Math.floor(Date.now() / 1000) - 60 })],
    ['a token for another audience', (key) => mint(key, { aud: 'https://other.example.com/mcp' })],
    ['a token from another issuer', (key) => mint(key, { iss: 'https://evil.example.com' })],
    [
      'an unsigned token (alg none)',
      async () =>
        new UnsecuredJWT({ tenant: 'acme', scope: 'tools:call' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setSubject('user-1')
          .setExpirationTime('5m')
          .encode(),
    ],
    ['a token signed by an unknown key', async () => mint(await signingKey('ES256'))],
  ])('%s is refused with 401 invalid_token', async (_name, makeToken) => {
    const key = await signingKey('ES256');
    const http = await jwtGateway(key, { servers: false });
    const { response, body } = await initialize(http, bearer(await makeToken(key)));
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(JSON.parse(body)).toMatchObject({ error: { data: { code: 'UNAUTHENTICATED' } } });
    expect(http.gateway.sessionCount).toBe(0);
  });

  it('a principal without the tools:call scope can list tools but calling one is 403 insufficient_scope', async () => {
    const reader = newApiKey(['resources:read']);
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer() },
      tenants: { acme: { name: 'Acme', apiKeys: [reader.entry] } },
    });
    const { client, transport } = await connectHttpClient(http, bearer(reader.key));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('fixture__echo');

    const call = await postToSession(http, transport.sessionId as string, bearer(reader.key), {
      jsonrpc: '2.0',
      id: 'c1',
      method: 'tools/call',
      params: { name: 'fixture__echo', arguments: {} },
    });
    expect(call.status).toBe(403);
    const challenge = call.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer resource_metadata="[^"]+"/);
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="tools:call"');
    expect(await call.json()).toMatchObject({ id: 'c1', error: { data: { code: 'INSUFFICIENT_SCOPE' } } });

    // The SDK client sees the refusal as an error, and the session stays usable.
    await expect(client.callTool({ name: 'fixture__echo', arguments: {} })).rejects.toThrow();
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });
});
