/**
 * The anomaly score of one call, from 0 (usual) to 1 (as unusual as it gets), and its four
 * components. docs/anomaly.md states the same formulas for operators; keep the two in step.
 *
 * Each component is in [0, 1]:
 * - `rate`: calls in the last 60 s (this one included) against the average calls per active
 *   minute: `log(recent / (2 × (average + 1))) / log(5)`, clamped: 0 up to twice the usual rate
 *   (+1), 1 from ten times it, logarithmic between. Once the baseline has at least {@link SCORE_CONSTANTS.rateMinutes} completed active
 *   minutes; the principal's and the tenant's are both computed, and the larger counts.
 * - `tool`: 0 for an item the baseline has seen; else `1 − p`, where p is the Good–Turing chance
 *   of a new item (items seen once, plus the evicted "other" bucket, over all calls), so a
 *   principal that keeps trying new tools is less surprising than one that always uses the same.
 * - `prefix`: the same for each path or URL prefix of the arguments that lies on no line of the
 *   usual ones; the largest counts. 0 when the call has no path-like or URL-like argument.
 * - `size`: `(z − 4) / 4`, clamped, where `z = (bytes − mean) / max(sd, mean / 4, 32)`: 0 up to
 *   four (floored) standard deviations above the mean, 1 from eight. Only larger is unusual.
 *
 * `tool`, `prefix` and `size` are judged against the principal's baseline once it has `warmup`
 * calls; before that, against the tenant's once that has; before that, not at all (0). Judged
 * against the principal, a tool or prefix it never used but its tenant has counts half.
 *
 * They combine as a noisy OR: `score = 1 − (1 − rate)(1 − tool)(1 − prefix)(1 − size)`. One
 * component at 1 makes the score 1; two at 0.5 make 0.75.
 */
import type { Baseline, CallFeatures } from './baseline.ts';

export type AnomalyComponent = 'rate' | 'tool' | 'prefix' | 'size';

export const COMPONENTS: readonly AnomalyComponent[] = ['rate', 'tool', 'prefix', 'size'];

export const SCORE_CONSTANTS = {
  /** Completed active minutes a rate baseline needs. */
  rateMinutes: 3,
  /** Rates up to this multiple of the usual are usual; `rate` reaches 1 at `rateTo` times. */
  rateFrom: 2,
  rateTo: 10,
  /** A tool or prefix new to the principal but known to its tenant counts this much. */
  tenantKnown: 0.5,
  /** z from which `size` rises, and z at which it reaches 1. */
  sizeFrom: 4,
  sizeTo: 8,
  /** Floors of the standard deviation: a share of the mean, and bytes. */
  sizeFloorShare: 0.25,
  sizeFloorBytes: 32,
} as const;

export type AnomalyScore = {
  readonly score: number;
  readonly components: Readonly<Record<AnomalyComponent, number>>;
  /** The baseline `tool`, `prefix` and `size` were judged against. */
  readonly against: 'principal' | 'tenant' | 'none';
  /** A short, non-secret account of each non-zero component, for the audit finding. */
  readonly reasons: Readonly<Partial<Record<AnomalyComponent, string>>>;
};

export const USUAL: AnomalyScore = {
  score: 0,
  components: { rate: 0, tool: 0, prefix: 0, size: 0 },
  against: 'none',
  reasons: {},
};

const clamp01 = (value: number): number => (value <= 0 || Number.isNaN(value) ? 0 : value >= 1 ? 1 : value);

export type ScoreInput = {
  readonly principal: Baseline | undefined;
  readonly tenant: Baseline | undefined;
  readonly features: CallFeatures;
  readonly now: number;
  readonly warmup: number;
};

