/**
 * Looking an item up in a server's catalog by name or URI: the first match wins, as a walk of the
 * list would find it, in short lists (walked) and long ones (indexed) alike.
 */
import { describe, expect, it } from 'vitest';
import { findByUri, findNamed } from '../../src/upstream/server-catalog.ts';

const tools = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ name: `tool-${i}`, description: `first ${i}` }));

describe('catalog lookups', () => {
  it.each([0, 1, 15, 16, 17, 1_000])('find the first item of that name in a list of %i, or none', (count) => {
    const list = [...tools(count), ...tools(count).map((tool) => ({ ...tool, description: 'second' }))];
    for (const i of [0, Math.floor(count / 2), count - 1].filter((n) => n >= 0)) {
      expect(findNamed(list, `tool-${i}`)).toBe(list[i]);
    }
    expect(findNamed(list, `tool-${count}`)).toBeUndefined();
    expect(findNamed(list, '')).toBeUndefined();
  });

  it('treat names that are Object.prototype keys as plain names', () => {
    const list = [...tools(20), { name: '__proto__', description: 'p' }];
    expect(findNamed(list, '__proto__')).toBe(list[20]);
    expect(findNamed(list, 'constructor')).toBeUndefined();
    expect(findNamed(tools(3), 'toString')).toBeUndefined();
  });

  it('find resources by URI, the first of duplicates', () => {
    const resources = Array.from({ length: 40 }, (_, i) => ({ uri: `file:///r/${i % 30}`, name: `r${i}` }));
    expect(findByUri(resources, 'file:///r/5')).toBe(resources[5]);
    expect(findByUri(resources, 'file:///r/29')).toBe(resources[29]);
    expect(findByUri(resources, 'file:///r/30')).toBeUndefined();
  });

  it('index each list by itself: a refreshed catalog (a new list) is looked up anew', () => {
    const before = tools(30);
    expect(findNamed(before, 'tool-3')).toBe(before[3]);
    const after = before.filter((tool) => tool.name !== 'tool-3');
    expect(findNamed(after, 'tool-3')).toBeUndefined();
    expect(findNamed(before, 'tool-3')).toBe(before[3]);
  });
});
