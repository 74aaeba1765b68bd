/**
 * Two or more mcplane checkouts under the same closed-loop call load, alternated round by round
 * (the machine's speed drifts by tens of percent from minute to minute, so one run each, one
 * after the other, compares the minutes rather than the code). Prints calls/s and the gateway's
 * CPU per call for each round, connection count and checkout.
 *
 *   node bench/http/alternate.ts <checkout> <checkout> [...] [--rounds 3]
 */
import { LoadGenerator } from './load-generator.ts';
import { startMcplane, type Subject } from './subjects.ts';

const args = process.argv.slice(2);
const roundsAt = args.indexOf('--rounds');
const rounds = roundsAt === -1 ? 3 : Number(args[roundsAt + 1]);
const roots = args.filter((arg, i) => i !== roundsAt && i !== roundsAt + 1);
if (roots.length < 2 || !(rounds >= 1 && rounds <= 20)) {
  console.error('usage: node bench/http/alternate.ts <checkout> <checkout> [...] [--rounds 1-20]');
  process.exit(2);
}

const loadgen = new LoadGenerator();
const subjects: Subject[] = [];
try {
  for (const root of roots)
    subjects.push(await startMcplane('shared', { min: 1, max: 1 }, [], { name: root, root }));
  for (let round = 1; round <= rounds; round++) {
    for (const concurrency of [10, 100]) {
      for (const subject of subjects) {
        const result = await loadgen.loop({
          op: 'loop-http',
          url: subject.url,
          tool: subject.tool,
          root: subject.pid,
          concurrency,
          warmupMs: 1_000,
          measureMs: 3_000,
          maxCallsPerClient: 1_000_000,
        });
        const ok = result.calls - result.errors;
        console.log(
          `round ${round}  x${concurrency}  ${subject.name}  ${(ok / result.seconds).toFixed(0)} calls/s  ` +
            `${(result.subjectCpuMicros / ok).toFixed(0)} µs gateway CPU/call  ${result.errors} errors`,
        );
      }
    }
  }
} finally {
  for (const subject of subjects) await subject.stop();
  await loadgen.close();
}
process.exit(0);
