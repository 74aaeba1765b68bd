/**
 * The HTTP front door benchmark: mcplane over Streamable HTTP against a direct stdio client
 * (the baseline), supergateway and mcp-proxy (the peers) and a bare node:http server (the
 * ceiling), all on the same echo fixture. Prints tables and rewrites the "HTTP front door"
 * section of docs/benchmarks.md. Numbers only: it never fails on a missed target.
 *
 *   node bench/http.ts                           # the whole comparison (about four minutes)
 *   BENCH_QUICK=1 node bench/http.ts             # the same, shorter windows (about two minutes)
 *   BENCH_BASELINE=<checkout> node bench/http.ts # adds that checkout's mcplane, for before/after
 *   node bench/http.ts --profile [--conns 100] [--pipeline on|off]
 *                                                # mcplane alone under --cpu-prof, and where its CPU went
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { summarizeProfile } from './http/cpu-profile.ts';
import { LoadGenerator } from './http/load-generator.ts';
import {
  callRate,
  measureIdleSessions,
  measureLoop,
  measureOpens,
  measureSessionModeOpens,
  stopSubject,
  waitForQuiet,
  type Bench,
} from './http/measurements.ts';
import {
  loadAverage,
  machineFacts,
  printReport,
  writeMarkdown,
  type LoopRow,
  type OpenRow,
  type UsageRow,
} from './http/report.ts';
import {
  FIXTURE,
  scratch,
  startBare,
  startLean,
  startMcplane,
  startMcpProxy,
  startSupergateway,
  type Subject,
} from './http/subjects.ts';

// The one place the benchmark reads the environment: BENCH_QUICK shortens every window.
const QUICK = process.env.BENCH_QUICK === '1';
const BASELINE = process.env.BENCH_BASELINE;
const PLAN = {
  warmupMs: QUICK ? 500 : 1_000,
  measureMs: QUICK ? 1_500 : 3_000,
  maxCallsPerClient: 200_000,
  opens: QUICK ? 20 : 50,
  spares: 10,
  idleSessions: 1_000,
};
const CONCURRENCY = [1, 10, 100] as const;
/** The run first waits (at most a minute) until other work keeps fewer cores busy. */
const QUIET_CORES = 0.3;
const QUIET_WAIT_MS = 60_000;
const DOCS = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));

const NAMES = {
  direct: 'direct stdio (baseline)',
  mcplane: 'mcplane (shared)',
  baseline: 'mcplane baseline (BENCH_BASELINE)',
  supergateway: 'supergateway --stateful',
  mcpProxy: 'mcp-proxy',
  bare: 'bare node:http (ceiling)',
  lean: 'lean multiplexer (reference)',
  pipelineOn: 'mcplane pipeline on',
  pipelineOff: 'mcplane pipeline off',
} as const;

/** A few rules, the kind a tenant writes: the call meets every one, and the last allows it. */
const POLICY = `defaults:
  '*': deny
rules:
  - name: no-etc
    effect: deny
    tool: '*'
    when: "has(args.path) && args.path.startsWith('/etc')"
  - name: no-admin-tools
    effect: deny
    tool: 'admin_*'
  - name: no-deletes
    effect: deny
    tool: '*delete*'
  - name: short-texts
    effect: deny
    tool: echo
    when: "has(args.text) && size(args.text) > 100000"
  - name: tenant-echo
    effect: allow
    tenant: t
    tool: echo
`;

/** The pipeline comparison: calls only, at the concurrencies where CPU is the limit. */
const PIPELINE_CONCURRENCY = [10, 100] as const;
const PIPELINES: readonly Peer[] = [
  {
    name: NAMES.pipelineOn,
    start: (nodeArgs = []) =>
      startMcplane('shared', { min: 1, max: 1 }, nodeArgs, {
        name: NAMES.pipelineOn,
        policies: POLICY,
        gateway: { audit: { enabled: true, dir: path.join(scratch, 'audit') } },
      }),
    note: 'default stages + 5 policy rules + the audit log to a file (fdatasync per batch)',
  },
  {
    name: NAMES.pipelineOff,
    start: (nodeArgs = []) =>
      startMcplane('shared', { min: 1, max: 1 }, nodeArgs, {
        name: NAMES.pipelineOff,
        gateway: {
          guards: { enabled: false },
          anomaly: { enabled: false },
          metrics: { enabled: false },
          logs: { calls: 'off' },
        },
      }),
    note: 'no policies, guards, anomaly detection, metrics, call log or audit',
  },
];

