/**
 * The audit benchmark (`npm run bench:audit`). It prints numbers and never asserts.
 *
 * 1. Hot path: the cost a call pays, in µs: `AuditLog.append` (queue only, what the gateway does),
 *    the whole audit stage around a no-op next, and, for comparison, sealing a record inline
 *    (canonical JSON, SHA-256, argument digest), which is what append would cost if it hashed.
 * 2. Sustained: records/s into a real JSONL file through the real writer, with and without
 *    fdatasync, the producer appending as fast as it can while yielding to the writer. Wall-clock
 *    rates depend on what else runs on the machine; CPU µs per record (this process: append,
 *    seal, write) depends on it much less.
 * 3. Paced: the writer as a gateway meets it, records arriving at a steady rate (a few each
 *    millisecond) with fdatasync on; CPU µs per record, this process's threads included.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditChain } from '../src/audit/audit-chain.ts';
import { describePublicKey, parsePrivateKey, type AuditSigningKey } from '../src/audit/audit-key.ts';
import { AuditLog } from '../src/audit/audit-log.ts';
import type { AuditEvent } from '../src/audit/audit-record.ts';
import { AuditRecorder } from '../src/audit/audit-recorder.ts';
import { auditStage } from '../src/audit/audit-stage.ts';
import { DIGEST_ONLY, eventBody } from '../src/audit/event-fields.ts';
import { JsonlFileSink } from '../src/audit/jsonl-file-sink.ts';
import { newCall, type Reply } from '../src/guard/pipeline.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { machineFacts, loadAverage } from './lib/report.ts';
import { fixed, LatencySamples, micros, since, table } from './lib/stats.ts';

/** Appends timed together: one hrtime pair per batch keeps the clock out of the number. */
const BATCH = 100;
const HOT_BATCHES = 2_000;
const SUSTAINED_RECORDS = 200_000;
/** A sustained run stops appending after this long, whatever it reached. */
const SUSTAINED_MS = 15_000;
const WATCHDOG_MS = 120_000;
/** The paced runs: records per second, and how long each runs. */
const PACED_RATES = [2_000, 8_000] as const;
const PACED_MS = 3_000;

const key: AuditSigningKey = (() => {
  const privateKey = parsePrivateKey(Buffer.alloc(32, 1).toString('base64'), 'bench');
  return { privateKey, publicKey: describePublicKey(createPublicKey(privateKey)), source: 'env' };
})();

const session = { key: 'a1b2c3d4e5f6', principal: localPrincipal('acme'), face: 'streamable-http' as const };

function sampleEvent(n: number): AuditEvent {
  return {
    kind: 'tool-call',
    tenant: 'acme',
    principal: 'key:0123456789abcdef',
    session: 'a1b2c3d4e5f6',
    face: 'streamable-http',
    method: 'tools/call',
    server: 'filesystem',
    tool: 'filesystem__read_file',
    decision: { effect: 'allow', rule: 'read-own-data', mode: 'enforce' },
    findings: [],
    args: { path: `/data/acme/reports/${n}.txt`, encoding: 'utf8' },
    outcome: 'ok',
    latencyMs: 1.234,
  };
}

async function tempLog(sync: boolean, dir: string): Promise<{ log: AuditLog }> {
  const sink = new JsonlFileSink({ dir, sync });
  return { log: await AuditLog.open({ sink, key, log: silentLogger(), maxBacklog: 1_000_000 }) };
}

const yieldToWriter = () => new Promise<void>((resolve) => setImmediate(resolve));

/** µs per operation, from batches of BATCH operations, with the writer running between batches. */
async function perOperation(operation: (n: number) => void | Promise<void>): Promise<LatencySamples> {
  const samples = new LatencySamples();
  let n = 0;
  for (let batch = 0; batch < HOT_BATCHES; batch++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) await operation(n++);
    if (batch >= HOT_BATCHES / 10) samples.add(since(start) / BATCH);
    await yieldToWriter();
  }
  return samples;
}

