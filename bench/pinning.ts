/**
 * What tool-definition pinning costs on the call path (`node bench/pinning.ts`): one gateway,
 * in-process, with two copies of the fixture server, `on` (pinning: enforce) and `off`
 * (pinning: off), called alternately in rounds of closed-loop `tools/call echo` at 1 and 10
 * sessions, and `tools/list` at 1 session. Prints numbers; never asserts.
 */
import { createGateway, type Gateway } from '../src/gateway.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { fixtureServer, testConfig } from '../test/support/harness.ts';
import { runClosedLoop, type Call, type LoopResult } from './lib/closed-loop.ts';
import { loadAverage } from './lib/report.ts';
import { SessionDriver } from './lib/session-driver.ts';
import { micros, table } from './lib/stats.ts';

const WARMUP_MS = 500;
const MEASURE_MS = 2_000;
const ROUNDS = 3;
const WATCHDOG_MS = 120_000;
const TIMEOUTS = { startup: '10s', call: '10s', shutdown: '1s' };
const principal = localPrincipal('acme');

type Row = { subject: string; result: LoopResult };

async function drivers(gateway: Gateway, count: number): Promise<SessionDriver[]> {
  const opened = Array.from({ length: count }, () => new SessionDriver(gateway.connect(principal)));
  await Promise.all(opened.map((driver) => driver.initialize()));
  return opened;
}

function calls(sessions: readonly SessionDriver[], method: string, params: Record<string, unknown>): Call[] {
  return sessions.map((driver) => async () => (await driver.request(method, params)).error === undefined);
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('bench/pinning: still running after the watchdog; giving up');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const server = (pinning: string) =>
    fixtureServer({ pool: { min: 1, max: 1, maxInflight: 64 }, timeouts: TIMEOUTS, pinning });
  const gateway = await createGateway(
    testConfig({ servers: { on: server('enforce'), off: server('off') } }),
    { log: silentLogger() },
  );
  console.log(`load average at start: ${loadAverage()}`);
  const rows: Row[] = [];
  try {
    for (const sessions of [1, 10]) {
      const opened = await drivers(gateway, sessions);
      for (let round = 0; round < ROUNDS; round++) {
        for (const name of ['off', 'on']) {
          const loop = calls(opened, 'tools/call', { name: `${name}__echo`, arguments: { text: 'hi' } });
          const result = await runClosedLoop(loop, {
            warmupMs: WARMUP_MS,
            measureMs: MEASURE_MS,
            childPids: gateway.pids(),
          });
          rows.push({ subject: `tools/call ${name} x${sessions} #${round + 1}`, result });
        }
      }
      await Promise.all(opened.map((driver) => driver.session.close()));
    }
    const [lister] = await drivers(gateway, 1);
    const list = calls([lister as SessionDriver], 'tools/list', {});
    rows.push({
      subject: 'tools/list (both servers) x1',
      result: await runClosedLoop(list, { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, childPids: [] }),
    });
  } finally {
    await gateway.close();
  }
  const lines = rows.map(({ subject, result }) => {
    const [p50 = NaN, p99 = NaN] = result.latencies.percentiles(50, 99);
    return [
      subject,
      (result.calls / result.seconds).toFixed(0),
      micros(p50),
      micros(p99),
      String(result.errors),
    ];
  });
  console.log(table([['subject', 'calls/s', 'p50 µs', 'p99 µs', 'errors'], ...lines]));
}

await main();
