import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { createApiKeyAuthenticator } from '../../src/identity/api-key-authenticator.ts';
import { generateApiKey, parseApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { configWith, PEPPER } from './config-fixture.ts';

const NOW = Date.parse('2026-11-01T00:00:00Z');

function refusal(run: () => unknown): GatewayError {
  try {
    run();
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

function setup(entry: Record<string, unknown> = {}) {
  const { key, id } = generateApiKey();
  const config = configWith({
    auth: { apiKeys: { pepper: PEPPER } },
    tenants: {
      acme: { name: 'Acme', apiKeys: [{ id, hash: hashApiKey(key, PEPPER), ...entry }] },
      other: { name: 'Other', apiKeys: [] },
    },
  });
  return { key, id, auth: createApiKeyAuthenticator(config, { now: () => NOW }) };
}

describe('API key authenticator', () => {
  it('a valid key yields its tenant, a key subject and all scopes by default', () => {
    const { key, id, auth } = setup();
    expect(auth.authenticate(key)).toEqual({
      tenantId: 'acme',
      subject: `key:${id}`,
      scopes: ['*'],
      via: 'api-key',
    });
  });

  it('a key with scopes yields exactly those scopes', () => {
    const { key, auth } = setup({ scopes: ['tools:call'] });
    expect(auth.authenticate(key).scopes).toEqual(['tools:call']);
  });

  it('a key hashed with plain sha256 is accepted while a pepper is configured', () => {
    const { key, id } = generateApiKey();
    const config = configWith({
      auth: { apiKeys: { pepper: PEPPER } },
      tenants: { acme: { name: 'Acme', apiKeys: [{ id, hash: hashApiKey(key) }] } },
    });
    expect(createApiKeyAuthenticator(config).authenticate(key).tenantId).toBe('acme');
  });

  it('malformed, mistyped, unknown and wrong-secret keys are refused alike', () => {
    const { key, id, auth } = setup();
    const stranger = generateApiKey().key;
    const lastChar = key.at(-1) === 'a' ? 'b' : 'a';
    // A key with the configured id but another secret and a valid checksum.
    const impostorConfig = configWith({
      auth: { apiKeys: { pepper: PEPPER } },
      tenants: { acme: { name: 'Acme', apiKeys: [{ id, hash: hashApiKey(stranger, PEPPER) }] } },
    });
    const errors = [
      refusal(() => auth.authenticate('hello')),
      refusal(() => auth.authenticate(key.slice(0, -1) + lastChar)),
      refusal(() => auth.authenticate(stranger)),
      refusal(() => createApiKeyAuthenticator(impostorConfig).authenticate(key)),
    ];
    expect(errors.map((error) => [error.code, error.publicMessage])).toEqual(
      Array(4).fill(['UNAUTHENTICATED', 'Invalid API key']),
    );
    expect(errors.map((error) => error.detail?.['reason'])).toEqual([
      'malformed',
      'malformed',
      'unknown_key',
      'bad_secret',
    ]);
  });

  it('a suspended key is refused with the same message as an unknown one', () => {
    const { key, auth } = setup({ suspended: true });
    const error = refusal(() => auth.authenticate(key));
    expect([error.code, error.publicMessage, error.spec.http]).toEqual([
      'UNAUTHENTICATED',
      'Invalid API key',
      401,
    ]);
  });

  it('an expired key is refused once its expiry has passed, and accepted before', () => {
    const { key, auth } = setup({ expiresAt: '2026-11-01T00:00:00Z' });
    expect(refusal(() => auth.authenticate(key)).publicMessage).toBe('API key expired');
    const early = setup({ expiresAt: '2026-11-01T00:00:01+00:00' });
    expect(early.auth.authenticate(early.key).tenantId).toBe('acme');
  });

  it('an expired or suspended entry does not reveal its state to a caller without the secret', () => {
    const presented = generateApiKey();
    const owner = generateApiKey().key;
    for (const state of [{ expiresAt: '2020-01-01T00:00:00Z' }, { suspended: true }]) {
      // The entry has the presented key's id, but its hash is of another key.
      const config = configWith({
        auth: { apiKeys: { pepper: PEPPER } },
        tenants: {
          acme: { name: 'Acme', apiKeys: [{ id: presented.id, hash: hashApiKey(owner, PEPPER), ...state }] },
        },
      });
      const error = refusal(() =>
        createApiKeyAuthenticator(config, { now: () => NOW }).authenticate(presented.key),
      );
      expect([error.publicMessage, error.detail?.['reason']]).toEqual(['Invalid API key', 'bad_secret']);
    }
  });

  it('no refusal carries the key or its secret', () => {
    const { key, auth } = setup({ suspended: true });
    const secret = parseApiKey(key)?.secret as string;
    for (const raw of [key, key.slice(0, -1) + '0', `${key}x`]) {
      const error = refusal(() => auth.authenticate(raw));
      const visible = `${error.message} ${error.publicMessage} ${JSON.stringify(error.detail)} ${String(error.cause)}`;
      expect(visible).not.toContain(secret);
    }
  });
});
