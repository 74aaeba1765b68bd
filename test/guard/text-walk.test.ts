import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, MAX_STRINGS, walkStrings } from '../../src/guard/text-walk.ts';

const upper = (text: string): string => text.toUpperCase();

describe('walking the strings of a value', () => {
  it('visits every string leaf with its path and rebuilds only what changed', () => {
    const value = { a: 'x', b: { c: ['y', 1, { 'odd key': 'z' }] }, d: 2 };
    const seen: string[] = [];
    const { value: out } = walkStrings(value, 'args', 'all-strings', (text, where) => {
      seen.push(where);
      return where === 'args.a' ? upper(text) : text;
    });
    expect(seen).toEqual(['args.a', 'args.b.c[0]', 'args.b.c[2]["odd key"]']);
    expect(out).toEqual({ a: 'X', b: { c: ['y', 1, { 'odd key': 'z' }] }, d: 2 });
    expect((out as typeof value).b).toBe(value.b);
  });

  it('returns the same value when nothing changed', () => {
    const value = { a: ['x'] };
    expect(walkStrings(value, 'args', 'all-strings', (text) => text).value).toBe(value);
  });

  it('visits only text members of content blocks and skips binary data', () => {
    const content = [
      { type: 'text', text: 'a' },
      { type: 'image', data: 'AAAA', mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'u', text: 'b', blob: 'Qk' } },
    ];
    const seen: string[] = [];
    walkStrings(content, 'result.content', 'content-text', (text, where) => {
      seen.push(`${where}=${text}`);
      return text;
    });
    expect(seen).toEqual(['result.content[0].text=a', 'result.content[2].resource.text=b']);
  });

  it('keeps a __proto__ key as data when rewriting', () => {
    const value = JSON.parse('{"__proto__": {"polluted": "x"}, "a": "y"}') as Record<string, unknown>;
    const { value: out } = walkStrings(value, 'args', 'all-strings', upper);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out as object)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('stops at the depth and string bounds and says so', () => {
    let deep: unknown = 'leaf';
    for (let level = 0; level < MAX_DEPTH + 5; level++) deep = { next: deep };
    expect(walkStrings(deep, 'args', 'all-strings', upper).complete).toBe(false);
    const many = Array.from({ length: MAX_STRINGS + 1 }, () => 's');
    let visited = 0;
    const walked = walkStrings(many, 'args', 'all-strings', (text) => {
      visited++;
      return text;
    });
    expect(walked.complete).toBe(false);
    expect(visited).toBe(MAX_STRINGS);
  });

  it('stops when the visitor blocks', () => {
    let visited = 0;
    const walked = walkStrings(['a', 'b', 'c'], 'args', 'all-strings', (text) =>
      ++visited === 2 ? undefined : text,
    );
    expect(walked.stopped).toBe(true);
    expect(visited).toBe(2);
  });
});
