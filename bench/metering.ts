/**
 * The metering benchmark (`npm run bench:metering`): calls/s and CPU per call of the gateway core
 * with metering on (a usage event per call, written to a SQLite store in batches, child CPU
 * sampled) against off, on the same store and echo fixture. Each arm runs in a process of its
 * own, arms in turn, round after round, so that a change in the machine's load hits both alike;
 * medians are reported, and CPU per call is the least disturbed by other work on a shared
 * machine. Target: on within 10% of off. Numbers only: it never fails on a missed target.
 *
 * `--http` measures instead `mcplane serve` over Streamable HTTP with the HTTP benchmark's load
 * generator (concurrency 10), each arm on a SQLite store file of its own: the whole request path,
 * where the gateway's own cost per call is larger and metering's share smaller.
 *
 *   node bench/metering.ts [--rounds 5] [--calls 10000]
 *   node bench/metering.ts --http [--rounds 3] [--measure-ms 2000]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LoadGenerator } from './http/load-generator.ts';
import { loadAverage, machineFacts } from './http/report.ts';
import { startMcplane, type Subject } from './http/subjects.ts';
import { median } from './lib/stats.ts';

const ARM = fileURLToPath(new URL('./metering/arm.ts', import.meta.url));
const ARMS = ['off', 'on'] as const;
const TARGET = 0.9;

type Run = {
  callsPerSecond: number;
  cpuMicrosPerCall: number;
  threadCpuMicrosPerCall: number;
  written: number;
  droppedDuringRun: number;
};

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    calls: { type: 'string', default: '10000' },
    http: { type: 'boolean', default: false },
    'measure-ms': { type: 'string', default: '2000' },
  },
});
const rounds = Number(values.rounds);
if (values.http) {
  await http(rounds, Number(values['measure-ms']));
  process.exit(0);
}
const calls = Number(values.calls);
console.log(
  machineFacts([
    `core in-process on a SQLite store, ${calls} tools/call echo at concurrency 10 per run, ${rounds} rounds, arms in turn`,
  ]).join('\n'),
);
const runs = new Map<string, Run[]>();
for (let round = 0; round < rounds; round++) {
  for (const arm of round % 2 === 0 ? ARMS : [...ARMS].reverse()) {
    const out = execFileSync(process.execPath, [ARM, arm, String(calls)], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop() ?? '{}') as Run;
    runs.set(arm, [...(runs.get(arm) ?? []), result]);
    console.log(
      `  round ${round + 1} ${arm}: ${result.callsPerSecond.toFixed(0)} calls/s, ${result.cpuMicrosPerCall.toFixed(1)} µs CPU/call (${result.threadCpuMicrosPerCall.toFixed(1)} on the main thread), ${result.written} usage records written, ${result.droppedDuringRun} dropped`,
    );
  }
}
const of = (arm: string, pick: (run: Run) => number) => median((runs.get(arm) ?? []).map(pick));
const [offRate, onRate] = [of('off', (run) => run.callsPerSecond), of('on', (run) => run.callsPerSecond)];
const [offCpu, onCpu] = [of('off', (run) => run.cpuMicrosPerCall), of('on', (run) => run.cpuMicrosPerCall)];
const [offThread, onThread] = [
  of('off', (run) => run.threadCpuMicrosPerCall),
  of('on', (run) => run.threadCpuMicrosPerCall),
];
console.log('\narm  calls/s (median)  vs off  CPU µs/call (median)  vs off  main thread µs/call  vs off');
console.log(
  `off  ${offRate.toFixed(0).padStart(16)}  ${'1.000'}  ${offCpu.toFixed(1).padStart(20)}  1.000  ${offThread.toFixed(1).padStart(19)}  1.000`,
);
console.log(
  `on   ${onRate.toFixed(0).padStart(16)}  ${(onRate / offRate).toFixed(3)}  ${onCpu.toFixed(1).padStart(20)}  ${(onCpu / offCpu).toFixed(3)}  ${onThread.toFixed(1).padStart(19)}  ${(onThread / offThread).toFixed(3)}`,
);
// Each round's two arms ran back to back, so their ratio is the least touched by the machine's
// load drifting between rounds.
const paired = median(
  (runs.get('on') ?? []).map(
    (on, round) => on.callsPerSecond / ((runs.get('off') ?? [])[round]?.callsPerSecond ?? NaN),
  ),
);
console.log(`on/off calls/s within a round (median of the rounds): ${paired.toFixed(3)}`);
const ratio = Math.max(onRate / offRate, offCpu / onCpu);
console.log(
  `target: on ≥ ${TARGET} × off in calls/s: ${onRate / offRate >= TARGET ? 'met' : 'MISSED'} by throughput, ${offCpu / onCpu >= TARGET ? 'met' : 'MISSED'} by CPU per call (best ${ratio.toFixed(3)})`,
);
console.log(`load average at end: ${loadAverage()}`);

async function http(rounds: number, measureMs: number): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'mcplane-bench-metering-'));
  console.log(
    machineFacts([
      `mcplane serve over HTTP on SQLite, tools/call echo at concurrency 10, ${rounds} rounds of ${measureMs} ms (after 1 s warm-up), arms in turn`,
    ]).join('\n'),
  );
  const loadgen = new LoadGenerator();
  const subjects = new Map<string, Subject>();
  const rates = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  try {
    for (const arm of ARMS) {
      subjects.set(
        arm,
        await startMcplane('shared', { min: 1, max: 1 }, [], {
          name: `mcplane-bench-metering-${arm}`,
          gateway: {
            metering: { enabled: arm === 'on' },
            metrics: { enabled: false },
            logs: { calls: 'off' },
          },
          env: { MCPLANE_STORE_URL: `sqlite:${join(scratch, `${arm}.db`)}` },
        }),
      );
    }
    for (let round = 0; round < rounds; round++) {
      for (const arm of round % 2 === 0 ? ARMS : [...ARMS].reverse()) {
        const subject = subjects.get(arm) as Subject;
        const result = await loadgen.loop({
          op: 'loop-http',
          url: subject.url,
          tool: subject.tool,
          root: subject.pid,
          concurrency: 10,
          warmupMs: 1_000,
          measureMs,
          maxCallsPerClient: 500_000,
        });
        const ok = Math.max(1, result.calls - result.errors);
        rates.set(arm, [...(rates.get(arm) ?? []), ok / result.seconds]);
        cpu.set(arm, [...(cpu.get(arm) ?? []), result.subjectCpuMicros / ok]);
        console.log(
          `  round ${round + 1} ${arm}: ${(ok / result.seconds).toFixed(0)} calls/s, ${result.errors} errors, gateway ${(result.subjectCpuMicros / ok).toFixed(0)} µs CPU/call`,
        );
      }
    }
  } finally {
    for (const subject of subjects.values()) await subject.stop();
    await loadgen.close();
  }
  const [offRate, onRate] = [median(rates.get('off') ?? []), median(rates.get('on') ?? [])];
  const [offCpu, onCpu] = [median(cpu.get('off') ?? []), median(cpu.get('on') ?? [])];
  console.log('\narm  calls/s (median)  vs off  gateway CPU µs/call (median)  vs off');
  console.log(`off  ${offRate.toFixed(0).padStart(16)}  1.000  ${offCpu.toFixed(0).padStart(28)}  1.000`);
  console.log(
    `on   ${onRate.toFixed(0).padStart(16)}  ${(onRate / offRate).toFixed(3)}  ${onCpu.toFixed(0).padStart(28)}  ${(onCpu / offCpu).toFixed(3)}`,
  );
  console.log(`target: on ≥ ${TARGET} × off in calls/s: ${onRate / offRate >= TARGET ? 'met' : 'MISSED'}`);
  console.log(`load average at end: ${loadAverage()}`);
}
