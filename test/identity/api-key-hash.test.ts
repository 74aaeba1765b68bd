import { beforeEach, describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey, verifyApiKeyHash } from '../../src/identity/api-key-hash.ts';
import { PEPPER } from './config-fixture.ts';

const { timingSafeEqual } = vi.hoisted(() => ({
  timingSafeEqual: vi.fn<(a: Buffer, b: Buffer) => boolean>(),
}));

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:crypto')>();
  timingSafeEqual.mockImplementation((a, b) => actual.timingSafeEqual(a, b));
  return { ...actual, timingSafeEqual };
});

describe('API key hash', () => {
  beforeEach(() => {
    timingSafeEqual.mockClear();
  });

  it('with a pepper the hash is an HMAC-SHA256 that verifies the key', () => {
    const { key } = generateApiKey();
    const stored = hashApiKey(key, PEPPER);
    expect(stored).toMatch(/^hmac-sha256:[A-Za-z0-9_-]{43}$/);
    expect(verifyApiKeyHash(key, stored, PEPPER)).toBe(true);
    expect(verifyApiKeyHash(generateApiKey().key, stored, PEPPER)).toBe(false);
  });

  it('without a pepper the hash is plain sha256 and still verifies', () => {
    const { key } = generateApiKey();
    const stored = hashApiKey(key);
    expect(stored).toMatch(/^sha256:[A-Za-z0-9_-]{43}$/);
    expect(verifyApiKeyHash(key, stored)).toBe(true);
    expect(verifyApiKeyHash(key, stored, PEPPER)).toBe(true);
  });

  it('an hmac hash does not verify without the pepper or with another one', () => {
    const { key } = generateApiKey();
    const stored = hashApiKey(key, PEPPER);
    expect(verifyApiKeyHash(key, stored)).toBe(false);
    expect(verifyApiKeyHash(key, stored, `${PEPPER}-other`)).toBe(false);
  });

  it('digests are compared with timingSafeEqual on equal-length buffers', () => {
    const { key } = generateApiKey();
    expect(verifyApiKeyHash(key, hashApiKey(key, PEPPER), PEPPER)).toBe(true);
    expect(verifyApiKeyHash(generateApiKey().key, hashApiKey(key, PEPPER), PEPPER)).toBe(false);
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [a, b] of timingSafeEqual.mock.calls) {
      expect(a).toHaveLength(32);
      expect(b).toHaveLength(32);
    }
  });

  it('a stored digest of the wrong length or an unknown algorithm is refused without throwing', () => {
    const { key } = generateApiKey();
    expect(verifyApiKeyHash(key, 'sha256:AAAA')).toBe(false);
    expect(verifyApiKeyHash(key, `md5:${hashApiKey(key).slice('sha256:'.length)}`)).toBe(false);
    expect(timingSafeEqual).not.toHaveBeenCalled();
  });
});