export function scoreCall(input: ScoreInput): AnomalyScore {
  const { principal, tenant, features, now, warmup } = input;
  const warm = (baseline: Baseline | undefined): baseline is Baseline =>
    baseline !== undefined && baseline.calls >= warmup;
  const reasons: Partial<Record<AnomalyComponent, string>> = {};
  const rates = [
    warm(principal) ? rateOf(principal, now, 'principal') : undefined,
    warm(tenant) ? rateOf(tenant, now, 'tenant') : undefined,
  ];
  const fastest = rates.reduce((a, b) => ((b?.value ?? 0) > (a?.value ?? 0) ? b : a), undefined);
  const rate = fastest?.value ?? 0;
  if (fastest !== undefined && rate > 0) reasons.rate = fastest.reason;
  const against = warm(principal) ? 'principal' : warm(tenant) ? 'tenant' : 'none';
  const base = against === 'principal' ? principal : against === 'tenant' ? tenant : undefined;
  const other = against === 'principal' ? tenant : undefined;
  const tool = base ? toolOf(base, other, features.item, against, reasons) : 0;
  const prefix = base ? prefixOf(base, other, features.prefixes, against, reasons) : 0;
  const size = base ? sizeOf(base, features.bytes, reasons) : 0;
  const score = 1 - (1 - rate) * (1 - tool) * (1 - prefix) * (1 - size);
  if (score === 0) return USUAL;
  return { score: clamp01(score), components: { rate, tool, prefix, size }, against, reasons };
}

function rateOf(
  baseline: Baseline,
  now: number,
  whose: 'principal' | 'tenant',
): { value: number; reason: string } | undefined {
  const average = baseline.rate.average;
  if (average === null || baseline.rate.minutes < SCORE_CONSTANTS.rateMinutes) return undefined;
  const recent = baseline.rate.lastMinute(now) + 1;
  return {
    value: clamp01(
      Math.log(recent / (SCORE_CONSTANTS.rateFrom * (average + 1))) /
        Math.log(SCORE_CONSTANTS.rateTo / SCORE_CONSTANTS.rateFrom),
    ),
    reason: `${Math.round(recent)} calls in the last minute; this ${whose} usually makes ${average.toFixed(1)} per active minute`,
  };
}

function toolOf(
  base: Baseline,
  tenant: Baseline | undefined,
  item: string,
  against: 'principal' | 'tenant' | 'none',
  reasons: Partial<Record<AnomalyComponent, string>>,
): number {
  if (base.tools.has(item)) return 0;
  const known = tenant?.tools.has(item) === true;
  const value = clamp01((1 - base.tools.newKeyChance()) * (known ? SCORE_CONSTANTS.tenantKnown : 1));
  if (value > 0) {
    reasons.tool = `a tool this ${against} has never used${known ? ' (its tenant has)' : ''}`;
  }
  return value;
}

function prefixOf(
  base: Baseline,
  tenant: Baseline | undefined,
  prefixes: readonly string[],
  against: 'principal' | 'tenant' | 'none',
  reasons: Partial<Record<AnomalyComponent, string>>,
): number {
  let value = 0;
  let fresh = 0;
  const novelty = 1 - base.prefixes.newKeyChance();
  for (const prefix of prefixes) {
    if (base.knowsPrefix(prefix)) continue;
    fresh += 1;
    const known = tenant?.knowsPrefix(prefix) === true;
    value = Math.max(value, clamp01(novelty * (known ? SCORE_CONSTANTS.tenantKnown : 1)));
  }
  if (value > 0) {
    const plural = fresh === 1 ? 'prefix' : 'prefixes';
    reasons.prefix = `${fresh} argument path or URL ${plural} outside this ${against}'s usual ones`;
  }
  return value;
}

function sizeOf(base: Baseline, bytes: number, reasons: Partial<Record<AnomalyComponent, string>>): number {
  const { sizes } = base;
  if (sizes.count < 2) return 0;
  const spread = Math.max(
    sizes.deviation,
    sizes.mean * SCORE_CONSTANTS.sizeFloorShare,
    SCORE_CONSTANTS.sizeFloorBytes,
  );
  const z = (bytes - sizes.mean) / spread;
  const value = clamp01((z - SCORE_CONSTANTS.sizeFrom) / (SCORE_CONSTANTS.sizeTo - SCORE_CONSTANTS.sizeFrom));
  if (value > 0) {
    reasons.size = `arguments of ${bytes} bytes, usually ${Math.round(sizes.mean)} ± ${Math.round(sizes.deviation)} (z ${z.toFixed(1)})`;
  }
  return value;
}
