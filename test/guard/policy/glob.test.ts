import { describe, expect, it } from 'vitest';
import { compileGlob, compileGlobs } from '../../../src/guard/policy/glob.ts';

const matches = (glob: string, value: string): boolean => compileGlob(glob)(value);

describe('policy globs', () => {
  it('a glob without wildcards matches only that exact value', () => {
    expect(matches('read_file', 'read_file')).toBe(true);
    expect(matches('read_file', 'read_files')).toBe(false);
    expect(matches('read_file', 'Read_file')).toBe(false);
  });

  it('a star matches any run of characters, slashes and colons included', () => {
    expect(matches('*', '')).toBe(true);
    expect(matches('read_*', 'read_file')).toBe(true);
    expect(matches('read_*', 'read_')).toBe(true);
    expect(matches('read_*', 'write_file')).toBe(false);
    expect(matches('*_file', 'write_file')).toBe(true);
    expect(matches('*_file', 'write_files')).toBe(false);
    expect(matches('file:///data/*', 'file:///data/acme/deep/x.txt')).toBe(true);
    expect(matches('file:///data/*/x.txt', 'file:///data/acme/deep/x.txt')).toBe(true);
    expect(matches('file:///data/*/x.txt', 'file:///etc/x.txt')).toBe(false);
    expect(matches('a*b*c', 'a-b-b-c')).toBe(true);
    expect(matches('a**c', 'abc')).toBe(true);
  });

  it('a question mark matches exactly one character', () => {
    expect(matches('tool-?', 'tool-1')).toBe(true);
    expect(matches('tool-?', 'tool-')).toBe(false);
    expect(matches('tool-?', 'tool-12')).toBe(false);
    expect(matches('?', 'é')).toBe(true);
    expect(matches('?', '😀')).toBe(true);
  });

  it('regular-expression characters in a glob are literal', () => {
    expect(matches('a.b', 'a.b')).toBe(true);
    expect(matches('a.b*', 'axb')).toBe(false);
    expect(matches('(x)+[y]{1}|$*', '(x)+[y]{1}|$ and more')).toBe(true);
    expect(matches('^a*', 'a')).toBe(false);
  });

  it('a backslash makes the next wildcard literal', () => {
    expect(matches('what\\?', 'what?')).toBe(true);
    expect(matches('what\\?', 'whats')).toBe(false);
    expect(matches('a\\*', 'a*')).toBe(true);
    expect(matches('a\\*', 'abc')).toBe(false);
  });

  it('a list matches a value that any of its globs matches', () => {
    const list = compileGlobs(['read_*', 'list_directory']);
    expect(list('read_file')).toBe(true);
    expect(list('list_directory')).toBe(true);
    expect(list('write_file')).toBe(false);
    expect(compileGlobs(['x', '*'])('anything')).toBe(true);
  });
});
