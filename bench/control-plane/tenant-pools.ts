/**
 * Part 2: 200 tenants, each with a tenant-mode pool. In-process (`createGateway` with a SQLite
 * store in a temp dir, sessions driven through `gateway.connect`), so the numbers are the
 * gateway's and not an HTTP client's. Two fixture servers: `sh` (shared, one process) and `tn`
 * (mode tenant, pool min 0 and a short idleTimeout, so an unused tenant pool stops its process).
 *
 * 1. Churn, then baseline. Spawning and stopping 200 children grows this process for good by a
 *    few MB (code compiled for paths first taken then, allocator pages), whatever the tenants.
 *    So before the baseline, 8 config tenants start and retire their tenant pools 200 times, 8
 *    at once, as the measured phase will; the baseline is then a gateway that has done the same
 *    work with no store tenant. What the churn itself added is printed too.
 * 2. 200 tenants are created through the Store API and applied (`gateway.applyStore`).
 * 3. Cold start: the first 20 tenants one at a time (open a session: initialize spawns the
 *    tenant's process to learn its capabilities; then the first `tn__echo`); the other 180 a few
 *    at a time, at most 16 tenant processes alive at once.
 * 4. Warm: 5 tenants in turn; per round, one `tn__echo` and one `sh__echo` on the same session,
 *    one call in flight, the order alternating, so both see the same machine.
 * 5. Idle: sessions closed, every tenant process evicted; memory against the baseline.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { fixtureServer, isRunning, testConfig } from '../../test/support/harness.ts';
import { SessionDriver, type SessionReply } from '../lib/session-driver.ts';
import { fixed, LatencySamples, millis, since } from '../lib/stats.ts';
import {
  TENANT_PLAN as PLAN,
  reportTenantPools,
  type Cold,
  type Memory,
  type Warm,
} from './tenant-pools-report.ts';
import type { Target } from './targets.ts';

const ECHO = { text: 'hello' };
const TIMEOUTS = { startup: '20s', call: '10s', shutdown: '1s' };
const CHURN_TENANTS = Array.from({ length: PLAN.coldBatch }, (_, index) => `churn-${index}`);

/**
 * Memory after the GC V8 runs under memory pressure ('last-resort'): a plain full GC leaves the
 * young generation at whatever size the recent allocation rate grew it to (up to 32 MB here, all
 * resident), which swung the RSS between runs by more than the 200 tenants hold.
 */
async function settledMemory(): Promise<Memory> {
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
    await sleep(50);
  }
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rss, heapUsed, heapTotal, external };
}

