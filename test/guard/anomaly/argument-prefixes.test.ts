import { describe, expect, it } from 'vitest';
import { argumentPrefixes, prefixOf, sameLine } from '../../../src/guard/anomaly/argument-prefixes.ts';

describe('argument prefixes', () => {
  it.each([
    ['/data/acme/reports/q3.pdf', '/data/acme'],
    ['/data/acme/', '/data/acme'],
    ['/etc/shadow', '/etc'],
    ['/data/acme/../../etc/shadow', '/etc'],
    ['/', '/'],
    ['~/.ssh/id_rsa', '~/.ssh'],
    ['./data/acme/x.txt', 'data/acme'],
    ['../../etc/passwd', '../..'],
    ['C:\\Users\\me\\notes.txt', 'c:/Users/me'],
    ['file:///data/acme/x.txt', '/data/acme'],
    ['https://api.example.com/v1/users/7', 'https://api.example.com/v1'],
    ['HTTPS://API.Example.com/v1/', 'https://api.example.com/v1'],
    ['https://user:pw@api.example.com/?q=secret', 'https://api.example.com'],
    ['postgres://admin:hunter2@db.internal:5432/prod', 'postgres://db.internal:5432'],
  ])('%s has the prefix %s', (value, prefix) => {
    expect(prefixOf(value)).toBe(prefix);
  });

  it.each(['hello', '', '/ not a path', 'a/b/c', 'ratio 1/2', 'line\n/etc/shadow', 'mailto:x@example.com'])(
    '%j is neither a path nor a URL',
    (value) => {
      expect(prefixOf(value)).toBeUndefined();
    },
  );

  it('a prefix never keeps credentials, queries or fragments of a URL', () => {
    const prefix = prefixOf('https://alice:s3cret@api.example.com/v1/x?token=abc#frag') ?? '';
    expect(prefix).toBe('https://api.example.com/v1');
    expect(prefix).not.toMatch(/alice|s3cret|token|abc|frag/);
  });

  it('prefixes on one line are the same place; siblings are not', () => {
    expect(sameLine('/data/acme', '/data/acme')).toBe(true);
    expect(sameLine('/data', '/data/acme')).toBe(true);
    expect(sameLine('/data/acme', '/data')).toBe(true);
    expect(sameLine('/data/globex', '/data/acme')).toBe(false);
    expect(sameLine('/dat', '/data')).toBe(false);
    expect(sameLine('/', '/etc')).toBe(false);
    expect(sameLine('https://api.example.com', 'https://api.example.com/v1')).toBe(true);
    expect(sameLine('https://api.example.com.evil.io', 'https://api.example.com')).toBe(false);
  });

  it('every string of nested arguments is looked at, within bounds, each prefix once', () => {
    const args = {
      path: '/data/acme/a.txt',
      also: ['/data/acme/b.txt', { deep: 'https://api.example.com/v1/x' }],
      text: 'not a path',
      n: 3,
    };
    expect(argumentPrefixes(args)).toEqual(['/data/acme', 'https://api.example.com/v1']);
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`p${i}`, `/d${i}/x/y`]));
    expect(argumentPrefixes(many)).toHaveLength(8);
    let nested: unknown = '/too/deep/x';
    for (let depth = 0; depth < 20; depth++) nested = { nested };
    expect(argumentPrefixes(nested)).toEqual([]);
  });

  it('a prefix is cut at 200 characters', () => {
    const [prefix] = argumentPrefixes({ path: `/${'a'.repeat(300)}/${'b'.repeat(300)}/file` });
    expect(prefix).toBe(`/${'a'.repeat(199)}`);
  });
});
