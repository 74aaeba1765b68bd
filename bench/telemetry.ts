/**
 * The observability benchmark (`npm run bench:telemetry`): calls/s of `mcplane serve` with
 * metrics and tracing off against on (every span exported over OTLP/HTTP to a local receiver),
 * in one run, on the same echo fixture, with the load generator of the HTTP benchmark. The arms
 * take turns, round after round, so that a change in the machine's load hits them alike; the
 * median of the rounds is reported. Besides off and on (the target: on within 10% of off), it
 * measures metrics alone, tracing with 10% of traces sampled (OTEL_TRACES_SAMPLER), tracing
 * exported in OTLP's JSON encoding (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json), and the one
 * log line per call (at info, to a pipe) on top of everything. Numbers only: it never fails on a
 * missed target.
 *
 * `--core` measures instead the gateway core in-process (no HTTP, no load generator), each arm
 * in a process of its own, by the CPU it spends per call: the least disturbed by other work on a
 * shared machine, since CPU time is not the wall time others take.
 *
 * `--arguments` says what each call sends and what the echo fixture answers:
 * - `plain` (the default): a new text in each call, and the fixture told (`omitMeta: true`) to
 *   leave the request's `_meta` out of its result, so that the result depends on the arguments
 *   alone, as most tools' results do;
 * - `unique`: a new text in each call, and the fixture echoes the request's `_meta`. With tracing
 *   that holds a fresh `traceparent` per call, which the output guard then scans in every traced
 *   result (~10–20 µs a call, the secrets detector's entropy check on 55 hex characters): a cost
 *   of a fixture that reflects the gateway's metadata into its content, not of tracing;
 * - `fixed`: the same arguments every call, with `_meta` echoed. The off arm's results then repeat
 *   and are answered from the output guard's scan cache, while every traced one is new.
 *
 * `--core` also has an arm with the SDK started and every trace dropped (`always_off`), the
 * sampling-independent cost alone.
 *
 *   node bench/telemetry.ts [--rounds 5] [--measure-ms 3000] [--arguments plain|unique|fixed]
 *   node bench/telemetry.ts --core [--rounds 5] [--calls 20000] [--arguments plain|unique|fixed]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { LoadGenerator } from './http/load-generator.ts';
import type { LoopResult } from './http/load-worker.ts';
import { waitForQuiet } from './http/measurements.ts';
import { loadAverage, machineFacts } from './http/report.ts';
import { freePort, startMcplane, type Subject } from './http/subjects.ts';
import { BENCH_TRACING, startSpanSink, type SpanSink } from './telemetry/span-sink.ts';
import { median } from './lib/stats.ts';

const CONCURRENCY = [10, 100] as const;
const TARGET = 0.9;
const ON = 'metrics + tracing';

type Arm = {
  readonly name: string;
  /** The config's `gateway:` additions. */
  readonly gateway: Record<string, unknown>;
  /** OTEL_* variables beyond the endpoint; undefined: no tracing. */
  readonly tracing?: Record<string, string>;
};

const NO_CALL_LOG = { logs: { calls: 'off' } };

const ARMS: readonly Arm[] = [
  { name: 'off', gateway: { ...NO_CALL_LOG, metrics: { enabled: false } } },
  { name: 'metrics', gateway: NO_CALL_LOG },
  { name: ON, gateway: NO_CALL_LOG, tracing: {} },
  // The default spans a policy or guard stage only when it is notable; this arm spans every one.
  { name: '+ every stage span', gateway: { ...NO_CALL_LOG, tracing: { stageSpans: 'all' } }, tracing: {} },
  { name: 'metrics + tracing 10%', gateway: NO_CALL_LOG, tracing: BENCH_TRACING.sampled },
  // OTLP's JSON encoding instead of the default protobuf: the SDK serializes it with JSON.stringify.
  { name: 'tracing in http/json', gateway: NO_CALL_LOG, tracing: BENCH_TRACING.json },
  { name: '+ call log (info)', gateway: {}, tracing: {} },
];

type Running = {
  readonly arm: Arm;
  readonly subject: Subject;
  readonly metricsUrl?: string;
  readonly sink?: SpanSink;
  readonly rates: Map<number, number[]>;
  readonly cpu: Map<number, number[]>;
};

/**
 * The exporter's defaults (a 2,048-span queue flushed every 5 s) drop most spans at thousands of
 * calls a second; the queue is sized so that every span is exported, the costly case.
 */
function tracingEnv(sink: SpanSink, extra: Record<string, string>): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    OTEL_SERVICE_NAME: 'mcplane-bench',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_MAX_QUEUE_SIZE: '100000',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048',
    ...extra,
  };
}

