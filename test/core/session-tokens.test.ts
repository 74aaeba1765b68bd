import { describe, expect, it } from 'vitest';
import { randomToken } from '../../src/session/session-tokens.ts';

describe('session tokens', () => {
  it('are base64url of the asked length, and never repeat across many pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const token = randomToken(i % 2 === 0 ? 18 : 24);
      expect(token).toMatch(i % 2 === 0 ? /^[A-Za-z0-9_-]{24}$/ : /^[A-Za-z0-9_-]{32}$/);
      seen.add(token);
    }
    expect(seen.size).toBe(20_000);
  });

  it('are not made of zeroes (each byte is handed out once, then cleared)', () => {
    // 18 zero bytes would read as 24 'A's.
    for (let i = 0; i < 1_000; i++) expect(randomToken(18)).not.toBe('A'.repeat(24));
  });

  it('refuse a length the pool cannot give', () => {
    for (const bytes of [0, -1, 1.5, 4097]) expect(() => randomToken(bytes)).toThrow(RangeError);
  });
});
