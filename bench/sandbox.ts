/**
 * What a sandbox costs (`node bench/sandbox.ts`): the time to start a server process (spawn to
 * its catalog read, the probe path) plain, under bubblewrap for lifetime only, and sandboxed
 * with rlimits; and closed-loop `tools/call echo` at one session on a shared process (no CPU
 * measurement) and on a tenant process plain and sandboxed, where the gateway measures each
 * call's CPU time from /proc. Prints numbers;
 * never asserts. Needs a working bwrap.
 */
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGateway } from '../src/gateway.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { testConfig } from '../test/support/harness.ts';
import { runClosedLoop, type LoopResult } from './lib/closed-loop.ts';
import { loadAverage } from './lib/report.ts';
import { SessionDriver } from './lib/session-driver.ts';
import { micros, millis, table } from './lib/stats.ts';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/sandbox-server.ts', import.meta.url));
const STARTS = 8;
const WARMUP_MS = 500;
const MEASURE_MS = 2_000;
const ROUNDS = 2;
const WATCHDOG_MS = 120_000;

const server = (extra: Record<string, unknown>): Record<string, unknown> => ({
  command: process.execPath,
  args: [FIXTURE],
  mode: 'tenant',
  pool: { min: 1, max: 1, maxInflight: 1 },
  timeouts: { startup: '10s', call: '10s', shutdown: '1s' },
  ...extra,
});
const SANDBOX = {
  mounts: [{ path: dirname(FIXTURE) }],
  rlimits: { memory: '2gb', cpu: '60s', openFiles: 256 },
};

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('bench/sandbox: still running after the watchdog; giving up');
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  console.log(`load average at start: ${loadAverage()} (a shared machine: busy-machine numbers)`);
  const gateway = await createGateway(
    testConfig({
      gateway: { processIsolation: 'bwrap' },
      servers: { plain: server({}), boxed: server({ sandbox: SANDBOX }), shared: server({ mode: 'shared' }) },
    }),
    { log: silentLogger(), env: process.env },
  );
  const unisolated = await createGateway(testConfig({ servers: { direct: server({}) } }), {
    log: silentLogger(),
    env: process.env,
  });
  const starts: string[][] = [];
  const loops: { subject: string; result: LoopResult }[] = [];
  try {
    for (const [label, target, name] of [
      ['direct (no bwrap)', unisolated, 'direct'],
      ['bwrap, lifetime only', gateway, 'plain'],
      ['sandboxed + rlimits', gateway, 'boxed'],
    ] as const) {
      const times: number[] = [];
      for (let i = 0; i < STARTS; i++) {
        const began = process.hrtime.bigint();
        await target.servers.get(name)?.probe('acme', {}, silentLogger());
        times.push(Number(process.hrtime.bigint() - began));
      }
      times.sort((a, b) => a - b);
      starts.push([label, millis(times[Math.floor(times.length / 2)] ?? NaN), millis(times.at(-1) ?? NaN)]);
    }
    for (const name of Array.from({ length: ROUNDS }, () => ['shared', 'plain', 'boxed']).flat()) {
      const driver = new SessionDriver(gateway.connect(localPrincipal('acme')));
      await driver.initialize();
      const call = async (): Promise<boolean> =>
        (await driver.request('tools/call', { name: `${name}__echo`, arguments: { text: 'hi' } })).error ===
        undefined;
      const result = await runClosedLoop([call], {
        warmupMs: WARMUP_MS,
        measureMs: MEASURE_MS,
        childPids: gateway.pids(),
      });
      const what = name === 'shared' ? 'shared process (CPU not measured)' : `${name} tenant process`;
      loops.push({ subject: `tools/call echo, ${what} x1`, result });
      await driver.session.close();
    }
  } finally {
    await Promise.all([gateway.close(), unisolated.close()]);
  }
  console.log(`\nprocess start (spawn to catalog, ${STARTS} starts)`);
  console.log(table([['how', 'p50 ms', 'max ms'], ...starts]));
  console.log('\ncalls, one session (CPU per call measured on tenant processes: one call in flight)');
  const lines = loops.map(({ subject, result }) => {
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