async function start(arm: Arm): Promise<Running> {
  const metrics = (arm.gateway.metrics as { enabled?: boolean } | undefined)?.enabled !== false;
  const port = metrics ? await freePort() : undefined;
  const sink = arm.tracing === undefined ? undefined : await startSpanSink();
  const subject = await startMcplane('shared', { min: 1, max: 1 }, [], {
    name: `mcplane-bench-${arm.name}`,
    gateway: { ...arm.gateway, ...(port === undefined ? {} : { admin: { listen: `127.0.0.1:${port}` } }) },
    ...(sink && arm.tracing ? { env: tracingEnv(sink, arm.tracing) } : {}),
  });
  return {
    arm,
    subject,
    ...(port === undefined ? {} : { metricsUrl: `http://127.0.0.1:${port}/metrics` }),
    ...(sink ? { sink } : {}),
    rates: new Map(),
    cpu: new Map(),
  };
}

const rate = (result: LoopResult): number => (result.calls - result.errors) / result.seconds;

function push(map: Map<number, number[]>, key: number, value: number): void {
  map.set(key, [...(map.get(key) ?? []), value]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string', default: '5' },
      'measure-ms': { type: 'string', default: '3000' },
      core: { type: 'boolean', default: false },
      calls: { type: 'string', default: '20000' },
      arguments: { type: 'string', default: 'plain' },
    },
  });
  const rounds = Number(values.rounds);
  const args = values.arguments;
  if (args !== 'plain' && args !== 'unique' && args !== 'fixed')
    throw new Error(`--arguments is plain, unique or fixed, not ${args}`);
  if (values.core) {
    core(rounds, Number(values.calls), args);
    return;
  }
  const measureMs = Number(values['measure-ms']);
  const loadgen = new LoadGenerator();
  const running: Running[] = [];
  try {
    const quiet = await waitForQuiet(
      { loadgen, plan: PLAN_UNUSED, log: (line) => console.log(line) },
      0.3,
      30_000,
    );
    console.log(
      machineFacts([
        `other work on the machine before the run: ${quiet.cores.toFixed(2)} cores busy (waited ${quiet.waitedS} s for < 0.3)`,
        `${rounds} rounds of ${measureMs} ms (after 1 s warm-up) per arm and concurrency, arms in turn; medians reported`,
        args === 'fixed'
          ? 'the same arguments in every call, the request _meta echoed'
          : args === 'unique'
            ? "a new text in each call's arguments, the request _meta echoed"
            : "a new text in each call's arguments, the fixture's result without the request _meta",
      ]).join('\n'),
    );
    for (const arm of ARMS) running.push(await start(arm));
    for (const concurrency of CONCURRENCY) {
      for (let round = 0; round < rounds; round++) {
        // Alternate the order, so that no arm always runs right after the same other one.
        for (const entry of round % 2 === 0 ? running : [...running].reverse()) {
          const result = await loadgen.loop({
            op: 'loop-http',
            url: entry.subject.url,
            tool: entry.subject.tool,
            root: entry.subject.pid,
            concurrency,
            warmupMs: 1_000,
            measureMs,
            maxCallsPerClient: 500_000,
            uniqueArguments: args !== 'fixed',
            omitMeta: args === 'plain',
          });
          const calls = Math.max(1, result.calls - result.errors);
          push(entry.rates, concurrency, rate(result));
          push(entry.cpu, concurrency, result.subjectCpuMicros / calls);
          console.log(
            `  x${concurrency} round ${round + 1} ${entry.arm.name}: ${rate(result).toFixed(0)} calls/s, ${result.errors} errors, ` +
              `gateway ${(result.subjectCpuMicros / calls).toFixed(0)} µs CPU/call, other work ${(result.otherCpuMicros / 1e6 / result.seconds).toFixed(2)} cores`,
          );
        }
      }
    }
    report(running);
    await exported(running);
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    for (const { subject, sink } of running) {
      const left = await subject.stop();
      if (left.length > 0) console.log(`still running after stop: ${left.join(', ')}`);
      await sink?.close();
    }
    await loadgen.close();
  }
}

const PLAN_UNUSED = { warmupMs: 0, measureMs: 0, maxCallsPerClient: 0, opens: 0, spares: 0, idleSessions: 0 };

