/**
 * What the core benchmark prints: machine facts, one table per measurement, and the issue's
 * targets with PASS/MISS. Numbers only; nothing here decides the exit code.
 */
import os from 'node:os';
import type { LoopResult } from './closed-loop.ts';
import { liveChildren } from './processes.ts';
import { fixed, megabytes, micros, millis, table, type LatencySamples } from './stats.ts';

export type Throughput = {
  readonly subject: 'direct' | 'core';
  readonly sessions: number;
  readonly result: LoopResult;
};
export type Memory = { readonly sessions: number; readonly rss: number; readonly heap: number };

export type Report = {
  readonly throughput: readonly Throughput[];
  readonly memory: Memory;
  readonly opens: LatencySamples;
  /** Session mode: initialize response to the first call's answer (the call claims a warm spare). */
  readonly firstCalls: LatencySamples;
  readonly measureMs: number;
  /** How many idle sessions the RSS target is stated for. */
  readonly idleTarget: number;
};

export function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

export function machineFacts(lines: readonly string[]): string {
  const cpus = os.cpus();
  return [
    `node ${process.version} (v8 ${process.versions.v8}), ${os.platform()}/${os.arch()}`,
    `cpus: ${cpus.length} x ${cpus[0]?.model ?? 'unknown'}; memory ${megabytes(os.totalmem())} MB`,
    ...lines,
    `load average at start: ${loadAverage()} (other work on the machine skews every number below)`,
  ].join('\n');
}

/** One line per finished measurement, so a long run shows progress. */
export function progressLine({ subject, sessions, result }: Throughput): string {
  const [p50 = NaN] = result.latencies.percentiles(50);
  return `  ${subject} x${sessions}: ${(result.calls / result.seconds).toFixed(0)} calls/s, p50 ${micros(p50)} µs`;
}

const rateOf = (result: LoopResult | undefined): number => (result ? result.calls / result.seconds : NaN);
const p50Of = (result: LoopResult | undefined): number => result?.latencies.percentiles(50)[0] ?? NaN;

function throughputTable(rows: readonly Throughput[]): string {
  const header = ['subject', 'sessions', 'calls', 'calls/s', 'mean µs', 'p50 µs', 'p99 µs', 'errors'];
  const cpuHeader = ['own cpu', 'own µs/call', 'child cpu', 'child µs/call'];
  const lines = rows.map(({ subject, sessions, result }) => {
    const [p50 = NaN, p99 = NaN] = result.latencies.percentiles(50, 99);
    const rate = rateOf(result);
    return [
      subject,
      String(sessions),
      String(result.calls),
      fixed(rate, 0),
      micros(result.latencies.mean),
      micros(p50),
      micros(p99),
      String(result.errors),
      fixed(result.ownCores, 2),
      fixed((result.ownCores * 1e6) / rate, 1),
      fixed(result.childCores, 2),
      fixed((result.childCores * 1e6) / rate, 1),
    ];
  });
  return table([[...header, ...cpuHeader], ...lines]);
}

function targetsTable(report: Report): string {
  const find = (subject: string, sessions: number): LoopResult | undefined =>
    report.throughput.find((row) => row.subject === subject && row.sessions === sessions)?.result;
  const ratio = rateOf(find('core', 100)) / rateOf(find('direct', 100));
  const overhead = p50Of(find('core', 1)) - p50Of(find('direct', 1));
  const { memory } = report;
  const rssMb = (memory.rss / (1024 * 1024)) * (report.idleTarget / Math.max(memory.sessions, 1));
  const [openP50 = NaN] = report.opens.percentiles(50);
  const verdict = (pass: boolean): string => (pass ? 'PASS' : 'MISS');
  return table([
    ['target', 'goal', 'measured', 'verdict'],
    ['throughput core/direct @100 sessions', '>= 0.70', `${fixed(ratio, 2)} x`, verdict(ratio >= 0.7)],
    [
      'p50 overhead core-direct @1 session',
      '<= 50 µs',
      `${micros(overhead)} µs`,
      verdict(overhead <= 50_000),
    ],
    ['RSS for 1,000 idle sessions', '<= 50 MB', `${fixed(rssMb, 1)} MB`, verdict(rssMb <= 50)],
    ['session-mode initialize p50', '< 5 ms', `${millis(openP50)} ms`, verdict(openP50 < 5e6)],
  ]);
}

export function printReport(report: Report): void {
  const { memory, opens } = report;
  const perSession = (bytes: number): string => (bytes / 1024 / Math.max(memory.sessions, 1)).toFixed(1);
  const [openP50 = NaN, openP99 = NaN] = opens.percentiles(50, 99);
  const [firstP50 = NaN, firstP99 = NaN] = report.firstCalls.percentiles(50, 99);
  console.log(`\nThroughput and latency (closed loop, ${report.measureMs} ms measured)`);
  console.log(throughputTable(report.throughput));
  console.log(
    '(own cpu: this process, i.e. the direct client or the in-process gateway, plus the load loop;\n' +
      ' child cpu: the fixture server. In cores; µs/call is CPU time per completed call.)',
  );
  console.log(
    `\nMemory: ${memory.sessions} idle initialized sessions: RSS +${megabytes(memory.rss)} MB ` +
      `(${perSession(memory.rss)} KB/session), heap +${megabytes(memory.heap)} MB (${perSession(memory.heap)} KB/session)`,
  );
  console.log(
    `\nSession mode: connect -> initialize response (claims nothing) over ${opens.count} opens: ` +
      `p50 ${millis(openP50)} ms, p99 ${millis(openP99)} ms;\n` +
      `  its first call, which claims a warm spare (and is the fresh child's first call): ` +
      `p50 ${millis(firstP50)} ms, p99 ${millis(firstP99)} ms`,
  );
  console.log(`\nTargets\n${targetsTable(report)}`);
  console.log(`\nload average at end: ${loadAverage()}`);
  const left = liveChildren();
  const which = left.length > 0 ? ` (${left.join(', ')})` : '';
  console.log(`child processes still running after close: ${left.length}${which}`);
}
