/**
 * The observability benchmark (`npm run bench:telemetry`): calls/s of `mcplane serve` with
 * metrics and tracing off against on (every span exported over OTLP/HTTP to a local receiver),
 * in one run, on the same echo fixture, with the load generator of the HTTP benchmark. The arms
 * take turns, round after round, so that a change in the machine's load hits them alike; the
 * median of the rounds is reported. A third arm adds the one log line per call (at info, to a
 * pipe) to see what the call log costs on top. Numbers only: it never fails on a missed target.
 *
 *   node bench/telemetry.ts [--rounds 5] [--measure-ms 3000]
 */
import { parseArgs } from 'node:util';
import { LoadGenerator } from './http/load-generator.ts';
import type { LoopResult } from './http/load-worker.ts';
import { waitForQuiet, type Bench } from './http/measurements.ts';
import { loadAverage, machineFacts } from './http/report.ts';
import { freePort, startMcplane, type Subject } from './http/subjects.ts';
import { startSpanSink, type SpanSink } from './telemetry/span-sink.ts';

const CONCURRENCY = [10, 100] as const;
const TARGET = 0.9;
/** Spans a forwarded tools/call makes: request, policy, guard input, pool wait, upstream, guard output. */
const SPANS_PER_CALL = 6;

type Arm = {
  readonly name: string;
  readonly start: (sink: SpanSink) => Promise<{ subject: Subject; metricsUrl?: string }>;
};

const QUIET = { logs: { calls: 'off' } };

const ARMS: readonly Arm[] = [
  {
    name: 'off',
    start: async () => ({
      subject: await startMcplane('shared', { min: 1, max: 1 }, [], {
        name: 'mcplane-telemetry-off',
        gateway: { ...QUIET, metrics: { enabled: false } },
      }),
    }),
  },
  {
    name: 'metrics + tracing',
    start: async (sink) => {
      const port = await freePort();
      const subject = await startMcplane('shared', { min: 1, max: 1 }, [], {
        name: 'mcplane-telemetry-on',
        gateway: { ...QUIET, admin: { listen: `127.0.0.1:${port}` } },
        env: exportEverything(sink),
      });
      return { subject, metricsUrl: `http://127.0.0.1:${port}/metrics` };
    },
  },
  {
    name: '+ call log (info)',
    start: async (sink) => {
      const port = await freePort();
      const subject = await startMcplane('shared', { min: 1, max: 1 }, [], {
        name: 'mcplane-telemetry-logs',
        gateway: { admin: { listen: `127.0.0.1:${port}` } },
        env: exportEverything(sink),
      });
      return { subject, metricsUrl: `http://127.0.0.1:${port}/metrics` };
    },
  },
];

/**
 * The exporter's defaults (a 2,048-span queue flushed every 5 s) drop most spans at thousands of
 * calls a second; the benchmark sizes the queue so that every span is exported, the costly case.
 */
function exportEverything(sink: SpanSink): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    OTEL_SERVICE_NAME: 'mcplane-bench',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_MAX_QUEUE_SIZE: '100000',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048',
  };
}