type Peer = {
  readonly name: string;
  readonly start: (nodeArgs?: readonly string[]) => Promise<Subject>;
  /** What the usage table says about how the subject holds sessions. */
  readonly note: string;
};

const PEERS: readonly Peer[] = [
  {
    name: NAMES.mcplane,
    start: () => startMcplane('shared', { min: 1, max: 1 }),
    note: 'one fixture child shared by every session',
  },
  ...(BASELINE === undefined
    ? []
    : [
        {
          name: NAMES.baseline,
          start: () =>
            startMcplane('shared', { min: 1, max: 1 }, [], { name: NAMES.baseline, root: BASELINE }),
          note: `the same config, run from ${BASELINE}`,
        },
      ]),
  {
    name: NAMES.supergateway,
    start: startSupergateway,
    note: 'cannot share a child: one `sh -c` + fixture per session (stateless mode spawns one per request)',
  },
  { name: NAMES.mcpProxy, start: startMcpProxy, note: 'one fixture child shared by every session' },
  {
    name: NAMES.lean,
    start: startLean,
    note: 'one fixture child; ~60 lines of node:http, no checks (bench/http/lean-multiplexer.ts)',
  },
  { name: NAMES.bare, start: startBare, note: 'no upstream: canned answers' },
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'boolean', default: false },
      conns: { type: 'string', default: '100' },
      pipeline: { type: 'string' },
    },
  });
  const bench: Bench = { loadgen: new LoadGenerator(), plan: PLAN, log: (line) => console.log(line) };
  try {
    if (values.profile) await profile(bench, Number(values.conns), values.pipeline);
    else await compare(bench);
  } finally {
    await bench.loadgen.close();
  }
}

async function compare(bench: Bench): Promise<void> {
  const quiet = await waitForQuiet(bench, QUIET_CORES, QUIET_WAIT_MS);
  const facts = machineFacts([
    `other work on the machine before the run: ${quiet.cores.toFixed(2)} cores busy (waited ${quiet.waitedS} s for < ${QUIET_CORES})`,
    `subjects: mcplane 0.1.0 (this checkout), supergateway ${version('supergateway')}, mcp-proxy ${version('mcp-proxy')}`,
    `fixture: node ${path.relative(process.cwd(), FIXTURE)}; protocol 2025-11-25`,
    ...(quiet.cores < QUIET_CORES
      ? []
      : [
          'BUSY MACHINE: other work kept the cores busy through the run (see "other CPU" per row); calls/s ' +
            'and latencies are rough, CPU per call and ratios between rows of this run are the steadier figures',
        ]),
  ]);
  bench.log(facts.join('\n'));
  const loops = await measureDirect(bench);
  const peers = await measurePeers(bench);
  const pipelines = await measurePipelines(bench);
  const modes = await measurePoolModes(bench);
  bench.log(`\nmcplane (shared) with ${PLAN.idleSessions} open sessions`);
  const idle = await measureIdleSessions(bench);
  facts.push(`load average at end: ${loadAverage()}`);
  const shared = peers.opens.find((row) => row.subject === NAMES.mcplane);
  const report = {
    facts,
    warmupMs: PLAN.warmupMs,
    measureMs: PLAN.measureMs,
    loops: [...loops, ...peers.loops, ...pipelines.loops],
    opens: peers.opens,
    modeOpens: [{ ...shared, subject: 'mcplane shared' }, ...modes.opens],
    usage: [...peers.usage, ...pipelines.usage, ...modes.usage],
    idle,
    names: {
      mcplane: NAMES.mcplane,
      peers: [NAMES.supergateway, NAMES.mcpProxy],
      bare: NAMES.bare,
      lean: NAMES.lean,
      ...(BASELINE === undefined ? {} : { baseline: NAMES.baseline }),
      pipelineOn: NAMES.pipelineOn,
      pipelineOff: NAMES.pipelineOff,
    },
  };
  printReport(report);
  await writeMarkdown(DOCS, report);
  bench.log(`\nwrote the "HTTP front door" section of ${path.relative(process.cwd(), DOCS)}`);
}

/** The baseline: the benchmark itself talks to the fixture over stdio, requests multiplexed by id. */
async function measureDirect({ loadgen, plan, log }: Bench): Promise<LoopRow[]> {
  log(`\n${NAMES.direct}`);
  const rows: LoopRow[] = [];
  for (const concurrency of CONCURRENCY) {
    const result = await loadgen.loop({
      op: 'loop-stdio',
      command: process.execPath,
      args: [FIXTURE],
      concurrency,
      warmupMs: plan.warmupMs,
      measureMs: plan.measureMs,
      maxCallsPerClient: plan.maxCallsPerClient,
    });
    rows.push({ subject: NAMES.direct, concurrency, result });
    log(`  x${concurrency}: ${callRate(result)} calls/s`);
  }
  return rows;
}

