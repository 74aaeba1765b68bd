/**
 * What the HTTP benchmark prints and writes: machine facts, one table per measurement and the
 * issue's targets with PASS/MISS, as plain text for the terminal and as Markdown for
 * docs/benchmarks.md. Numbers only; nothing here decides the exit code.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { format, resolveConfig } from 'prettier';
import { megabytes, table } from '../lib/stats.ts';
import type { LoopResult, OpenResult } from './load-worker.ts';
import type { TreeUsage } from './process-tree.ts';

export type LoopRow = {
  readonly subject: string;
  readonly concurrency: number;
  readonly result?: LoopResult;
  /** Why there is no number, when there is none. */
  readonly note?: string;
};

export type OpenRow = { readonly subject: string; readonly result?: OpenResult; readonly note?: string };

export type UsageRow = {
  readonly subject: string;
  readonly peakRss: number;
  readonly peakChildren: number;
  readonly note: string;
};

export type IdleMemory = {
  readonly sessions: number;
  readonly failures: number;
  /** Just after start, before any session. */
  readonly cold: TreeUsage;
  /** After the same number of sessions were opened and closed: the warm baseline. */
  readonly before: TreeUsage;
  readonly after: TreeUsage;
};

export type Report = {
  readonly facts: readonly string[];
  readonly warmupMs: number;
  readonly measureMs: number;
  readonly loops: readonly LoopRow[];
  readonly opens: readonly OpenRow[];
  readonly modeOpens: readonly OpenRow[];
  readonly usage: readonly UsageRow[];
  readonly idle: IdleMemory | undefined;
  readonly names: {
    readonly mcplane: string;
    readonly peers: readonly string[];
    readonly bare: string;
    /** Another checkout's mcplane (BENCH_BASELINE), when the run has one. */
    readonly baseline?: string;
    /** The issue's lean multiplexer: one child, no checks. */
    readonly lean: string;
    /** mcplane with the pipeline's default stages plus policy rules and the audit log, and with none. */
    readonly pipelineOn: string;
    readonly pipelineOff: string;
  };
};

export type Section = {
  readonly title: string;
  readonly rows: readonly (readonly string[])[];
  readonly note?: string;
};

const ms = (ns: number | undefined): string =>
  ns === undefined || Number.isNaN(ns) ? 'n/a' : (ns / 1e6).toFixed(2);
const us = (ns: number | undefined): string =>
  ns === undefined || Number.isNaN(ns) ? 'n/a' : (ns / 1e3).toFixed(0);
const rateOf = (result: LoopResult | undefined): number =>
  result && result.errors < result.calls ? (result.calls - result.errors) / result.seconds : Number.NaN;
/** The load generator's worker thread is one thread: near 1.0 it, not the subject, sets the pace. */
const loadBusy = (result: LoopResult): number => result.loadCpuMicros / 1e6 / result.seconds;
const perCall = (micros: number, result: LoopResult): string =>
  Number.isNaN(micros) ? 'n/a' : (micros / Math.max(result.calls, 1)).toFixed(0);

export function loadAverage(): string {
  return os
    .loadavg()
    .map((load) => load.toFixed(2))
    .join(' ');
}

export function machineFacts(extra: readonly string[]): string[] {
  const cpus = os.cpus();
  return [
    `node ${process.version}, ${os.platform()}/${os.arch()}, kernel ${os.release()}`,
    `${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), ${megabytes(os.totalmem())} MB memory`,
    ...extra,
    `load average at start: ${os
      .loadavg()
      .map((load) => load.toFixed(2))
      .join(' ')}`,
  ];
}

/** p50 of an open row's per-session times, in nanoseconds. */
export function openP50(row: OpenRow | undefined): number {
  return percentileOf(row?.result?.times ?? [], 50);
}

function percentileOf(values: readonly number[], rank: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  return sorted[
    Math.min(sorted.length - 1, Math.max(0, Math.ceil((rank / 100) * sorted.length) - 1))
  ] as number;
}

