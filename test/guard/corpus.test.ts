/**
 * Detection and false-positive rates of the built-in detectors on the checked-in corpus
 * (corpus/README.md). A sample is detected when any detector reports a hit; a benign sample is a
 * false positive when any detector does. The rates are printed; the floors sit below them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Detector } from '../../src/guard/detectors/detector.ts';
import { createExfiltrationLinksDetector } from '../../src/guard/detectors/exfiltration-links.ts';
import { createHiddenCharactersDetector } from '../../src/guard/detectors/hidden-characters.ts';
import { createInstructionOverrideDetector } from '../../src/guard/detectors/instruction-override.ts';
import { createSecretsDetector } from '../../src/guard/detectors/secrets.ts';
import { createTerminalEscapesDetector } from '../../src/guard/detectors/terminal-escapes.ts';
import { DEFAULT_ENTROPY } from '../../src/guard/guard-profiles.ts';

type Sample = { id: string; category: string; text: string };

/** The hosts the benign markdown samples link to. */
const ALLOW_HOSTS = [
  'github.com',
  '*.github.com',
  '*.githubusercontent.com',
  'developer.mozilla.org',
  'docs.python.org',
  'modelcontextprotocol.io',
  'www.npmjs.com',
];

const detectors: Detector[] = [
  createInstructionOverrideDetector(),
  createHiddenCharactersDetector(),
  createTerminalEscapesDetector(),
  createExfiltrationLinksDetector({ allowHosts: ALLOW_HOSTS, links: 'with-query' }),
  createSecretsDetector({ entropy: DEFAULT_ENTROPY }),
];

function load(name: string): Sample[] {
  const text = readFileSync(new URL(`corpus/${name}`, import.meta.url), 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Sample);
}

const hit = (sample: Sample): boolean => detectors.some((detector) => detector.scan(sample.text).length > 0);

function rates(
  injection: Sample[],
  benign: Sample[],
): { detection: number; falsePositive: number; missed: Sample[]; flagged: Sample[] } {
  const missed = injection.filter((sample) => !hit(sample));
  const flagged = benign.filter(hit);
  return {
    detection: (injection.length - missed.length) / injection.length,
    falsePositive: flagged.length / benign.length,
    missed,
    flagged,
  };
}

function report(label: string, injection: Sample[], benign: Sample[]): ReturnType<typeof rates> {
  const result = rates(injection, benign);
  const percent = (value: number): string => `${(value * 100).toFixed(1)}%`;
  const byCategory = new Map<string, { total: number; found: number }>();
  for (const sample of injection) {
    const entry = byCategory.get(sample.category) ?? { total: 0, found: 0 };
    entry.total++;
    if (!result.missed.includes(sample)) entry.found++;
    byCategory.set(sample.category, entry);
  }
  console.log(
    [
      `${label}: detection ${percent(result.detection)} (${injection.length - result.missed.length}/${injection.length}), ` +
        `false positives ${percent(result.falsePositive)} (${result.flagged.length}/${benign.length})`,
      ...[...byCategory].map(([category, { total, found }]) => `  ${category}: ${found}/${total}`),
      ...result.missed.map((sample) => `  missed ${sample.id} (${sample.category})`),
      ...result.flagged.map((sample) => `  false positive ${sample.id} (${sample.category})`),
    ].join('\n'),
  );
  return result;
}

describe('guard corpus', () => {
  const injection = load('injection.jsonl');
  const benign = load('benign.jsonl');
  const holdoutInjection = load('holdout-injection.jsonl');
  const holdoutBenign = load('holdout-benign.jsonl');

  it('holds at least 150 injection and 150 benign samples, with unique ids', () => {
    expect(injection.length).toBeGreaterThanOrEqual(150);
    expect(benign.length).toBeGreaterThanOrEqual(150);
    const all = [...injection, ...benign, ...holdoutInjection, ...holdoutBenign];
    expect(new Set(all.map((sample) => sample.id)).size).toBe(all.length);
    for (const sample of all) expect(sample.text.length).toBeGreaterThan(0);
  });

  it('detects at least 95% of the development injections with at most 2% false positives', () => {
    const result = report('development set', injection, benign);
    expect(result.detection).toBeGreaterThanOrEqual(0.95);
    expect(result.falsePositive).toBeLessThanOrEqual(0.02);
  });

  it('detects at least 65% of the held-out injections with at most 10% false positives', () => {
    const result = report('held-out set', holdoutInjection, holdoutBenign);
    expect(result.detection).toBeGreaterThanOrEqual(0.65);
    expect(result.falsePositive).toBeLessThanOrEqual(0.1);
  });
});
