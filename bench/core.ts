/**
 * The core benchmark (`npm run bench`): the gateway in-process against a minimal direct stdio
 * client on the same fixture server. It prints numbers and never asserts; the exit code is 0
 * unless something crashed.
 *
 * 1. Closed-loop `tools/call` of the fixture's `echo` at 1, 10 and 100 sessions, direct and core.
 * 2. RSS added by 1,000 idle, initialized sessions on one shared pool.
 * 3. `session` mode: time from `connect` to the initialize response (which claims nothing), and
 *    from there to the answer of the session's first call, which claims a warm spare.
 */
import { spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { localPrincipal } from '../src/identity/principal.ts';
import { silentLogger } from '../src/log.ts';
import { FIXTURE, fixtureServer, testConfig } from '../test/support/harness.ts';
import { runClosedLoop, type Call } from './lib/closed-loop.ts';
import { DirectClient } from './lib/direct-client.ts';
import { machineFacts, printReport, progressLine, type Memory, type Throughput } from './lib/report.ts';
import { SessionDriver } from './lib/session-driver.ts';
import { LatencySamples, since } from './lib/stats.ts';

const WARMUP_MS = 1_000;
const MEASURE_MS = 3_000;
const CONCURRENCY = [1, 10, 100] as const;
const IDLE_SESSIONS = 1_000;
/** The issue states the RSS target for this many idle sessions. */
const RSS_TARGET_SESSIONS = 1_000;
const SESSION_MODE_OPENS = 20;
const OPEN_GAP_MS = 50;
/** The whole run must end well inside three minutes; past this it is a hang, not a result. */
const WATCHDOG_MS = 170_000;

const ECHO_ARGS = { text: 'hello' };
const TIMEOUTS = { startup: '10s', call: '10s', shutdown: '1s' };
const principal = localPrincipal('acme');
/** Thousands of sessions from one principal: far past the default session limits. */
const GATEWAY = { sessionLimits: { perTenant: 1_000_000, perPrincipal: 1_000_000 } };

function reexecWithGc(): never {
  const script = fileURLToPath(import.meta.url);
  const args = ['--expose-gc', ...process.execArgv, script, ...process.argv.slice(2)];
  const child = spawnSync(process.execPath, args, { stdio: 'inherit' });
  if (child.error) throw child.error;
  process.exit(child.status ?? 1);
}

async function collectGarbage(): Promise<void> {
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.();
    await sleep(20);
  }
}

function sharedGateway(): Promise<Gateway> {
  const echo = fixtureServer({
    mode: 'shared',
    pool: { min: 1, max: 1, maxInflight: 1000 },
    timeouts: TIMEOUTS,
  });
  return createGateway(testConfig({ gateway: GATEWAY, servers: { echo } }), { log: silentLogger() });
}

function sessionModeGateway(): Promise<Gateway> {
  const echo = fixtureServer({
    mode: 'session',
    pool: { min: SESSION_MODE_OPENS, max: 200 },
    timeouts: TIMEOUTS,
  });
  return createGateway(testConfig({ gateway: GATEWAY, servers: { echo } }), { log: silentLogger() });
}

async function openSessions(gateway: Gateway, count: number, batch = 100): Promise<SessionDriver[]> {
  const drivers: SessionDriver[] = [];
  for (let opened = 0; opened < count; opened += batch) {
    const size = Math.min(batch, count - opened);
    const next = Array.from({ length: size }, () => new SessionDriver(gateway.connect(principal)));
    await Promise.all(next.map((driver) => driver.initialize()));
    drivers.push(...next);
  }
  return drivers;
}

async function closeSessions(drivers: readonly SessionDriver[]): Promise<void> {
  await Promise.all(drivers.map((driver) => driver.session.close()));
}

const succeeded = (reply: { result?: Record<string, unknown>; error?: unknown }): boolean =>
  reply.error === undefined && reply.result?.isError !== true;