function throughputSection(report: Report): Section {
  const rows = report.loops.map(({ subject, concurrency, result, note }) => {
    if (!result) return [subject, String(concurrency), note ?? 'n/a', '', '', '', '', '', '', '', ''];
    return [
      subject,
      String(concurrency),
      Number.isNaN(rateOf(result)) ? 'n/a' : rateOf(result).toFixed(0),
      us(result.p50Ns),
      us(result.p99Ns),
      `${result.errors}/${result.calls}`,
      perCall(result.subjectCpuMicros, result),
      perCall(result.childrenCpuMicros, result),
      perCall(result.loadCpuMicros, result),
      loadBusy(result).toFixed(2),
      (result.otherCpuMicros / 1e6 / result.seconds).toFixed(2),
    ];
  });
  return {
    title: `Calls (closed loop, tools/call echo; ${report.warmupMs / 1000} s warm-up, ${report.measureMs / 1000} s measured)`,
    rows: [
      [
        'subject',
        'conns',
        'calls/s',
        'p50 µs',
        'p99 µs',
        'errors',
        'server CPU µs/call',
        'children CPU µs/call',
        'load gen CPU µs/call',
        'load gen busy (of 1 core)',
        'other CPU (cores)',
      ],
      ...rows,
    ],
    note:
      'conns: concurrent virtual clients, each with its own MCP session and keep-alive socket (the direct ' +
      'client multiplexes them by id over one pipe). server CPU: the subject process alone; children: its ' +
      'descendants (the fixture, and for supergateway its shell wrappers); load gen: the worker thread ' +
      'sending the load (busy: the share of its one core it used; it had idle CPU when well under 1); other CPU: what the rest of the machine kept busy during the window ' +
      `(of ${os.cpus().length} cores), i.e. noise. calls/s counts successful calls only.`,
  };
}

function openRows(rows: readonly OpenRow[], bareP50: number): string[][] {
  return rows.map((row) => {
    const { subject, result, note } = row;
    if (!result) return [subject, note ?? 'n/a', '', '', '', '', ''];
    const p50 = openP50(row);
    return [
      subject,
      String(result.times.length),
      ms(result.totalNs),
      ms(p50),
      ms(percentileOf(result.times, 99)),
      Number.isNaN(bareP50) ? 'n/a' : `${(p50 / bareP50).toFixed(2)} x`,
      String(result.failures),
    ];
  });
}

const OPEN_HEADER = ['subject', 'sessions', 'total ms', 'p50 ms', 'p99 ms', 'p50 vs bare', 'failures'];

function bareOpenP50(report: Report): number {
  return openP50(report.opens.find((row) => row.subject === report.names.bare));
}

function opensSection(report: Report): Section {
  return {
    title: 'Opening sessions (initialize + notifications/initialized + tools/list, one after another)',
    rows: [OPEN_HEADER, ...openRows(report.opens, bareOpenP50(report))],
    note: 'Each subject first opens and closes one untimed session (JIT warm-up, a cold tenant pool).',
  };
}

function modesSection(report: Report): Section {
  return {
    title: "mcplane's session open by pool mode",
    rows: [OPEN_HEADER, ...openRows(report.modeOpens, bareOpenP50(report))],
    note:
      'session mode runs with pool.min 10 warm spares: sessions open in rounds of 10, and between rounds ' +
      'the benchmark closes them and waits (untimed) until /ready reports 10 spares again.',
  };
}

function usageSection(report: Report): Section {
  return {
    title: 'Memory and processes (summed VmRSS of the subject and its descendants, sampled every 100 ms)',
    rows: [
      ['subject', 'peak RSS MB', 'peak child processes', 'note'],
      ...report.usage.map((row) => [row.subject, megabytes(row.peakRss), String(row.peakChildren), row.note]),
    ],
    note:
      'Peaks cover the whole life of each subject in this run, including the 100-connection run. Summed RSS ' +
      'counts memory the processes share (the node binary) once per process.',
  };
}

function idleSection(idle: IdleMemory | undefined): Section {
  const row = (label: string, usage: TreeUsage): string[] => [
    label,
    megabytes(usage.rss),
    megabytes(usage.rootRss),
    megabytes(usage.rss - usage.rootRss),
    String(usage.children),
  ];
  const perSession = (from: TreeUsage | undefined, to: TreeUsage | undefined): number =>
    idle && from && to ? (to.rootRss - from.rootRss) / 1024 / Math.max(idle.sessions, 1) : NaN;
  const growth = perSession(idle?.before, idle?.after);
  const cold = perSession(idle?.cold, idle?.after);
  return {
    title: 'mcplane (shared pool) holding idle sessions',
    rows: [
      ['', 'RSS MB gateway + children', 'gateway MB', 'children MB', 'child processes'],
      ...(idle
        ? [
            row('cold start, no session', idle.cold),
            row(`no session, after ${idle.sessions} opened and closed`, idle.before),
            row(`${idle.sessions} sessions open`, idle.after),
          ]
        : [['n/a', '', '', '', '']]),
    ],
    note: idle
      ? `${idle.sessions} sessions opened (initialize + initialized + tools/list, 10 at a time; ${idle.failures} failed), ` +
        `then 1 s to settle: the gateway grew ${growth.toFixed(1)} KB per session over the warm baseline ` +
        `(the same number opened and closed first, so the heap had grown to its working size), ` +
        `${cold.toFixed(1)} KB per session over the cold start.`
      : 'not measured',
  };
}

