/**
 * Memory under attack: the gateway (`mcplane serve`, every bound at its default) against the
 * attacks of issue 6, one after another in one gateway, printing its RSS before, at the peak
 * during, and after each (after a full GC). Targets: RSS stays at most 300 MB throughout, and
 * after each attack comes back within 50 MB of where the run started. A soak script: numbers
 * and PASS/FAIL, never a test. Exits 1 when a target is missed.
 *
 * The gateway runs as `npm start` runs it, with `--max-old-space-size=1024`: on a machine with
 * much memory Node's default heap limit is about 4 GB, and V8 then lets garbage pile up to a few
 * hundred MB between full collections whatever the gateway holds. `--default-heap` runs it
 * without the limit, to show that.
 *
 *   npm run bench:hardening [-- --default-heap]
 */
import { parseArgs } from 'node:util';
import { ATTACKS, type Attack } from './hardening/attacks.ts';
import { startGateway } from './hardening/gateway-process.ts';
import { callBody, exchange, openSession, releaseSockets } from './hardening/raw-http.ts';

/** The node options of `npm start` (package.json). */
const START_NODE_ARGS = ['--max-old-space-size=1024'];
const PEAK_LIMIT = 300 * 2 ** 20;
const RETURN_LIMIT = 50 * 2 ** 20;
/** 1 MB answers served to a client that reads them, before "before" is measured. */
const WARM_UP_CALLS = 20;
/** After an attack, time for the gateway to finish closing what the attacker left. */
const SETTLE_MS = 2_000;

type Row = { name: string; result: string; before: number; peak: number; after: number; live: string };

const mb = (bytes: number): string => (bytes / 2 ** 20).toFixed(1);
const verdict = (ok: boolean): string => (ok ? 'PASS' : 'FAIL');

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { 'default-heap': { type: 'boolean', default: false } } });
  const nodeArgs = values['default-heap'] ? [] : START_NODE_ARGS;
  console.log(
    `mcplane serve, every gateway.http bound at its default, node ${nodeArgs.join(' ') || '(default heap)'}\n`,
  );
  const rows: Row[] = [];
  for (const attack of ATTACKS) rows.push(await measure(attack, nodeArgs));
  return report(rows);
}

/** One attack against a fresh gateway, so that no attack inherits what another left behind. */
async function measure(attack: Attack, nodeArgs: readonly string[]): Promise<Row> {
  const gateway = await startGateway(nodeArgs);
  try {
    // Ordinary traffic first, large answers included, so the start is a gateway that has served
    // some (compiled code, grown allocator arenas), not a cold one.
    const sessionId = await openSession(gateway.url);
    for (let call = 0; call < WARM_UP_CALLS; call++)
      await exchange(gateway.url, { sessionId, body: callBody('fx__big', { bytes: 1_000_000 }) });
    await exchange(gateway.url, { sessionId, method: 'DELETE' });
    await gateway.collectGarbage();
    const before = gateway.rss();
    gateway.resetPeak();
    let result: string;
    try {
      result = await attack.run(gateway.url);
    } catch (error) {
      result = `attack failed: ${(error as Error).message}`;
    }
    const peak = gateway.peak;
    releaseSockets();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    await gateway.collectGarbage();
    const after = gateway.rss();
    const usage = await gateway.memoryUsage();
    const live = `heap ${mb(usage.heapUsed)} MB, external ${mb(usage.external)} MB`;
    console.log(
      `${attack.name}: ${result}; RSS ${mb(before)} → peak ${mb(peak)} → ${mb(after)} MB (${live})`,
    );
    return { name: attack.name, result, before, peak, after, live };
  } finally {
    const left = await gateway.stop();
    if (left.length > 0) console.log(`still running after stop: ${left.join(', ')}`);
  }
}

function report(rows: readonly Row[]): number {
  const header = [
    'attack',
    'what the gateway answered',
    'before MB',
    'peak MB',
    'after MB',
    'live after (GC)',
    'peak ≤ 300 MB',
    'after ≤ before + 50 MB',
  ];
  const lines = rows.map((row) => [
    row.name,
    row.result,
    mb(row.before),
    mb(row.peak),
    mb(row.after),
    row.live,
    verdict(row.peak <= PEAK_LIMIT),
    verdict(row.after <= row.before + RETURN_LIMIT),
  ]);
  const table = [header, header.map(() => '---'), ...lines].map((cells) => `| ${cells.join(' | ')} |`);
  console.log(`\n${table.join('\n')}\n`);
  const failed = lines.some((cells) => cells.includes('FAIL'));
  console.log(failed ? 'Some targets were missed.' : 'Every target met.');
  return failed ? 1 : 0;
}

process.exitCode = await main();
