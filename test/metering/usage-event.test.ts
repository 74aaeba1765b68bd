import { describe, expect, it } from 'vitest';
import { isoNow } from '../../src/iso-time.ts';

describe('the time of a usage event', () => {
  it('is now, as toISOString writes it, whether or not another event ended in the same millisecond', async () => {
    for (let n = 0; n < 50; n++) {
      const before = Date.now();
      const first = isoNow();
      const second = isoNow();
      const after = Date.now();
      for (const text of [first, second]) {
        expect(text).toBe(new Date(Date.parse(text)).toISOString());
        expect(Date.parse(text)).toBeGreaterThanOrEqual(before);
        expect(Date.parse(text)).toBeLessThanOrEqual(after);
      }
      if (n % 10 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
    }
  });
});