async function measure(
  subject: Throughput['subject'],
  calls: Call[],
  childPids: number[],
): Promise<Throughput> {
  const result = await runClosedLoop(calls, { warmupMs: WARMUP_MS, measureMs: MEASURE_MS, childPids });
  const row = { subject, sessions: calls.length, result };
  console.log(progressLine(row));
  return row;
}

async function measureThroughput(direct: DirectClient, gateway: Gateway): Promise<Throughput[]> {
  const results: Throughput[] = [];
  const directPids = direct.pid === undefined ? [] : [direct.pid];
  for (const sessions of CONCURRENCY) {
    const directCalls: Call[] = Array.from(
      { length: sessions },
      () => async () => succeeded(await direct.request('tools/call', { name: 'echo', arguments: ECHO_ARGS })),
    );
    results.push(await measure('direct', directCalls, directPids));

    const drivers = await openSessions(gateway, sessions);
    const coreCalls: Call[] = drivers.map(
      (driver) => async () =>
        succeeded(await driver.request('tools/call', { name: 'echo__echo', arguments: ECHO_ARGS })),
    );
    results.push(await measure('core', coreCalls, gateway.pids()));
    await closeSessions(drivers);
  }
  return results;
}

async function measureIdleMemory(gateway: Gateway): Promise<Memory> {
  await collectGarbage();
  const before = process.memoryUsage();
  const drivers = await openSessions(gateway, IDLE_SESSIONS);
  await collectGarbage();
  const after = process.memoryUsage();
  const open = gateway.sessionCount;
  await closeSessions(drivers);
  return { sessions: open, rss: after.rss - before.rss, heap: after.heapUsed - before.heapUsed };
}

async function measureSessionOpen(
  gateway: Gateway,
): Promise<{ opens: LatencySamples; firstCalls: LatencySamples }> {
  const opens = new LatencySamples();
  const firstCalls = new LatencySamples();
  const drivers: SessionDriver[] = [];
  for (let opened = 0; opened < SESSION_MODE_OPENS; opened++) {
    await sleep(OPEN_GAP_MS);
    const start = process.hrtime.bigint();
    const driver = new SessionDriver(gateway.connect(principal));
    await driver.initialize();
    opens.add(since(start));
    const called = process.hrtime.bigint();
    const first = await driver.request('tools/call', { name: 'echo__echo', arguments: ECHO_ARGS });
    firstCalls.add(since(called));
    if (!succeeded(first)) throw new Error(`the first call failed: ${JSON.stringify(first.error)}`);
    drivers.push(driver);
  }
  await closeSessions(drivers);
  return { opens, firstCalls };
}

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${WATCHDOG_MS} ms; giving up`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  const facts = machineFacts([
    `fixture: ${FIXTURE}`,
    `closed loop: ${WARMUP_MS} ms warm-up + ${MEASURE_MS} ms measured per subject and concurrency`,
  ]);
  console.log(`mcplane core benchmark\n${facts}\n`);

  console.log(`memory: ${IDLE_SESSIONS} idle sessions on a shared pool (max 1 process)`);
  const shared = await sharedGateway();
  let direct: DirectClient | undefined;
  let memory: Memory;
  let throughput: Throughput[];
  try {
    memory = await measureIdleMemory(shared);
    console.log('throughput: closed loop, tools/call echo');
    direct = await DirectClient.start(process.execPath, [FIXTURE]);
    throughput = await measureThroughput(direct, shared);
  } finally {
    await Promise.allSettled([direct?.close(), shared.close()]);
  }

  console.log(
    `session mode: ${SESSION_MODE_OPENS} opens, ${OPEN_GAP_MS} ms apart, warm spares (min ${SESSION_MODE_OPENS})`,
  );
  const dedicated = await sessionModeGateway();
  let opens: LatencySamples;
  let firstCalls: LatencySamples;
  try {
    ({ opens, firstCalls } = await measureSessionOpen(dedicated));
  } finally {
    await dedicated.close();
  }

  printReport({
    throughput,
    memory,
    opens,
    firstCalls,
    measureMs: MEASURE_MS,
    idleTarget: RSS_TARGET_SESSIONS,
  });
}

if (typeof globalThis.gc !== 'function') reexecWithGc();
await main();
