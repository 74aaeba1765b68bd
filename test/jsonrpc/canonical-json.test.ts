import { describe, expect, it } from 'vitest';
import { canonicalHash, canonicalJson } from '../../src/jsonrpc/canonical-json.ts';

describe('canonical JSON', () => {
  it('sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[{"y":2,"z":1}]},"b":1}',
    );
  });

  it('keeps a member named __proto__, so values differing only in it hash differently', () => {
    const parsed = JSON.parse('{"x":1,"__proto__":{"injected":true}}') as unknown;
    expect(canonicalJson(parsed)).toBe('{"__proto__":{"injected":true},"x":1}');
    expect(canonicalHash(parsed)).not.toBe(canonicalHash({ x: 1 }));
    // Parsing the canonical text back gives the same text: hashes survive a round trip.
    expect(canonicalJson(JSON.parse(canonicalJson(parsed)))).toBe(canonicalJson(parsed));
  });
});