async function measureHotPath(dir: string): Promise<string[][]> {
  const rows: string[][] = [];
  const row = (name: string, samples: LatencySamples): void => {
    const [p50 = NaN, p99 = NaN] = samples.percentiles(50, 99);
    rows.push([name, micros(samples.mean), micros(p50), micros(p99)]);
  };

  const { log } = await tempLog(false, join(dir, 'hot-append'));
  row('AuditLog.append (queue only)', await perOperation((n) => void log.append(sampleEvent(n))));
  await log.close();

  const stageLog = (await tempLog(false, join(dir, 'hot-stage'))).log;
  const stage = auditStage(new AuditRecorder(stageLog, { log: silentLogger() }));
  const reply: Reply = { result: { content: [{ type: 'text', text: 'ok' }] } };
  const signal = new AbortController().signal;
  const next = async (): Promise<Reply> => reply;
  const call = (n: number) =>
    newCall({
      id: n,
      method: 'tools/call',
      params: { name: 'filesystem__read_file', arguments: { path: `/data/acme/${n}.txt` } },
      session,
      signal,
    });
  const bare = await perOperation(async (n) => void (call(n), await next()));
  const staged = await perOperation(async (n) => void (await stage.handle(call(n), next)));
  row('audit stage around a no-op next', staged);
  row('  the same call without the stage', bare);
  await stageLog.close();

  const chain = new AuditChain();
  row(
    'seal inline (what append would add)',
    await perOperation((n) => void chain.sealOrdered(eventBody(sampleEvent(n), Date.now(), DIGEST_ONLY))),
  );
  return rows;
}

async function sustained(sync: boolean, dir: string): Promise<string[]> {
  const { log } = await tempLog(sync, dir);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  const deadline = Date.now() + SUSTAINED_MS;
  let appended = 0;
  let peak = 0;
  while (appended < SUSTAINED_RECORDS && Date.now() < deadline) {
    for (let i = 0; i < 500; i++) log.append(sampleEvent(appended++));
    peak = Math.max(peak, log.backlog().records);
    await yieldToWriter();
  }
  const appendSeconds = since(start) / 1e9;
  await log.close();
  const seconds = since(start) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const files = await readdir(dir);
  const bytes = (await Promise.all(files.map(async (name) => (await stat(join(dir, name))).size))).reduce(
    (a, b) => a + b,
    0,
  );
  const { written, dropped } = log.backlog();
  return [
    sync ? 'fdatasync per batch' : 'no fdatasync',
    String(appended),
    fixed(appended / appendSeconds, 0),
    fixed(written / seconds, 0),
    fixed((cpu.user + cpu.system) / written, 1),
    String(peak),
    String(dropped),
    fixed(bytes / written, 0),
  ];
}

/** Appends `rate` records a second, a millisecond's worth at a time, for PACED_MS. */
async function paced(rate: number, dir: string): Promise<string[]> {
  const { log } = await tempLog(true, dir);
  const perTick = rate / 1000;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let appended = 0;
  for (let elapsed = 0; elapsed < PACED_MS; elapsed = performance.now() - start) {
    while (appended < elapsed * perTick) log.append(sampleEvent(appended++));
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
  }
  await log.close();
  const cpu = process.cpuUsage(cpuBefore);
  const { written } = log.backlog();
  return [String(rate), String(appended), fixed((cpu.user + cpu.system) / written, 1)];
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench:audit: still running after ${WATCHDOG_MS / 1000}s, giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const dir = await mkdtemp(join(tmpdir(), 'mcplane-bench-audit-'));
  try {
    console.log(machineFacts([`audit log in ${dir} (${tmpdir()})`]));
    console.log(`\nHot path, µs per call (batches of ${BATCH}, ${HOT_BATCHES} batches, first 10% discarded)`);
    console.log(table([['operation', 'mean µs', 'p50 µs', 'p99 µs'], ...(await measureHotPath(dir))]));

    console.log(`\nSustained to a JSONL file (${SUSTAINED_RECORDS} records or ${SUSTAINED_MS / 1000}s)`);
    const rows = [await sustained(false, join(dir, 'nosync')), await sustained(true, join(dir, 'sync'))];
    console.log(
      table([
        [
          'writer',
          'appended',
          'appended/s',
          'written/s (to close)',
          'cpu µs/record',
          'peak backlog',
          'dropped',
          'bytes/record',
        ],
        ...rows,
      ]),
    );
    console.log(`\nPaced, fdatasync on (${PACED_MS / 1000}s each)`);
    const pacedRows: string[][] = [];
    for (const rate of PACED_RATES) pacedRows.push(await paced(rate, join(dir, `paced-${rate}`)));
    console.log(table([['records/s', 'appended', 'cpu µs/record'], ...pacedRows]));
    console.log(`\nload average at end: ${loadAverage()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
    clearTimeout(watchdog);
  }
}

await main();
