import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  API_KEY_SCAN_PATTERN,
  generateApiKey,
  parseApiKey,
} from '../../src/identity/api-key-format.ts';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function withCharAt(text: string, index: number, char: string): string {
  return text.slice(0, index) + char + text.slice(index + 1);
}

describe('API key format', () => {
  it('a generated key parses back to its id and the secret inside it', () => {
    const { key, id } = generateApiKey();
    const parsed = parseApiKey(key);
    expect(parsed?.id).toBe(id);
    expect(key).toBe(`mcpl_${id}_${parsed?.secret}_${key.slice(-6)}`);
    expect(key).toMatch(API_KEY_PATTERN);
    expect(key).toHaveLength(68);
  });

  it('two generated keys share neither id nor secret', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a.id).not.toBe(b.id);
    expect(parseApiKey(a.key)?.secret).not.toBe(parseApiKey(b.key)?.secret);
  });

  it('changing any one character of a key fails the checksum', () => {
    const { key } = generateApiKey();
    for (let index = 'mcpl_'.length; index < key.length; index += 1) {
      if (key[index] === '_') continue;
      for (const char of BASE62) {
        if (char !== key[index])
          expect(parseApiKey(withCharAt(key, index, char)), `${index}:${char}`).toBeUndefined();
      }
    }
  });

  it('a one-character change fails the checksum for any key', () => {
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom(...BASE62), (position, char) => {
        const { key } = generateApiKey();
        const slots = [...key].map((c, i) => (c === '_' || i < 5 ? -1 : i)).filter((i) => i >= 0);
        const index = slots[position % slots.length] as number;
        fc.pre(key[index] !== char);
        return parseApiKey(withCharAt(key, index, char)) === undefined;
      }),
      { numRuns: 300 },
    );
  });

  it('strings that are not mcplane keys are refused', () => {
    const { key } = generateApiKey();
    for (const raw of [
      '',
      'mcpl_',
      key.toUpperCase(),
      ` ${key}`,
      `${key}\n`,
      key.replace('mcpl_', 'mcpx_'),
      key + 'a',
    ]) {
      expect(parseApiKey(raw)).toBeUndefined();
    }
  });

  it('the scan pattern finds keys inside text and not inside longer tokens', () => {
    const { key } = generateApiKey();
    const text = `export MCPLANE_KEY="${key}"\nurl=https://x/?k=${key}&y=1\nnot_${key}`;
    const found = [...text.matchAll(API_KEY_SCAN_PATTERN)].map((match) => match[0]);
    expect(found).toEqual([key, key]);
  });
});
