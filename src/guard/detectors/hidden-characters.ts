/**
 * `hidden-characters`: code points a reader does not see but a model reads.
 *
 * - The Unicode tag block U+E0000–U+E007F mirrors ASCII invisibly ("ASCII smuggling"): a whole
 *   instruction can hide in a string that renders as nothing. The one legitimate use, the
 *   subdivision flags (🏴 U+1F3F4, a few tag letters, U+E007F CANCEL TAG), is let through.
 * - Bidi overrides and isolates U+202A–U+202E, U+2066–U+2069 reorder what is displayed against
 *   what is read (Trojan Source, CVE-2021-42574). The marks U+200E/U+200F and U+061C are left
 *   alone: right-to-left text needs them and they reorder nothing on their own.
 * - Runs of two or more zero-width characters (U+200B–U+200D, U+2060, U+FEFF) carry hidden bits
 *   or split words past filters. A single one is normal: U+200D joins emoji sequences and
 *   U+FEFF opens files.
 *
 * Redaction strips the span.
 */
import { scanWindow, type Detector, type DetectorHit } from './detector.ts';

// One alternation, one pass; every branch is a plain character class run, so no backtracking.
const HIDDEN =
  /(\u{1F3F4}?)([\u{E0000}-\u{E007F}]+)|([\u202A-\u202E\u2066-\u2069]+)|([\u200B-\u200D\u2060\uFEFF]{2,})/gu;

/**
 * Every branch above starts at U+200B or above (tags and the flag are astral: surrogates), so a
 * text without such a code unit, most text, is passed by one native scan.
 */
const MAYBE_HIDDEN = /[\u200B-\uFFFF]/;

/** Tag letters and digits, then CANCEL TAG: how 🏴 spells gbeng, gbsct, gbwls and the like. */
const SUBDIVISION_FLAG_TAGS = /^[\u{E0030}-\u{E0039}\u{E0061}-\u{E007A}]{1,6}\u{E007F}$/u;

export function createHiddenCharactersDetector(): Detector {
  return {
    name: 'hidden-characters',
    scan(text: string): DetectorHit[] {
      const window = scanWindow(text);
      const hits: DetectorHit[] = [];
      if (!MAYBE_HIDDEN.test(window)) return hits;
      for (const match of window.matchAll(HIDDEN)) {
        const [whole, flag, tags, bidi, zeroWidth] = match;
        const index = match.index;
        if (tags !== undefined) {
          if (flag && SUBDIVISION_FLAG_TAGS.test(tags)) continue;
          const start = index + (flag?.length ?? 0);
          // Tag characters are astral: two code units each.
          const count = tags.length / 2;
          hits.push(hit(start, index + whole.length, 'unicode-tags', `${count} Unicode tag characters`));
        } else if (bidi !== undefined) {
          hits.push(
            hit(
              index,
              index + whole.length,
              'bidi-control',
              `${bidi.length} bidi override/isolate characters`,
            ),
          );
        } else if (zeroWidth !== undefined) {
          hits.push(
            hit(
              index,
              index + whole.length,
              'zero-width-run',
              `a run of ${zeroWidth.length} zero-width characters`,
            ),
          );
        }
      }
      return hits;
    },
  };
}

function hit(start: number, end: number, kind: string, detail: string): DetectorHit {
  return { start, end, kind, detail, replacement: '' };
}
