import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalDigest, canonicalText, isCanonical } from '../../src/audit/canonical-value.ts';
import { canonicalHash, canonicalJson } from '../../src/jsonrpc/canonical-json.ts';

describe('canonical text without a sorted copy', () => {
  it('is exactly canonicalJson for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        expect(canonicalText(value)).toBe(canonicalJson(value));
        expect(canonicalDigest(value)).toBe(canonicalHash(value));
      }),
      { numRuns: 500 },
    );
  });

  it('is exactly canonicalJson for values JSON.stringify alone would get wrong', () => {
    const awkward: unknown[] = [
      { b: 1, a: 2 },
      { a: { d: 1, c: 2 } },
      { '10': 1, '9': 2 },
      { '1': 1, a: 2 },
      { a: undefined, b: 1 },
      [1, undefined, 2],
      // eslint-disable-next-line no-sparse-arrays
      [1, , 2],
      { a: new Date(0) },
      { toJSON: () => 'x' },
      { a: () => 1 },
      JSON.parse('{"__proto__":{"b":1},"a":0}'),
      JSON.parse('{"b":1,"__proto__":{"y":1,"x":2}}'),
      { z: { '2': 1, '10': 2, b: 3, a: 4 } },
      Object.assign(Object.create(null) as object, { b: 1, a: 2 }),
      Object.assign(Object.create({ inherited: 1 }) as object, { a: 1 }),
      { a: Number.NaN, b: -0, c: Number.POSITIVE_INFINITY },
      'text',
      null,
      [],
      {},
    ];
    for (const value of awkward) expect(canonicalText(value)).toBe(canonicalJson(value));
  });

  it('takes the value as it is only when its keys are sorted all the way down', () => {
    expect(isCanonical({ a: 1, b: [{ c: 'x', d: null }] })).toBe(true);
    expect(isCanonical({ a: 1, b: [{ d: 'x', c: null }] })).toBe(false);
    expect(isCanonical({ a: 1, b: undefined })).toBe(false);
    expect(isCanonical({ a: 1n })).toBe(false);
  });

  it('fails as canonicalJson fails on a value that will not serialize', () => {
    expect(() => canonicalText({ a: 1n })).toThrow(TypeError);
  });
});
