import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import {
  createAuthenticator,
  extractCredential,
  MISSING_CREDENTIAL,
} from '../../src/identity/credentials.ts';
import { configWith } from './config-fixture.ts';
import { AUDIENCE, ISSUER, publicPem, signingKey, token } from './jwt-fixture.ts';

async function refusal(run: () => unknown): Promise<GatewayError> {
  try {
    await run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

const JWT_LOOKALIKE = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('extracting the credential', () => {
  it('a bearer JWT, a bearer API key and an x-api-key header are told apart', () => {
    const { key } = generateApiKey();
    expect(extractCredential(new Headers({ authorization: `Bearer ${JWT_LOOKALIKE}` }))).toEqual({
      kind: 'bearer',
      value: JWT_LOOKALIKE,
    });
    expect(extractCredential(new Headers({ authorization: `bearer ${key}` }))).toEqual({
      kind: 'api-key',
      value: key,
    });
    expect(extractCredential(new Headers({ 'x-api-key': ` ${key} ` }))).toEqual({
      kind: 'api-key',
      value: key,
    });
  });

  it('no credential, or another Authorization scheme, is no credential', () => {
    expect(extractCredential(new Headers())).toBeUndefined();
    expect(extractCredential(new Headers({ authorization: 'Basic dXNlcjpwYXNz' }))).toBeUndefined();
  });

  it('sending both headers or an empty bearer is refused without echoing the value', async () => {
    const { key } = generateApiKey();
    const both = await refusal(() =>
      extractCredential(new Headers({ authorization: `Bearer ${key}`, 'x-api-key': key })),
    );
    const empty = await refusal(() => extractCredential(new Headers({ authorization: 'Bearer ' })));
    const spaced = await refusal(() =>
      extractCredential(new Headers({ authorization: `Bearer ${key} extra` })),
    );
    for (const error of [both, empty, spaced]) {
      expect(error.code).toBe('UNAUTHENTICATED');
      expect(`${error.message} ${JSON.stringify(error.detail)}`).not.toContain(key);
    }
  });
});

describe('the combined authenticator', () => {
  async function setup() {
    const { key, id } = generateApiKey();
    const rsa = await signingKey('RS256');
    const config = configWith({
      auth: { jwt: { issuer: ISSUER, audience: AUDIENCE, publicKeys: [await publicPem(rsa)] } },
      tenants: { acme: { name: 'Acme', apiKeys: [{ id, hash: hashApiKey(key), scopes: ['tools:call'] }] } },
    });
    return { key, id, rsa, auth: createAuthenticator(config) };
  }

  it('an API key in either header and a JWT in Authorization each authenticate', async () => {
    const { key, id, rsa, auth } = await setup();
    const viaKey = { tenantId: 'acme', subject: `key:${id}`, scopes: ['tools:call'], via: 'api-key' };
    await expect(auth.authenticate(new Headers({ 'x-api-key': key }))).resolves.toEqual(viaKey);
    await expect(auth.authenticate(new Headers({ authorization: `Bearer ${key}` }))).resolves.toEqual(viaKey);
    const jwt = await token(rsa);
    await expect(auth.authenticate(new Headers({ authorization: `Bearer ${jwt}` }))).resolves.toMatchObject({
      tenantId: 'acme',
      via: 'jwt',
    });
  });

  it('a request without a credential is refused and marked as missing one', async () => {
    const { auth } = await setup();
    const error = await refusal(() => auth.authenticate(new Headers()));
    expect([error.code, error.detail?.['reason']]).toEqual(['UNAUTHENTICATED', MISSING_CREDENTIAL]);
  });

  it('a bearer token is refused when no JWT issuer is configured', async () => {
    const { key, id } = generateApiKey();
    const auth = createAuthenticator(
      configWith({ tenants: { acme: { name: 'Acme', apiKeys: [{ id, hash: hashApiKey(key) }] } } }),
    );
    const error = await refusal(() =>
      auth.authenticate(new Headers({ authorization: `Bearer ${JWT_LOOKALIKE}` })),
    );
    expect([error.code, error.publicMessage]).toEqual(['UNAUTHENTICATED', 'Invalid token']);
  });

  it('a JWT sent as x-api-key is refused as an invalid API key', async () => {
    const { rsa, auth } = await setup();
    const error = await refusal(async () =>
      auth.authenticate(new Headers({ 'x-api-key': await token(rsa) })),
    );
    expect(error.publicMessage).toBe('Invalid API key');
  });
});