type Measured = { loops: LoopRow[]; opens: OpenRow[]; usage: UsageRow[] };

/** Every HTTP subject in turn: session opens, then calls at each concurrency, then its peaks. */
async function measurePeers(bench: Bench): Promise<Measured> {
  const measured: Measured = { loops: [], opens: [], usage: [] };
  for (const peer of PEERS) {
    bench.log(`\n${peer.name}`);
    let subject: Subject;
    try {
      subject = await peer.start();
    } catch (error) {
      const note = `did not start: ${(error as Error).message.split('\n')[0]}`;
      for (const concurrency of CONCURRENCY) measured.loops.push({ subject: peer.name, concurrency, note });
      measured.opens.push({ subject: peer.name, note });
      continue;
    }
    try {
      measured.opens.push(await measureOpens(bench, subject, peer.name));
      for (const concurrency of CONCURRENCY)
        measured.loops.push(await measureLoop(bench, subject, peer.name, concurrency));
    } finally {
      measured.usage.push(await stopSubject(bench, subject, peer.name, peer.note));
    }
  }
  return measured;
}

/** mcplane with its pipeline on and off, calls only. */
async function measurePipelines(bench: Bench): Promise<Omit<Measured, 'opens'>> {
  const measured: Omit<Measured, 'opens'> = { loops: [], usage: [] };
  for (const variant of PIPELINES) {
    bench.log(`\n${variant.name}`);
    const subject = await variant.start();
    try {
      for (const concurrency of PIPELINE_CONCURRENCY)
        measured.loops.push(await measureLoop(bench, subject, variant.name, concurrency));
    } finally {
      measured.usage.push(await stopSubject(bench, subject, variant.name, variant.note));
    }
  }
  return measured;
}

/** mcplane's session opens in tenant and session mode (shared mode was measured with the peers). */
async function measurePoolModes(bench: Bench): Promise<Omit<Measured, 'loops'>> {
  const measured: Omit<Measured, 'loops'> = { opens: [], usage: [] };
  bench.log('\nmcplane (tenant)');
  const tenant = await startMcplane('tenant', { min: 1, max: 1 });
  try {
    measured.opens.push(await measureOpens(bench, tenant, 'mcplane tenant'));
  } finally {
    measured.usage.push(
      await stopSubject(bench, tenant, 'mcplane (tenant), opens only', 'one fixture child for the tenant'),
    );
  }
  bench.log(`\nmcplane (session, ${PLAN.spares} warm spares)`);
  const dedicated = await startMcplane('session', { min: PLAN.spares, max: 64 });
  try {
    measured.opens.push(
      await measureSessionModeOpens(bench, dedicated, `mcplane session (${PLAN.spares} spares)`),
    );
  } finally {
    const note = `one child per session, plus ${PLAN.spares} warm spares`;
    measured.usage.push(await stopSubject(bench, dedicated, 'mcplane (session), opens only', note));
  }
  return measured;
}

/** Runs mcplane under `--cpu-prof` through one load run, then summarizes the profile. */
async function profile(bench: Bench, concurrency: number, pipeline: string | undefined): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcplane-cpu-prof-'));
  const nodeArgs = ['--cpu-prof', '--cpu-prof-dir', dir];
  const variant = PIPELINES.find((peer) => peer.name === `mcplane pipeline ${pipeline}`);
  const subject = variant
    ? await variant.start(nodeArgs)
    : await startMcplane('shared', { min: 1, max: 1 }, nodeArgs);
  let row: LoopRow;
  try {
    row = await measureLoop(bench, subject, NAMES.mcplane, concurrency);
  } finally {
    await stopSubject(bench, subject, NAMES.mcplane, '');
  }
  const written = readdirSync(dir).filter((file) => file.endsWith('.cpuprofile'));
  bench.log(`\nprofiles in ${dir}: ${written.join(', ') || 'none (did mcplane exit cleanly?)'}`);
  for (const file of written) bench.log(`\n${file}\n${summarizeProfile(path.join(dir, file))}`);
  if (row.result) bench.log(`\n(calls/s under the profiler: ${callRate(row.result)})`);
}

function version(name: string): string {
  const file = fileURLToPath(new URL(`../node_modules/${name}/package.json`, import.meta.url));
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

await main();
