import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createJwtAuthenticator } from '../../src/identity/jwt-authenticator.ts';
import type { JwtConfig } from '../../src/config/schema.ts';
import { configWith } from './config-fixture.ts';
import { AUDIENCE, ISSUER, publicJwk, publicPem, signingKey, token } from './jwt-fixture.ts';
import type { SigningKey } from './jwt-fixture.ts';

const TENANTS = { acme: { name: 'Acme' }, globex: { name: 'Globex' } };

function jwtConfig(keys: Record<string, unknown>): JwtConfig {
  const jwt = configWith({ tenants: TENANTS, auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, ...keys } } })
    .gateway.auth.jwt;
  if (jwt === undefined) throw new Error('jwt config missing');
  return jwt;
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

let rsa: SigningKey;
let es: SigningKey;

beforeAll(async () => {
  rsa = await signingKey('RS256');
  es = await signingKey('ES256');
});

describe('JWT authenticator with configured public keys', () => {
  const authenticator = async () =>
    createJwtAuthenticator(jwtConfig({ publicKeys: [await publicPem(rsa)] }), {
      tenantActive: (id: string) => Object.keys(TENANTS).includes(id),
    });

  it('a valid token is accepted with its tenant, subject and scopes mapped', async () => {
    const principal = await (await authenticator()).authenticate(await token(rsa));
    expect(principal).toEqual({
      tenantId: 'acme',
      subject: 'jwt:user-1',
      scopes: ['tools:call', 'resources:read'],
      via: 'jwt',
    });
  });

  it('custom tenant and scope claims are read, and an array of scopes is accepted', async () => {
    const config = {
      ...jwtConfig({ publicKeys: [await publicPem(rsa)] }),
      tenantClaim: 'org',
      scopeClaim: 'scp',
    };
    const auth = createJwtAuthenticator(config, { tenantActive: (id: string) => ['globex'].includes(id) });
    const principal = await auth.authenticate(await token(rsa, { org: 'globex', scp: ['tools:call'] }));
    expect([principal.tenantId, principal.scopes]).toEqual(['globex', ['tools:call']]);
  });

  it('an expired token is refused as expired', async () => {
    const expired = await token(rsa, { iat: 1_000 }, { expiresIn: 2_000 });
    const error = await refusal((await authenticator()).authenticate(expired));
    expect([error.code, error.publicMessage, error.spec.http]).toEqual([
      'UNAUTHENTICATED',
      'Token expired',
      401,
    ]);
  });

  it('a token expired by less than the clock tolerance is still accepted', async () => {
    const now = Math.floor(Date.now() / 1000);
    const justExpired = await token(rsa, { iat: now - 60 }, { expiresIn: now - 2 });
    await expect((await authenticator()).authenticate(justExpired)).resolves.toMatchObject({
      tenantId: 'acme',
    });
  });

  it.each([
    ['a wrong audience', { aud: 'https://other.example.com/mcp' }],
    ['a wrong issuer', { iss: 'https://evil.example.com' }],
  ])('a token with %s is refused', async (_, claims) => {
    const signed = await new SignJWT({ tenant: 'acme', sub: 'user-1', iss: ISSUER, aud: AUDIENCE, ...claims })
      .setProtectedHeader({ alg: 'RS256' })
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    const error = await refusal((await authenticator()).authenticate(signed));
    expect([error.code, error.publicMessage]).toEqual(['UNAUTHENTICATED', 'Invalid token']);
  });

  it('a token without exp is refused', async () => {
    const signed = await new SignJWT({ tenant: 'acme' })
      .setProtectedHeader({ alg: 'RS256' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .sign(rsa.privateKey);
    const error = await refusal((await authenticator()).authenticate(signed));
    expect([error.code, error.detail]).toEqual([
      'UNAUTHENTICATED',
      { reason: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'exp' },
    ]);
  });

  it('an unsigned token (alg none) is refused', async () => {
    const unsigned = new UnsecuredJWT({ tenant: 'acme', scope: '*' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('user-1')
      .setExpirationTime('5m')
      .encode();
    const error = await refusal((await authenticator()).authenticate(unsigned));
    expect([error.code, error.publicMessage]).toEqual(['UNAUTHENTICATED', 'Invalid token']);
  });

  it('an HS256 token keyed with the public key is refused by an RS256-only config', async () => {
    // The algorithm-confusion attack: the public key, which anyone may have, used as an HMAC secret.
    const pem = await publicPem(rsa);
    const forged = await token({ alg: 'HS256', secret: new TextEncoder().encode(pem) });
    const error = await refusal((await authenticator()).authenticate(forged));
    expect([error.code, error.detail?.['reason']]).toEqual(['UNAUTHENTICATED', 'ERR_JOSE_ALG_NOT_ALLOWED']);
  });

  it('a token signed by another key is refused', async () => {
    const other = await signingKey('RS256');
    const error = await refusal((await authenticator()).authenticate(await token(other)));
    expect([error.code, error.detail?.['reason']]).toEqual([
      'UNAUTHENTICATED',
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    ]);
  });

  it('a token for a tenant the config does not know is forbidden without saying why', async () => {
    const error = await refusal(
      (await authenticator()).authenticate(await token(rsa, { tenant: 'initech' })),
    );
    expect([error.code, error.spec.http, error.publicMessage]).toEqual(['UNKNOWN_TENANT', 403, 'Forbidden']);
  });

  it('a token without a tenant claim is forbidden', async () => {
    const error = await refusal(
      (await authenticator()).authenticate(await token(rsa, { tenant: undefined })),
    );
    expect([error.code, error.spec.http]).toEqual(['FORBIDDEN', 403]);
  });

  it('garbage is refused as an invalid token and never echoed', async () => {
    for (const raw of ['not-a-jwt', 'a.b.c', 'eyJhbGciOiJSUzI1NiJ9.e30.']) {
      const error = await refusal((await authenticator()).authenticate(raw));
      expect([error.code, error.message]).toEqual(['UNAUTHENTICATED', 'Invalid token']);
      expect(JSON.stringify(error.detail)).not.toContain(raw);
    }
  });
});

describe('JWT authenticator key sources', () => {
  it('JWKs without kid are all tried, so the second of two keys verifies', async () => {
    const first = await signingKey('ES256');
    const config = jwtConfig({
      publicKeys: [JSON.stringify(await publicJwk(first)), JSON.stringify(await publicJwk(es))],
    });
    const auth = createJwtAuthenticator(config, { tenantActive: (id: string) => ['acme'].includes(id) });
    await expect(auth.authenticate(await token(es))).resolves.toMatchObject({ tenantId: 'acme' });
    expect((await refusal(auth.authenticate(await token(await signingKey('ES256'))))).code).toBe(
      'UNAUTHENTICATED',
    );
  });

  it('a JWK Set given as one public key is accepted, and its kid selects the key', async () => {
    const set = { keys: [await publicJwk(rsa, { kid: rsa.kid }), await publicJwk(es, { kid: es.kid })] };
    const auth = createJwtAuthenticator(jwtConfig({ publicKeys: [JSON.stringify(set)] }), {
      tenantActive: (id: string) => ['acme'].includes(id),
    });
    await expect(auth.authenticate(await token(es, {}, { withKid: true }))).resolves.toMatchObject({
      via: 'jwt',
    });
  });

  it('a private key among the public keys is refused at construction without echoing it', async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(privateKey);
    let message = '';
    try {
      createJwtAuthenticator(jwtConfig({ publicKeys: [JSON.stringify(jwk)] }), {
        tenantActive: (id: string) => ['acme'].includes(id),
      });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toBe(
      'gateway.auth.jwt.publicKeys[0] holds a private or symmetric key; configure the public key only',
    );
    expect(message).not.toContain(jwk.d);
  });

  it('with an HS256 secret an HS256 token is accepted and an RS256 token refused', async () => {
    const secret = 'a-shared-secret-of-at-least-32-chars!!';
    const auth = createJwtAuthenticator(jwtConfig({ secret }), {
      tenantActive: (id: string) => ['acme'].includes(id),
    });
    const good = await token({ alg: 'HS256', secret: new TextEncoder().encode(secret) });
    await expect(auth.authenticate(good)).resolves.toMatchObject({ tenantId: 'acme' });
    expect((await refusal(auth.authenticate(await token(rsa)))).detail?.['reason']).toBe(
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });
});

describe('JWT authenticator with a JWKS URL', () => {
  let server: Server | undefined;

  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function serveJwks(body: () => unknown): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    server = createServer((req, res) => {
      requests += 1;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body()));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, requests: () => requests };
  }

  it('keys are fetched from the JWKS URL once and select by kid', async () => {
    const jwks = {
      keys: [
        await publicJwk(rsa, { kid: rsa.kid, alg: 'RS256', use: 'sig' }),
        await publicJwk(es, { kid: es.kid }),
      ],
    };
    const { url, requests } = await serveJwks(() => jwks);
    const auth = createJwtAuthenticator(jwtConfig({ jwksUrl: url }), {
      tenantActive: (id: string) => ['acme'].includes(id),
    });
    await expect(auth.authenticate(await token(rsa, {}, { withKid: true }))).resolves.toMatchObject({
      tenantId: 'acme',
    });
    await expect(auth.authenticate(await token(es, {}, { withKid: true }))).resolves.toMatchObject({
      tenantId: 'acme',
    });
    expect(requests()).toBe(1);
  });

  it('a token whose kid is not in the JWKS is refused as invalid', async () => {
    const { url } = await serveJwks(() => ({ keys: [] }));
    const stranger = await signingKey('RS256', 'unknown-kid');
    const auth = createJwtAuthenticator(jwtConfig({ jwksUrl: url }), {
      tenantActive: (id: string) => ['acme'].includes(id),
    });
    const error = await refusal(auth.authenticate(await token(stranger, {}, { withKid: true })));
    expect([error.code, error.detail?.['reason']]).toEqual(['UNAUTHENTICATED', 'ERR_JWKS_NO_MATCHING_KEY']);
  });

  it('an unreachable JWKS is the gateway’s failure, not the caller’s', async () => {
    const { url } = await serveJwks(() => ({}));
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    server = undefined;
    const auth = createJwtAuthenticator(jwtConfig({ jwksUrl: url }), {
      tenantActive: (id: string) => ['acme'].includes(id),
      jwksTimeout: 1_000,
    });
    const error = await refusal(auth.authenticate(await token(rsa, {}, { withKid: true })));
    expect([error.code, error.spec.http, error.publicMessage]).toEqual(['INTERNAL', 500, 'Internal error']);
  });
});