function targetsSection(report: Report): Section {
  const { names } = report;
  const loop = (subject: string, concurrency: number): LoopResult | undefined =>
    report.loops.find((row) => row.subject === subject && row.concurrency === concurrency)?.result;
  const verdict = (value: number, pass: boolean): string =>
    Number.isNaN(value) ? 'n/a' : pass ? 'PASS' : 'MISS';
  const cpuPerCall = (result: LoopResult | undefined): number =>
    result ? result.subjectCpuMicros / Math.max(result.calls, 1) : Number.NaN;
  const rows: string[][] = [['target', 'goal', 'measured', 'verdict']];
  for (const [concurrency, goal] of [
    [10, 0.5],
    [100, 0.6],
  ] as const) {
    const ours = rateOf(loop(names.mcplane, concurrency));
    const versusBare = ours / rateOf(loop(names.bare, concurrency));
    rows.push([
      `calls/s @${concurrency} conns vs bare server`,
      `>= ${goal} x`,
      `${versusBare.toFixed(2)} x`,
      verdict(versusBare, versusBare >= goal),
    ]);
    const peerRates = names.peers
      .map((peer) => rateOf(loop(peer, concurrency)))
      .filter((rate) => !Number.isNaN(rate));
    const versusPeer = ours / (peerRates.length > 0 ? Math.max(...peerRates) : Number.NaN);
    rows.push([
      `calls/s @${concurrency} conns vs better peer`,
      '>= 4 x',
      `${versusPeer.toFixed(2)} x`,
      verdict(versusPeer, versusPeer >= 4),
    ]);
  }
  for (const concurrency of [10, 100]) {
    const versusLean = rateOf(loop(names.mcplane, concurrency)) / rateOf(loop(names.lean, concurrency));
    rows.push([
      `calls/s @${concurrency} conns vs the lean multiplexer`,
      '>= 0.8 x',
      `${versusLean.toFixed(2)} x`,
      verdict(versusLean, versusLean >= 0.8),
    ]);
  }
  const cpu = cpuPerCall(loop(names.mcplane, 100));
  rows.push(['mcplane CPU per call @100 conns', '<= 60 µs', `${cpu.toFixed(0)} µs`, verdict(cpu, cpu <= 60)]);
  const bare = bareOpenP50(report);
  for (const row of report.modeOpens) {
    const ratio = openP50(row) / bare;
    rows.push([
      `session open p50, ${row.subject}, vs bare`,
      '<= 1.2 x',
      `${ratio.toFixed(2)} x`,
      verdict(ratio, ratio <= 1.2),
    ]);
  }
  const addedMb = report.idle
    ? (report.idle.after.rootRss - report.idle.before.rootRss) / (1024 * 1024)
    : Number.NaN;
  const coldMb = report.idle
    ? (report.idle.after.rootRss - report.idle.cold.rootRss) / (1024 * 1024)
    : Number.NaN;
  rows.push([
    `gateway RSS added by ${report.idle?.sessions ?? 1000} open sessions (over the warm baseline)`,
    '<= 30 MB',
    `${addedMb.toFixed(1)} MB (over the cold start: ${coldMb.toFixed(1)} MB)`,
    verdict(addedMb, addedMb <= 30),
  ]);
  for (const concurrency of [10, 100]) {
    const on = loop(names.pipelineOn, concurrency);
    const off = loop(names.pipelineOff, concurrency);
    const ratio = rateOf(on) / rateOf(off);
    rows.push([
      `pipeline on vs off @${concurrency} conns: calls/s; CPU per call`,
      'report',
      `${ratio.toFixed(2)} x; ${cpuPerCall(on).toFixed(0)} vs ${cpuPerCall(off).toFixed(0)} µs`,
      Number.isNaN(ratio) ? 'n/a' : '-',
    ]);
  }
  const baseline = names.baseline;
  for (const concurrency of baseline === undefined ? [] : [1, 10, 100]) {
    const now = loop(names.mcplane, concurrency);
    const before = loop(baseline as string, concurrency);
    rows.push([
      `this checkout vs the baseline @${concurrency} conns: calls/s; CPU per call`,
      'report',
      `${(rateOf(now) / rateOf(before)).toFixed(2)} x; ${cpuPerCall(now).toFixed(0)} vs ${cpuPerCall(before).toFixed(0)} µs`,
      before ? '-' : 'n/a',
    ]);
  }
  const busiest = Math.max(...report.loops.flatMap((row) => (row.result ? [loadBusy(row.result)] : [0])));
  rows.push([
    'load generator had idle CPU in every run (busiest run)',
    '< 0.9 of its core',
    busiest.toFixed(2),
    verdict(busiest, busiest < 0.9),
  ]);
  return {
    title: 'Targets (issue 12)',
    rows,
    note:
      'The better peer is whichever of supergateway and mcp-proxy made more calls/s at that concurrency. ' +
      'CPU per call counts the mcplane process only (not the fixture it forwards to). Pipeline on: the ' +
      'default stages (guards, tool pinning, anomaly detection, metrics, the call log) plus five policy ' +
      'rules and the audit log to a file; off: no policies, guards, anomaly detection, metrics, call log ' +
      'or audit. The core targets (vs a direct stdio client, in-process) are `npm run bench`.',
  };
}