function report(running: readonly Running[]): void {
  console.log('\nconcurrency  arm                    calls/s (median)  vs off  gateway CPU µs/call (median)');
  for (const concurrency of CONCURRENCY) {
    const off = running.find((entry) => entry.arm.name === 'off');
    const base = median(off?.rates.get(concurrency) ?? []);
    for (const entry of running) {
      const value = median(entry.rates.get(concurrency) ?? []);
      const ratio = value / base;
      const verdict =
        entry.arm.name === ON ? `  (target ≥ ${TARGET}: ${ratio >= TARGET ? 'met' : 'MISSED'})` : '';
      const cpu = median(entry.cpu.get(concurrency) ?? []);
      console.log(
        `${String(concurrency).padStart(11)}  ${entry.arm.name.padEnd(21)}  ${value.toFixed(0).padStart(16)}  ${ratio.toFixed(3)}  ${cpu.toFixed(0).padStart(28)}${verdict}`,
      );
    }
  }
}

/** What each arm's receiver got, against the tools/call its /metrics counted. */
async function exported(running: readonly Running[]): Promise<void> {
  // The exporters flush every 200 ms; give the last batch time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  console.log('');
  for (const { arm, metricsUrl, sink } of running) {
    if (metricsUrl === undefined) continue;
    const text = await (await fetch(metricsUrl)).text();
    const calls = [
      ...text.matchAll(/^mcplane_mcp_requests_total\{[^}]*method="tools\/call"[^}]*\} (\d+)$/gm),
    ].reduce((sum, match) => sum + Number(match[1]), 0);
    const samples = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    const spans = sink
      ? `; its receiver got ${sink.counts.spans} spans (${(sink.counts.spans / Math.max(1, calls)).toFixed(2)} per call) in ${sink.counts.requests} requests, ${(sink.counts.bytes / 1e6).toFixed(1)} MB`
      : '';
    console.log(`${arm.name}: /metrics counted ${calls} tools/call in ${samples} samples${spans}`);
  }
}

const CORE_ARM = fileURLToPath(new URL('./telemetry/core-arm.ts', import.meta.url));
const CORE_ARMS = ['off', 'metrics', 'unsampled', 'sampled', 'tracing', 'json', 'tracing-all'] as const;
const CORE_NAMES: Record<(typeof CORE_ARMS)[number], string> = {
  off: 'off',
  metrics: 'metrics',
  unsampled: 'metrics + tracing 0%',
  sampled: 'metrics + tracing 10%',
  json: 'tracing in http/json',
  tracing: ON,
  'tracing-all': '+ every stage span',
};

/** The core in-process, each arm a fresh process, arms in turn; min and median CPU per call. */
function core(rounds: number, calls: number, args: 'plain' | 'unique' | 'fixed'): void {
  console.log(
    machineFacts([
      `core in-process, ${calls} tools/call echo at concurrency 10 per run (${args} arguments), ${rounds} rounds, arms in turn`,
    ]).join('\n'),
  );
  const runs = new Map<string, { cpu: number; rate: number; spans: number }[]>();
  for (let round = 0; round < rounds; round++) {
    for (const arm of round % 2 === 0 ? CORE_ARMS : [...CORE_ARMS].reverse()) {
      const out = execFileSync(process.execPath, [CORE_ARM, arm, String(calls), args], { encoding: 'utf8' });
      const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as {
        callsPerSecond: number;
        cpuMicrosPerCall: number;
        spans: number;
      };
      runs.set(arm, [
        ...(runs.get(arm) ?? []),
        { cpu: result.cpuMicrosPerCall, rate: result.callsPerSecond, spans: result.spans },
      ]);
      console.log(
        `  round ${round + 1} ${CORE_NAMES[arm]}: ${result.callsPerSecond.toFixed(0)} calls/s, ${result.cpuMicrosPerCall.toFixed(1)} µs CPU/call, ${(result.spans / (calls + 2_000)).toFixed(2)} spans/call`,
      );
    }
  }
  const offCpu = Math.min(...(runs.get('off') ?? []).map((run) => run.cpu));
  console.log('\narm                    CPU µs/call min  median  vs off (min)  calls/s (median)');
  for (const arm of CORE_ARMS) {
    const list = runs.get(arm) ?? [];
    const min = Math.min(...list.map((run) => run.cpu));
    console.log(
      `${CORE_NAMES[arm].padEnd(21)}  ${min.toFixed(1).padStart(15)}  ${median(list.map((run) => run.cpu))
        .toFixed(1)
        .padStart(6)}  ${(min / offCpu).toFixed(3).padStart(12)}  ${median(list.map((run) => run.rate))
        .toFixed(0)
        .padStart(16)}`,
    );
  }
  console.log(`load average at end: ${loadAverage()}`);
}

await main();