function tenantProcesses(gateway: Gateway): number[] {
  return gateway.servers.get('tn')?.pids() ?? [];
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

async function roomFor(gateway: Gateway, starting: number): Promise<void> {
  const room = PLAN.maxLiveTenantProcesses - starting;
  if (!(await until(() => tenantProcesses(gateway).length <= room, PLAN.evictWaitMs))) {
    throw new Error(`tenant processes did not stop: ${tenantProcesses(gateway).length} alive`);
  }
}

function ok(reply: SessionReply): boolean {
  return reply.error === undefined && reply.result?.isError !== true;
}

async function call(driver: SessionDriver, tool: string): Promise<void> {
  const reply = await driver.request('tools/call', { name: tool, arguments: ECHO });
  if (!ok(reply)) throw new Error(`${tool} failed: ${JSON.stringify(reply.error ?? reply.result)}`);
}

async function open(gateway: Gateway, tenantId: string): Promise<SessionDriver> {
  const driver = new SessionDriver(gateway.connect(localPrincipal(tenantId)));
  await driver.initialize();
  return driver;
}

/** A tenant's first session and its first call; the session's initialize starts the tenant's process. */
async function firstCall(gateway: Gateway, tenantId: string): Promise<{ open: number; call: number }> {
  const start = process.hrtime.bigint();
  const driver = await open(gateway, tenantId);
  const opened = since(start);
  const called = process.hrtime.bigint();
  try {
    await call(driver, 'tn__echo');
    return { open: opened, call: since(called) };
  } finally {
    await driver.session.close();
  }
}

/** The spawn-and-stop work of the measured phase, on config tenants, retiring each pool at once. */
async function churn(gateway: Gateway): Promise<void> {
  for (let started = 0; started < PLAN.tenants; started += CHURN_TENANTS.length) {
    await roomFor(gateway, CHURN_TENANTS.length);
    await Promise.all(CHURN_TENANTS.map((id) => firstCall(gateway, id)));
    for (const id of CHURN_TENANTS) gateway.servers.get('tn')?.retireTenant(id);
  }
}

async function useEveryTenant(gateway: Gateway, ids: readonly string[]): Promise<Cold> {
  const cold: Cold = {
    oneByOne: new LatencySamples(),
    opens: new LatencySamples(),
    calls: new LatencySamples(),
    batched: new LatencySamples(),
  };
  for (const id of ids.slice(0, PLAN.coldOneByOne)) {
    await roomFor(gateway, 1);
    const { open: opened, call: took } = await firstCall(gateway, id);
    cold.opens.add(opened);
    cold.calls.add(took);
    cold.oneByOne.add(opened + took);
  }
  const rest = ids.slice(PLAN.coldOneByOne);
  for (let next = 0; next < rest.length; next += PLAN.coldBatch) {
    await roomFor(gateway, PLAN.coldBatch);
    const batch = rest.slice(next, next + PLAN.coldBatch);
    const results = await Promise.all(batch.map((id) => firstCall(gateway, id)));
    for (const result of results) cold.batched.add(result.open + result.call);
  }
  return cold;
}

/**
 * One tenant at a time, so that its process and the shared one are called equally often: a
 * child called less often answers more slowly (colder caches, deeper sleep). With 5 tenants
 * taking turns against the one shared process, the tenant pool measured 150-380 µs slower; with
 * one shared server per tenant, each called as often as that tenant's process, 0. That was the
 * children's cost, not the gateway's. Each tenant's child first gets as many calls as it takes
 * to be as warm as the shared one.
 */
async function warmCalls(gateway: Gateway, ids: readonly string[]): Promise<Warm> {
  const warm: Warm = { tenant: new LatencySamples(), shared: new LatencySamples() };
  for (const id of ids) {
    const driver = await open(gateway, id);
    try {
      for (let made = 0; made < PLAN.warmupCalls; made++) {
        await call(driver, 'tn__echo');
        await call(driver, 'sh__echo');
      }
      for (let round = 0; round < PLAN.warmRounds; round++) {
        const order = round % 2 === 0 ? (['tn', 'sh'] as const) : (['sh', 'tn'] as const);
        for (const server of order) {
          const start = process.hrtime.bigint();
          await call(driver, `${server}__echo`);
          (server === 'tn' ? warm.tenant : warm.shared).add(since(start));
        }
      }
    } finally {
      await driver.session.close();
    }
  }
  return warm;
}

function startedPids(file: string): number[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function tenantPoolsGateway(store: Store, startLog: string): Promise<Gateway> {
  const config = testConfig({
    gateway: { sessionLimits: { perTenant: 10_000, perPrincipal: 10_000 }, drainTimeout: '2s' },
    servers: {
      sh: fixtureServer({ mode: 'shared', pool: { min: 1, max: 1, maxInflight: 64 }, timeouts: TIMEOUTS }),
      tn: fixtureServer({
        mode: 'tenant',
        pool: { min: 0, max: 1, maxInflight: 64, idleTimeout: `${PLAN.idleTimeoutMs}ms` },
        timeouts: TIMEOUTS,
        env: { FIXTURE_START_LOG: startLog },
      }),
    },
    tenants: Object.fromEntries(CHURN_TENANTS.map((id) => [id, { name: `Churn ${id}` }])),
  });
  return createGateway(config, { log: silentLogger(), store, env: process.env });
}

export async function tenantPools(): Promise<readonly Target[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mcplane-bench-tenants-'));
  const startLog = path.join(dir, 'tenant-starts.log');
  console.log(
    `\n== Part 2: ${PLAN.tenants} tenants, each with a tenant-mode pool ==\n` +
      `in-process gateway, SQLite store in ${dir}; tn: mode tenant, pool min 0 max 1, ` +
      `idleTimeout ${PLAN.idleTimeoutMs} ms; sh: shared, 1 process`,
  );
  const store = await openStore(`sqlite:${path.join(dir, 'mcplane.db')}`);
  let gateway: Gateway | undefined;
  try {
    const g = await tenantPoolsGateway(store, startLog);
    gateway = g;
    const sharedPids = g.servers.get('sh')?.pids() ?? [];
    const fresh = await settledMemory();
    const churnStart = process.hrtime.bigint();
    await churn(g);
    await until(() => tenantProcesses(g).length === 0, PLAN.evictWaitMs);
    console.log(
      `  churn: ${PLAN.tenants} tenant pools started and retired in ${fixed(since(churnStart) / 1e9, 1)} s`,
    );
    const baseline = await settledMemory();

    const created = process.hrtime.bigint();
    const ids = Array.from({ length: PLAN.tenants }, (_, index) => `tenant-${index}`);
    for (const id of ids) await store.tenants.create({ id, name: `Tenant ${id}` }, { actor: 'bench' });
    await g.applyStore();
    console.log(`  ${PLAN.tenants} tenants created and applied in ${millis(since(created))} ms`);
    const configured = await settledMemory();
    const spawnedBefore = startedPids(startLog).length;

    const usedStart = process.hrtime.bigint();
    const cold = await useEveryTenant(g, ids);
    console.log(`  every tenant's pool used once in ${fixed(since(usedStart) / 1e9, 1)} s`);
    const warm = await warmCalls(g, ids.slice(0, PLAN.warmTenants));
    const evictStart = process.hrtime.bigint();
    const evicted = await until(() => tenantProcesses(g).length === 0, PLAN.evictWaitMs);
    const evictedIn = since(evictStart);
    const idle = await settledMemory();
    const spawned = startedPids(startLog);
    return reportTenantPools({
      cold,
      warm,
      memory: { fresh, baseline, configured, idle },
      spawned: spawned.length - spawnedBefore,
      alive: spawned.filter(isRunning),
      left: tenantProcesses(g).length,
      evicted,
      evictedIn,
      sharedAlive: sharedPids.filter(isRunning).length,
    });
  } finally {
    const pids = [...(gateway?.pids() ?? []), ...startedPids(startLog)];
    await gateway?.close();
    await store.close();
    for (const pid of pids.filter(isRunning)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
