/**
 * Running a profile's detectors over one text: each hit becomes a finding, and the detector's
 * action decides what happens to the text. Detectors run in DETECTOR_ORDER; one that redacts
 * hands the rewritten text to the next, one that blocks ends the scan.
 *
 * What a list of detectors makes of a text depends on nothing else, so the outcome for short
 * texts is kept per list (a profile's input or output detectors, one tenant and server) and a
 * text seen again is not scanned again: tool results and arguments repeat (the same file read,
 * the same status call). Kept per list, so one tenant's texts never answer another's scan.
 */
import { applyRedactions, MAX_SCAN_CHARS, type DetectorHit } from './detectors/detector.ts';
import type { ActiveDetector } from './guard-profiles.ts';
import type { Finding } from './pipeline.ts';

export type TextScan = { readonly text: string; readonly blocked?: Finding };

/** Kinds listed in one finding's detail; more are counted, not named. */
const MAX_KINDS_IN_DETAIL = 4;

/** Texts up to this many characters are kept, and at most this many texts per list. */
const CACHE_MAX_CHARS = 2_048;
const CACHE_MAX_TEXTS = 1_024;

/** A scan's outcome without its `where`: the text after it, and each finding, in order. */
type Outcome = {
  readonly text: string;
  readonly findings: readonly Omit<Finding, 'where'>[];
  readonly blocked: boolean;
};

const outcomes = new WeakMap<readonly ActiveDetector[], Map<string, Outcome>>();

export function scanText(
  text: string,
  detectors: readonly ActiveDetector[],
  where: string,
  findings: Finding[],
): TextScan {
  if (text.length > CACHE_MAX_CHARS) return scanUncached(text, detectors, where, findings);
  let cache = outcomes.get(detectors);
  if (cache === undefined) {
    cache = new Map();
    outcomes.set(detectors, cache);
  }
  let outcome = cache.get(text);
  if (outcome === undefined) {
    const found: Finding[] = [];
    const scan = scanUncached(text, detectors, where, found);
    outcome = {
      text: scan.text,
      findings: found.map(({ where: _where, ...finding }) => finding),
      blocked: scan.blocked !== undefined,
    };
    if (cache.size >= CACHE_MAX_TEXTS) cache.delete(cache.keys().next().value as string);
    cache.set(text, outcome);
  }
  let last: Finding | undefined;
  for (const finding of outcome.findings) {
    last = { ...finding, where };
    findings.push(last);
  }
  return outcome.blocked && last !== undefined
    ? { text: outcome.text, blocked: last }
    : { text: outcome.text };
}

function scanUncached(
  text: string,
  detectors: readonly ActiveDetector[],
  where: string,
  findings: Finding[],
): TextScan {
  let current = text;
  let boundNoted = false;
  for (const { detector, action } of detectors) {
    if (!boundNoted && detector.name !== 'oversized-output' && current.length > MAX_SCAN_CHARS) {
      boundNoted = true;
      findings.push({
        detector: 'guard',
        action: 'flag',
        where,
        detail: `text of ${current.length} characters; only the first ${MAX_SCAN_CHARS} were scanned`,
      });
    }
    const hits = detector.scan(current);
    if (hits.length === 0) continue;
    const finding: Finding = { detector: detector.name, action, where, detail: describe(hits) };
    findings.push(finding);
    if (action === 'block') return { text: current, blocked: finding };
    if (action === 'redact') current = applyRedactions(current, hits);
  }
  return { text: current };
}

/** "2 × a GitHub token; 1 × a JSON Web Token": what was found, never the text itself. */
function describe(hits: readonly DetectorHit[]): string {
  const counts = new Map<string, number>();
  for (const hit of hits) counts.set(hit.detail, (counts.get(hit.detail) ?? 0) + 1);
  const parts = [...counts].slice(0, MAX_KINDS_IN_DETAIL).map(([detail, count]) => `${count} × ${detail}`);
  if (counts.size > MAX_KINDS_IN_DETAIL) parts.push(`${counts.size - MAX_KINDS_IN_DETAIL} more kinds`);
  return parts.join('; ');
}
