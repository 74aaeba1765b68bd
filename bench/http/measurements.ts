/**
 * The measurements the HTTP benchmark makes of one subject: session opens, closed-loop calls,
 * session-mode opens from warm spares, idle-session memory; and the stop that reads the peaks.
 * Each returns a row for the report, with a note instead of numbers when it could not measure.
 */
import type { LoadGenerator } from './load-generator.ts';
import type { LoopResult } from './load-worker.ts';
import { machineBusyMicros } from './process-tree.ts';
import type { IdleMemory, LoopRow, OpenRow, UsageRow } from './report.ts';
import { startMcplane, type Subject } from './subjects.ts';

export type Plan = {
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly maxCallsPerClient: number;
  /** Sessions opened one after another for the open timing. */
  readonly opens: number;
  /** Warm spares of the session-mode pool. */
  readonly spares: number;
  /** Sessions held open for the memory measurement. */
  readonly idleSessions: number;
};

export type Bench = {
  readonly loadgen: LoadGenerator;
  readonly plan: Plan;
  readonly log: (line: string) => void;
};

export const callRate = (result: LoopResult): string =>
  ((result.calls - result.errors) / result.seconds).toFixed(0);

/** One untimed open (JIT warm-up, a tenant's first pool), then `plan.opens` timed, one at a time. */
export async function measureOpens(
  { loadgen, plan, log }: Bench,
  subject: Subject,
  name: string,
): Promise<OpenRow> {
  try {
    await loadgen.open(subject.url, 1, 1);
    await loadgen.release();
    const result = await loadgen.open(subject.url, plan.opens, 1);
    await loadgen.release();
    log(`  ${plan.opens} session opens: ${(result.totalNs / 1e6).toFixed(0)} ms, ${result.failures} failed`);
    return { subject: name, result };
  } catch (error) {
    return { subject: name, note: `failed: ${(error as Error).message}` };
  }
}

export async function measureLoop(
  { loadgen, plan, log }: Bench,
  subject: Subject,
  name: string,
  concurrency: number,
): Promise<LoopRow> {
  try {
    const result = await loadgen.loop({
      op: 'loop-http',
      url: subject.url,
      tool: subject.tool,
      root: subject.pid,
      concurrency,
      warmupMs: plan.warmupMs,
      measureMs: plan.measureMs,
      maxCallsPerClient: plan.maxCallsPerClient,
    });
    const failed = result.firstError ? ` (first error: ${result.firstError})` : '';
    log(`  x${concurrency}: ${callRate(result)} calls/s, ${result.errors} errors${failed}`);
    return { subject: name, concurrency, result };
  } catch (error) {
    log(`  x${concurrency}: failed: ${(error as Error).message}`);
    return { subject: name, concurrency, note: `failed: ${(error as Error).message}` };
  }
}

/**
 * Session mode hands each new session a warm spare, so opens are timed in rounds no larger than
 * the spares; between rounds the sessions are closed and the spares refilled, untimed.
 */
export async function measureSessionModeOpens(
  bench: Bench,
  subject: Subject,
  name: string,
): Promise<OpenRow> {
  const { loadgen, plan, log } = bench;
  const times: number[] = [];
  let totalNs = 0;
  let failures = 0;
  let firstError: string | undefined;
  await waitForSpares(bench, subject.url);
  await loadgen.open(subject.url, 1, 1);
  await loadgen.release();
  for (let opened = 0; opened < plan.opens; opened += plan.spares) {
    await waitForSpares(bench, subject.url);
    const round = await loadgen.open(subject.url, Math.min(plan.spares, plan.opens - opened), 1);
    await loadgen.release();
    times.push(...round.times);
    totalNs += round.totalNs;
    failures += round.failures;
    firstError ??= round.firstError;
  }
  log(`  ${plan.opens} session opens: ${(totalNs / 1e6).toFixed(0)} ms timed, ${failures} failed`);
  return { subject: name, result: { times, totalNs, failures, ...(firstError ? { firstError } : {}) } };
}

/** Polls mcplane's /ready until the fixture server has all its warm spares (at most 30 s). */
async function waitForSpares({ plan, log }: Bench, url: string): Promise<void> {
  const ready = new URL('/ready', url);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = (await fetch(ready)
      .then((response) => response.json())
      .catch(() => undefined)) as { servers?: { fx?: { spares?: number } } } | undefined;
    if ((status?.servers?.fx?.spares ?? 0) >= plan.spares) return;
    await sleep(100);
  }
  log(`  (gave up waiting for ${plan.spares} spares)`);
}

/** mcplane on a shared pool: RSS with no session, then with `plan.idleSessions` open. */
export async function measureIdleSessions(bench: Bench): Promise<IdleMemory | undefined> {
  const { loadgen, plan, log } = bench;
  const subject = await startMcplane('shared', { min: 1, max: 1 });
  try {
    // Lets the process finish what it started (lazy compilation, buffers) before reading RSS.
    await sleep(1_000);
    const cold = subject.sampler.sample(true);
    // The same sessions opened and closed first: the heap grows to its working size (V8's young
    // generation alone grows by tens of MB under any burst of requests, and keeps it), so what
    // the second opening adds is what open sessions hold.
    await loadgen.open(subject.url, plan.idleSessions, 10);
    await loadgen.release();
    await sleep(1_000);
    const before = subject.sampler.sample(true);
    const result = await loadgen.open(subject.url, plan.idleSessions, 10);
    await sleep(1_000);
    const after = subject.sampler.sample(true);
    await loadgen.release();
    const mb = (usage: { rootRss: number }) => `${(usage.rootRss / 2 ** 20).toFixed(1)} MB`;
    log(`  gateway RSS: cold ${mb(cold)}, after a warm-up ${mb(before)}, with the sessions ${mb(after)}`);
    return { sessions: result.times.length, failures: result.failures, cold, before, after };
  } catch (error) {
    log(`  failed: ${(error as Error).message}`);
    return undefined;
  } finally {
    await stopSubject(bench, subject, 'mcplane (shared), idle sessions', '');
  }
}

/** Stops the subject, then reads its peaks (stop takes a last sample before it signals). */
export async function stopSubject(
  { log }: Bench,
  subject: Subject,
  name: string,
  note: string,
): Promise<UsageRow> {
  const left = await subject.stop();
  const { peak } = subject.sampler;
  if (left.length > 0) log(`  still running after stop: ${left.join(', ')}`);
  return {
    subject: name,
    peakRss: peak.rss,
    peakChildren: peak.children,
    note: left.length > 0 ? `${note}; ${left.length} processes outlived the stop` : note,
  };
}

/** Waits (at most `maxMs`) until the rest of the machine keeps fewer than `cores` busy. */
export async function waitForQuiet(
  { log }: Bench,
  cores: number,
  maxMs: number,
): Promise<{ cores: number; waitedS: number }> {
  const started = Date.now();
  let busy: number;
  do {
    const before = machineBusyMicros();
    await sleep(1_000);
    busy = (machineBusyMicros() - before) / 1e6;
    if (busy < cores) break;
    if (Date.now() - started < 1_500) log(`waiting for a quieter machine (${busy.toFixed(2)} cores busy)...`);
  } while (Date.now() - started < maxMs);
  return { cores: busy, waitedS: Math.round((Date.now() - started) / 1000) };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
