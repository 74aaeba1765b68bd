/**
 * A closed-loop load generator: each virtual session sends its next call as soon as the previous
 * answer arrives. Only calls that finish inside the measurement window (after the warm-up) count,
 * both for throughput and for latency. CPU is sampled at the window's edges, for this process
 * and for the server children, so a result also says what a call cost on each side of the pipe.
 */
import { childrenCpuMicros, ownCpuMicros } from './processes.ts';
import { LatencySamples, since } from './stats.ts';

/** One call of one virtual session; resolves true when the answer was a success. */
export type Call = () => Promise<boolean>;

export type LoopOptions = {
  readonly warmupMs: number;
  readonly measureMs: number;
  /** The server processes whose CPU to sample. */
  readonly childPids: readonly number[];
  /** Most calls one virtual session makes, whatever the clock says. */
  readonly maxCallsPerSession?: number;
};

export type LoopResult = {
  readonly calls: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latencies: LatencySamples;
  /** CPU used per second of the window, in cores (1 = one core busy). */
  readonly ownCores: number;
  readonly childCores: number;
};

type CpuSnapshot = { at: bigint; own: number; children: number };

const DEFAULT_MAX_CALLS = 1_000_000;

/** Runs every session's loop until the window closes and returns what the window saw. */
export async function runClosedLoop(sessions: readonly Call[], options: LoopOptions): Promise<LoopResult> {
  const origin = process.hrtime.bigint();
  const windowStart = origin + BigInt(options.warmupMs) * 1_000_000n;
  const windowEnd = windowStart + BigInt(options.measureMs) * 1_000_000n;
  const maxCalls = options.maxCallsPerSession ?? DEFAULT_MAX_CALLS;
  const latencies = new LatencySamples();
  const snapshot = (): CpuSnapshot => ({
    at: process.hrtime.bigint(),
    own: ownCpuMicros(),
    children: childrenCpuMicros(options.childPids),
  });
  let first: CpuSnapshot | undefined;
  const startTimer = setTimeout(() => (first = snapshot()), options.warmupMs);
  let calls = 0;
  let errors = 0;

  const loop = async (call: Call): Promise<void> => {
    for (let made = 0; made < maxCalls; made++) {
      const start = process.hrtime.bigint();
      if (start >= windowEnd) return;
      const ok = await call().catch(() => false);
      const end = process.hrtime.bigint();
      if (end < windowStart || end > windowEnd) continue;
      calls++;
      if (!ok) errors++;
      latencies.add(Number(end - start));
    }
  };

  await Promise.all(sessions.map(loop));
  // Every loop stops within one call of the window's end, so the end snapshot is taken here.
  const last = snapshot();
  clearTimeout(startTimer);
  const measured = Math.min(since(windowStart), options.measureMs * 1_000_000);
  const span = first ? Number(last.at - first.at) : Number.NaN;
  return {
    calls,
    errors,
    seconds: Math.max(measured, 1) / 1e9,
    latencies,
    ownCores: first ? ((last.own - first.own) * 1_000) / span : Number.NaN,
    childCores: first ? ((last.children - first.children) * 1_000) / span : Number.NaN,
  };
}
