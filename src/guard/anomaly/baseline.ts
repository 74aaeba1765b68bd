/**
 * What is usual for one principal, or for one tenant as a whole: its call rate, its tool mix,
 * the sizes of its arguments and the prefixes its arguments reach. Learnt from calls, saved to
 * the store as one JSON document ({@link BaselineState}), and restored at start.
 */
import { BoundedCounts, type CountsState } from './bounded-counts.ts';
import { CallRate, type RateState } from './call-rate.ts';
import { RunningStats, type StatsState } from './running-stats.ts';
import { sameLine } from './argument-prefixes.ts';

/** What one call shows the detector. */
export type CallFeatures = {
  /** The item called: `tools/call fs read_file`, `prompts/get kb greet`, `resources/read fs`. */
  readonly item: string;
  /** UTF-8 bytes of the serialized arguments (for resources/read: 0). */
  readonly bytes: number;
  /** Path-like and URL-like prefixes of the arguments (argument-prefixes.ts). */
  readonly prefixes: readonly string[];
};

/** Bounds on one baseline, so memory per principal is fixed. */
export const BASELINE_LIMITS = { tools: 32, prefixes: 32 } as const;

export const BASELINE_FORMAT = 1;

export type BaselineState = {
  readonly v: typeof BASELINE_FORMAT;
  /** Calls learnt (the warm-up counts these). */
  readonly calls: number;
  readonly rate: RateState;
  readonly tools: CountsState;
  readonly sizes: StatsState;
  readonly prefixes: CountsState;
};

export class Baseline {
  calls = 0;
  readonly rate: CallRate;
  readonly tools: BoundedCounts;
  readonly sizes: RunningStats;
  readonly prefixes: BoundedCounts;

  constructor(
    parts: {
      calls?: number;
      rate?: CallRate;
      tools?: BoundedCounts;
      sizes?: RunningStats;
      prefixes?: BoundedCounts;
    } = {},
  ) {
    this.calls = parts.calls ?? 0;
    this.rate = parts.rate ?? new CallRate();
    this.tools = parts.tools ?? new BoundedCounts(BASELINE_LIMITS.tools);
    this.sizes = parts.sizes ?? new RunningStats();
    this.prefixes = parts.prefixes ?? new BoundedCounts(BASELINE_LIMITS.prefixes);
  }

  /** Whether a usual prefix lies on the same line as `prefix` (argument-prefixes.ts). */
  knowsPrefix(prefix: string): boolean {
    if (this.prefixes.has(prefix)) return true;
    for (const known of this.prefixes.keys()) if (sameLine(prefix, known)) return true;
    return false;
  }

  /** Folds one call into the mix, the sizes and the prefixes (the rate is counted apart). */
  learn(features: CallFeatures): void {
    this.calls += 1;
    this.tools.add(features.item);
    this.sizes.add(features.bytes);
    for (const prefix of features.prefixes) this.prefixes.add(prefix);
  }

  toJSON(): BaselineState {
    return {
      v: BASELINE_FORMAT,
      calls: this.calls,
      rate: this.rate.toJSON(),
      tools: this.tools.toJSON(),
      sizes: this.sizes.toJSON(),
      prefixes: this.prefixes.toJSON(),
    };
  }

  /** A baseline from its saved state; undefined when the state is not one this code wrote. */
  static from(state: unknown): Baseline | undefined {
    if (!isBaselineState(state)) return undefined;
    return new Baseline({
      calls: state.calls,
      rate: CallRate.from(state.rate),
      tools: BoundedCounts.from(state.tools, BASELINE_LIMITS.tools),
      sizes: RunningStats.from(state.sizes),
      prefixes: BoundedCounts.from(state.prefixes, BASELINE_LIMITS.prefixes),
    });
  }
}

const count = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

function isCounts(value: unknown): value is CountsState {
  if (typeof value !== 'object' || value === null) return false;
  const { counts, other } = value as Record<string, unknown>;
  return (
    count(other) &&
    typeof counts === 'object' &&
    counts !== null &&
    !Array.isArray(counts) &&
    Object.values(counts).every(count)
  );
}

function isBaselineState(value: unknown): value is BaselineState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  const rate = state.rate as Record<string, unknown> | null | undefined;
  const sizes = state.sizes as Record<string, unknown> | null | undefined;
  return (
    state.v === BASELINE_FORMAT &&
    count(state.calls) &&
    typeof rate === 'object' &&
    rate !== null &&
    [rate.minute, rate.current, rate.previous, rate.minutes].every(count) &&
    (rate.ewma === null || count(rate.ewma)) &&
    typeof sizes === 'object' &&
    sizes !== null &&
    count(sizes.n) &&
    typeof sizes.mean === 'number' &&
    count(sizes.m2) &&
    isCounts(state.tools) &&
    isCounts(state.prefixes)
  );
}
