/**
 * `oversized-output`: a text longer than the configured size, in UTF-8 bytes. Its redaction is
 * truncation: the text is cut at the last whole character that fits and a notice says so, so a
 * model knows it saw only part. Output only; a request's size is bounded by the ingress.
 */
import type { Detector, DetectorHit } from './detector.ts';

export function createOversizedOutputDetector(options: { maxBytes: number }): Detector {
  const { maxBytes } = options;
  const encoder = new TextEncoder();
  return {
    name: 'oversized-output',
    scan(text: string): DetectorHit[] {
      // A UTF-16 code unit is at most three UTF-8 bytes: most texts need no counting at all.
      if (text.length * 3 <= maxBytes) return [];
      const bytes = Buffer.byteLength(text, 'utf8');
      if (bytes <= maxBytes) return [];
      // encodeInto stops before a character that would not fit, surrogate pairs included.
      const { read } = encoder.encodeInto(text, new Uint8Array(maxBytes));
      return [
        {
          start: read,
          end: text.length,
          kind: 'oversized',
          detail: `${bytes} bytes, over the ${maxBytes}-byte limit`,
          replacement: `\n[truncated by mcplane: ${bytes} bytes exceeded the ${maxBytes}-byte limit]`,
        },
      ];
    },
  };
}
