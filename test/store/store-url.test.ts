import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { parseStoreUrl, redactUrl } from '../../src/store/store-url.ts';

function refusal(url: string): GatewayError {
  try {
    parseStoreUrl(url);
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('store URLs', () => {
  it('sqlite URLs name a path relative to the working directory, absolute, or memory', () => {
    expect(parseStoreUrl('sqlite:.mcplane/mcplane.db')).toMatchObject({
      backend: 'sqlite',
      path: '.mcplane/mcplane.db',
    });
    expect(parseStoreUrl('sqlite:///var/lib/mcplane.db')).toMatchObject({ path: '/var/lib/mcplane.db' });
    expect(parseStoreUrl('sqlite::memory:')).toMatchObject({ path: ':memory:' });
    expect(refusal('sqlite:').code).toBe('STORE_URL_INVALID');
  });

  it('postgres URLs keep their query, give up ?schema=, and display without the password', () => {
    expect(parseStoreUrl('postgres://app:p%40ss@db:5432/mcplane?schema=cp&sslmode=require')).toEqual({
      backend: 'postgres',
      url: 'postgres://app:p%40ss@db:5432/mcplane?sslmode=require',
      schema: 'cp',
      display: 'postgres://app:***@db:5432/mcplane?schema=cp&sslmode=require',
      password: 'p@ss',
    });
    expect(parseStoreUrl('postgresql://db/x')).toMatchObject({
      backend: 'postgres',
      schema: undefined,
      password: undefined,
    });
    expect(refusal('postgres://db/x?schema=Robert;DROP').code).toBe('STORE_URL_INVALID');
  });

  it('an unknown scheme is refused by name, never echoing the rest of the URL', () => {
    const error = refusal('mysql://root:hunter2@db/x');
    expect(error.message).toContain('unknown store URL scheme "mysql:"');
    expect(error.message).not.toContain('hunter2');
    expect(refusal('just-a-path.db').message).toContain('has no scheme');
  });

  it('redaction masks the password and hides unparseable input', () => {
    expect(redactUrl('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(redactUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
    expect(redactUrl('postgres://u:se cret@[bad')).toBe('postgres:…');
  });
});
