/**
 * What every guard detector is: a named, synchronous scan of one text that returns the spans it
 * objects to. A detector knows nothing of actions; the guard profile decides, per tenant and
 * server, whether a hit blocks the call, is redacted, or is only recorded.
 *
 * A detector never puts the matched text into a hit: `detail` is written for an audit log that
 * must not become a second copy of a leaked secret or of a smuggled instruction.
 */

/** The built-in detectors, in the order a text passes them (see {@link DETECTOR_ORDER}). */
export type DetectorName =
  | 'oversized-output'
  | 'terminal-escapes'
  | 'hidden-characters'
  | 'secrets'
  | 'exfiltration-links'
  | 'instruction-override';

export type DetectorHit = {
  /** The span in the scanned text, `[start, end)` in UTF-16 code units. */
  readonly start: number;
  readonly end: number;
  /** A short machine-friendly kind, e.g. `aws-access-key`, `osc-52-clipboard`. */
  readonly kind: string;
  /** A short, non-secret description for the audit log; never the matched text. */
  readonly detail: string;
  /** What a redaction puts in place of the span; empty means the span is removed. */
  readonly replacement: string;
};

export type Detector = {
  readonly name: DetectorName;
  /** Hits sorted by `start`, not overlapping. */
  scan(text: string): DetectorHit[];
};

/**
 * The order detectors see a text when several redact: size first (nothing scans what will be
 * cut), then the invisible and terminal characters (so a secret or a phrase split by zero-width
 * characters is seen whole once they are stripped), then secrets, links and phrases.
 */
export const DETECTOR_ORDER: readonly DetectorName[] = [
  'oversized-output',
  'terminal-escapes',
  'hidden-characters',
  'secrets',
  'exfiltration-links',
  'instruction-override',
];

/**
 * The most UTF-16 code units of one text a detector scans: 1 MiB. Regexes here are linear, but a
 * bound keeps a 4 MiB argument from costing tens of milliseconds per detector. The guard records
 * a finding when a text is longer, so an unscanned tail is never silent (see text-scan.ts).
 */
export const MAX_SCAN_CHARS = 1024 * 1024;

/** The part of a text detectors look at. */
export function scanWindow(text: string): string {
  return text.length > MAX_SCAN_CHARS ? text.slice(0, MAX_SCAN_CHARS) : text;
}

/** Drops hits that overlap an earlier one, given hits sorted by start (then longest first). */
export function withoutOverlaps(hits: DetectorHit[]): DetectorHit[] {
  hits.sort((a, b) => a.start - b.start || b.end - a.end);
  const kept: DetectorHit[] = [];
  let reached = -1;
  for (const hit of hits) {
    if (hit.start >= reached) {
      kept.push(hit);
      reached = hit.end;
    }
  }
  return kept;
}

/** The text with every hit's span replaced by its replacement. Hits must be sorted and disjoint. */
export function applyRedactions(text: string, hits: readonly DetectorHit[]): string {
  if (hits.length === 0) return text;
  let out = '';
  let at = 0;
  for (const hit of hits) {
    out += text.slice(at, hit.start) + hit.replacement;
    at = hit.end;
  }
  return out + text.slice(at);
}