const rate = (result: LoopResult): number => (result.calls - result.errors) / result.seconds;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '5' }, 'measure-ms': { type: 'string', default: '3000' } },
  });
  const rounds = Number(values.rounds);
  const measureMs = Number(values['measure-ms']);
  const bench: Bench = {
    loadgen: new LoadGenerator(),
    plan: { warmupMs: 1_000, measureMs, maxCallsPerClient: 500_000, opens: 0, spares: 0, idleSessions: 0 },
    log: (line) => console.log(line),
  };
  const sink = await startSpanSink();
  const started: { arm: Arm; subject: Subject; metricsUrl?: string }[] = [];
  try {
    const quiet = await waitForQuiet(bench, 0.3, 30_000);
    console.log(
      machineFacts([
        `other work on the machine before the run: ${quiet.cores.toFixed(2)} cores busy (waited ${quiet.waitedS} s for < 0.3)`,
        `${rounds} rounds of ${measureMs} ms per arm and concurrency, arms in turn; median reported`,
      ]).join('\n'),
    );
    for (const arm of ARMS) started.push({ arm, ...(await arm.start(sink)) });
    const results = new Map<string, number[]>();
    const cpu = new Map<string, number[]>();
    for (const concurrency of CONCURRENCY) {
      for (let round = 0; round < rounds; round++) {
        // Alternate the order, so no arm always runs right after another's load.
        const order = round % 2 === 0 ? started : [...started].reverse();
        for (const { arm, subject } of order) {
          const result = await bench.loadgen.loop({
            op: 'loop-http',
            url: subject.url,
            tool: subject.tool,
            root: subject.pid,
            concurrency,
            warmupMs: bench.plan.warmupMs,
            measureMs,
            maxCallsPerClient: bench.plan.maxCallsPerClient,
          });
          const key = `${arm.name}@${concurrency}`;
          results.set(key, [...(results.get(key) ?? []), rate(result)]);
          const calls = Math.max(1, result.calls - result.errors);
          cpu.set(key, [...(cpu.get(key) ?? []), result.subjectCpuMicros / calls]);
          console.log(
            `  x${concurrency} round ${round + 1} ${arm.name}: ${rate(result).toFixed(0)} calls/s, ${result.errors} errors, gateway ${(result.subjectCpuMicros / calls).toFixed(1)} µs CPU/call, other work ${(result.otherCpuMicros / 1e6 / result.seconds).toFixed(2)} cores`,
          );
        }
      }
    }
    console.log('\nconcurrency  arm                  calls/s (median)  vs off  gateway CPU µs/call');
    for (const concurrency of CONCURRENCY) {
      const base = median(results.get(`off@${concurrency}`) ?? []);
      for (const { arm } of started) {
        const key = `${arm.name}@${concurrency}`;
        const value = median(results.get(key) ?? []);
        const ratio = value / base;
        const verdict =
          arm.name === 'metrics + tracing'
            ? ratio >= TARGET
              ? '  (target ≥ 0.90: met)'
              : '  (target ≥ 0.90: MISSED)'
            : '';
        console.log(
          `${String(concurrency).padStart(11)}  ${arm.name.padEnd(19)}  ${value.toFixed(0).padStart(16)}  ${ratio.toFixed(3)}  ${median(
            cpu.get(key) ?? [],
          )
            .toFixed(1)
            .padStart(19)}${verdict}`,
        );
      }
    }
    await summarize(started, sink);
    console.log(`load average at end: ${loadAverage()}`);
  } finally {
    for (const { subject } of started) {
      const left = await subject.stop();
      if (left.length > 0) console.log(`still running after stop: ${left.join(', ')}`);
    }
    await sink.close();
    await bench.loadgen.close();
  }
}

/** What the tracing arms exported, and what /metrics held at the end. */
async function summarize(started: { arm: Arm; metricsUrl?: string }[], sink: SpanSink): Promise<void> {
  // The exporter flushes every 200 ms; give the last batch time to arrive.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  let calls = 0;
  for (const { arm, metricsUrl } of started) {
    if (metricsUrl === undefined) continue;
    const text = await (await fetch(metricsUrl)).text();
    const counted = [
      ...text.matchAll(/^mcplane_mcp_requests_total\{.*method="tools\/call".*\} (\d+)$/gm),
    ].reduce((sum, match) => sum + Number(match[1]), 0);
    calls += counted;
    const series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    console.log(`${arm.name}: /metrics has ${series} samples; it counted ${counted} tools/call`);
  }
  console.log(
    `OTLP receiver: ${sink.counts.spans} spans in ${sink.counts.requests} requests (${(sink.counts.bytes / 1e6).toFixed(1)} MB); ` +
      `${calls * SPANS_PER_CALL} expected for ${calls} calls (${((100 * sink.counts.spans) / Math.max(1, calls * SPANS_PER_CALL)).toFixed(1)}% arrived)`,
  );
}

await main();