export function sections(report: Report): Section[] {
  return [
    throughputSection(report),
    opensSection(report),
    modesSection(report),
    usageSection(report),
    idleSection(report.idle),
    targetsSection(report),
  ];
}

export function printReport(report: Report): void {
  console.log(`\n${report.facts.join('\n')}`);
  for (const section of sections(report)) {
    console.log(`\n${section.title}\n${table(section.rows)}`);
    if (section.note) console.log(`(${section.note})`);
  }
}

function markdownTable(rows: readonly (readonly string[])[]): string {
  const escape = (cell: string): string => cell.replaceAll('|', '\\|');
  const [header = [], ...body] = rows;
  // Right-align the columns that hold only numbers (or n/a), as the terminal table does.
  const numeric = (index: number): boolean =>
    body.every((row) => /^(n\/a|[-+]?[\d.,/]+( ?(x|ms|MB))?)?$/.test(row[index] ?? ''));
  return [
    `| ${header.map(escape).join(' | ')} |`,
    `| ${header.map((_, index) => (numeric(index) ? '--:' : '---')).join(' | ')} |`,
    ...body.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

const SECTION_TITLE = '## HTTP front door';

function markdownSection(report: Report): string {
  const parts = [
    SECTION_TITLE,
    '',
    'mcplane over Streamable HTTP against a direct stdio client, two open-source stdio-to-HTTP peers ' +
      '(supergateway, mcp-proxy), the lean multiplexer the issue describes (bench/http/lean-multiplexer.ts: ' +
      'one child, ids rewritten through a Map, one `res.end()` per answer, no checks) and a bare `node:http` ' +
      'server with canned answers (the ceiling), all in front of the same echo fixture ' +
      '(`test/fixtures/fixture-server.ts`). Every HTTP subject runs as its own process; the load comes from ' +
      'raw keep-alive `http.request` POSTs on a worker thread of the benchmark process, not from the SDK ' +
      'client, and the table says how busy that thread was (it had idle CPU when well under 1).',
    '',
    'Reproduce with `npm run bench:http` (about four minutes; it prints these tables and rewrites this ' +
      'section). `BENCH_QUICK=1` shortens every window (about two minutes); `BENCH_BASELINE=<checkout>` adds ' +
      "that checkout's mcplane under the same config, for a before/after in one run. " +
      '`npm run bench:http -- --profile [--pipeline on|off]` instead profiles mcplane under the ' +
      '100-connection load with `node --cpu-prof` and prints where its CPU goes.',
    '',
    '```text',
    ...report.facts,
    '```',
  ];
  for (const section of sections(report)) {
    parts.push('', `### ${section.title}`, '', markdownTable(section.rows));
    if (section.note) parts.push('', section.note);
  }
  return `${parts.join('\n')}\n`;
}

/**
 * Creates docs/benchmarks.md or replaces its HTTP section, keeping every other section, and
 * formats the file with the repository's Prettier settings (`npm test` checks them).
 */
export async function writeMarkdown(file: string, report: Report): Promise<void> {
  const section = markdownSection(report);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n';
  const start = text.indexOf(`${SECTION_TITLE}\n`);
  let merged: string;
  if (start === -1) {
    merged = `${text.trimEnd()}\n\n${section}`;
  } else {
    const next = text.indexOf('\n## ', start + SECTION_TITLE.length);
    merged = `${text.slice(0, start)}${section}${next === -1 ? '' : `\n${text.slice(next + 1)}`}`;
  }
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(file, await format(merged, { ...options, filepath: file }));
}
