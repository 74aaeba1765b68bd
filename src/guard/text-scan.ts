/**
 * Running a profile's detectors over one text: each hit becomes a finding, and the detector's
 * action decides what happens to the text. Detectors run in DETECTOR_ORDER; one that redacts
 * hands the rewritten text to the next, one that blocks ends the scan.
 */
import { applyRedactions, MAX_SCAN_CHARS, type DetectorHit } from './detectors/detector.ts';
import type { ActiveDetector } from './guard-profiles.ts';
import type { Finding } from './pipeline.ts';

export type TextScan = { readonly text: string; readonly blocked?: Finding };

/** Kinds listed in one finding's detail; more are counted, not named. */
const MAX_KINDS_IN_DETAIL = 4;

export function scanText(
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
