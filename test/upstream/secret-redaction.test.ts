/** Redacting the values a child was given from the lines it prints. */
import { describe, expect, it } from 'vitest';
import { secretRedactor } from '../../src/upstream/secret-redaction.ts';

describe('secretRedactor', () => {
  it('hides every occurrence, a longer secret whole, and leaves short values alone', () => {
    const redact = secretRedactor(['hunter22', 'hunter22-extended', 'abc', '']);
    expect(redact('a=hunter22 b=hunter22-extended c=abc hunter22')).toBe(
      'a=[redacted] b=[redacted] c=abc [redacted]',
    );
  });

  it('hides a secret in its JSON-escaped form', () => {
    const redact = secretRedactor(['pa"ss\\word']);
    expect(redact(JSON.stringify({ TOKEN: 'pa"ss\\word' }))).toBe('{"TOKEN":"[redacted]"}');
  });

  it('with nothing to hide returns the line as it is', () => {
    expect(secretRedactor([])('nothing to see')).toBe('nothing to see');
  });
});
