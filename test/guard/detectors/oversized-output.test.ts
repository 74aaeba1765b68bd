import { describe, expect, it } from 'vitest';
import { applyRedactions } from '../../../src/guard/detectors/detector.ts';
import { createOversizedOutputDetector } from '../../../src/guard/detectors/oversized-output.ts';

describe('oversized-output', () => {
  const detector = createOversizedOutputDetector({ maxBytes: 16 });

  it('leaves a text within the limit alone', () => {
    expect(detector.scan('0123456789abcdef')).toEqual([]);
  });

  it('truncates a longer text at the limit and says so', () => {
    const text = '0123456789abcdefTAIL';
    const hits = detector.scan(text);
    expect(hits[0]?.detail).toBe('20 bytes, over the 16-byte limit');
    expect(applyRedactions(text, hits)).toBe(
      '0123456789abcdef\n[truncated by mcplane: 20 bytes exceeded the 16-byte limit]',
    );
  });

  it('counts UTF-8 bytes and never cuts a character in half', () => {
    // 'é' is two bytes, '😀' four (a surrogate pair): 15 bytes of 'é…' leave no room for 😀.
    const text = `${'aé'.repeat(5)}😀tail`;
    const [hit] = detector.scan(text);
    expect(text.slice(0, hit?.start)).toBe('aéaéaéaéaé');
  });
});
