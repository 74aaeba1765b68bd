/** What part 2 (200 tenants with tenant-mode pools) measures, how it prints it, and its targets. */
import { fixed, megabytes, micros, millis, type LatencySamples } from '../lib/stats.ts';
import { printTargets, type Target } from './targets.ts';

export const TENANT_PLAN = {
  tenants: 200,
  coldOneByOne: 20,
  coldBatch: 8,
  /** Tenant processes alive at once while the pools are first used; the rest wait for eviction. */
  maxLiveTenantProcesses: 16,
  warmTenants: 5,
  warmRounds: 500,
  warmupCalls: 1_000,
  idleTimeoutMs: 1_000,
  /** Eviction checks run every max(1 s, idleTimeout / 2); this is far past both. */
  evictWaitMs: 30_000,
} as const;

export type Memory = {
  readonly rss: number;
  readonly heapUsed: number;
  /** What V8 has committed for its heap, used or not. */
  readonly heapTotal: number;
  readonly external: number;
};

export type Cold = {
  /** Initialize plus first call, for the tenants started one at a time. */
  readonly oneByOne: LatencySamples;
  readonly opens: LatencySamples;
  readonly calls: LatencySamples;
  /** Initialize plus first call, for the tenants started a batch at a time. */
  readonly batched: LatencySamples;
};

export type Warm = { readonly tenant: LatencySamples; readonly shared: LatencySamples };

export type TenantPoolsResult = {
  readonly cold: Cold;
  readonly warm: Warm;
  readonly memory: {
    /** Right after start, before any tenant pool ran. */
    readonly fresh: Memory;
    /** After the churn, with no store tenant: what the 200 tenants are measured against. */
    readonly baseline: Memory;
    readonly configured: Memory;
    readonly idle: Memory;
  };
  /** Tenant processes spawned from the 200 tenants' first use on. */
  readonly spawned: number;
  readonly alive: readonly number[];
  /** Processes the tenant-mode server still lists. */
  readonly left: number;
  readonly evicted: boolean;
  readonly evictedIn: number;
  readonly sharedAlive: number;
};

const MB = 1024 * 1024;
const signed = (bytes: number): string => `${bytes >= 0 ? '+' : ''}${megabytes(bytes)} MB`;

function memoryLines({ fresh, baseline, configured, idle }: TenantPoolsResult['memory']): string {
  const row = (label: string, at: Memory, from: Memory): string =>
    `  ${label.padEnd(52)} RSS ${signed(at.rss - from.rss)}, ` +
    `heap used ${signed(at.heapUsed - from.heapUsed)}, committed ${signed(at.heapTotal - from.heapTotal)}, external ${signed(at.external - from.external)}`;
  return [
    `memory of this process (the gateway and the benchmark driving it), each after a last-resort GC (what V8 does under memory pressure):`,
    `  at start: RSS ${megabytes(fresh.rss)} MB, heap used ${megabytes(fresh.heapUsed)} MB`,
    row(`after the churn (${TENANT_PLAN.tenants} pools started and stopped)`, baseline, fresh),
    row(`${TENANT_PLAN.tenants} store tenants configured, never used`, configured, baseline),
    row(`${TENANT_PLAN.tenants} tenants, every pool used, then evicted`, idle, baseline),
  ].join('\n');
}

export function reportTenantPools(m: TenantPoolsResult): readonly Target[] {
  const [t50 = NaN, t99 = NaN] = m.warm.tenant.percentiles(50, 99);
  const [s50 = NaN, s99 = NaN] = m.warm.shared.percentiles(50, 99);
  const [c50 = NaN, cmax = NaN] = m.cold.oneByOne.percentiles(50, 100);
  const [o50 = NaN] = m.cold.opens.percentiles(50);
  const [f50 = NaN] = m.cold.calls.percentiles(50);
  const [b50 = NaN, bmax = NaN] = m.cold.batched.percentiles(50, 100);
  console.log(
    `\nwarm calls, ${m.warm.tenant.count} each, one in flight, on ${TENANT_PLAN.warmTenants} tenants in turn:\n` +
      `  tenant pool (tn__echo): p50 ${micros(t50)} µs, p99 ${micros(t99)} µs, mean ${micros(m.warm.tenant.mean)} µs\n` +
      `  shared pool (sh__echo): p50 ${micros(s50)} µs, p99 ${micros(s99)} µs, mean ${micros(m.warm.shared.mean)} µs\n` +
      `  added by the tenant pool: p50 ${micros(t50 - s50)} µs, p99 ${micros(t99 - s99)} µs`,
  );
  console.log(
    `cold start of a new tenant (initialize, which spawns its process, + first tools/call), ` +
      `${m.cold.oneByOne.count} one at a time: p50 ${millis(c50)} ms, max ${millis(cmax)} ms ` +
      `(initialize p50 ${millis(o50)} ms, then the call p50 ${millis(f50)} ms);\n` +
      `  the other ${m.cold.batched.count}, ${TENANT_PLAN.coldBatch} at once: p50 ${millis(b50)} ms, max ${millis(bmax)} ms`,
  );
  console.log(
    `processes: ${m.spawned} tenant processes spawned (${TENANT_PLAN.tenants} first uses, then the ${TENANT_PLAN.warmTenants} warm ` +
      `tenants again, as their pools had been evicted); after the last use all ` +
      `evicted: ${m.evicted ? `yes, in ${millis(m.evictedIn)} ms` : 'NO'}; tenant processes alive now: ` +
      `${m.alive.length}; shared process alive: ${m.sharedAlive}`,
  );
  console.log(memoryLines(m.memory));
  const { idle, baseline } = m.memory;
  const rssAdded = (idle.rss - baseline.rss) / MB;
  const heapAdded = (idle.heapUsed - baseline.heapUsed) / MB;
  return printTargets('Part 2', [
    {
      part: 2,
      target: 'warm tenant pool vs shared pool, p50 added',
      goal: '< 10 ms',
      measured: `${micros(t50 - s50)} µs`,
      pass: t50 - s50 < 10e6,
    },
    {
      part: 2,
      target: 'warm tenant pool vs shared pool, p99 added',
      goal: '< 10 ms',
      measured: `${micros(t99 - s99)} µs`,
      pass: t99 - s99 < 10e6,
    },
    {
      part: 2,
      target: 'cold start of a new tenant, p50',
      goal: 'report',
      measured: `${millis(c50)} ms`,
      pass: Number.isFinite(c50),
    },
    {
      part: 2,
      target: 'tenant processes left after idle eviction',
      goal: '0',
      measured: `${m.alive.length}`,
      pass: m.evicted && m.left === 0 && m.alive.length === 0,
    },
    {
      part: 2,
      target: `RSS for ${TENANT_PLAN.tenants} tenants, pools evicted`,
      goal: '<= 20 MB',
      measured: `${fixed(rssAdded, 1)} MB`,
      pass: rssAdded <= 20,
    },
    {
      part: 2,
      target: `heap retained for ${TENANT_PLAN.tenants} tenants`,
      goal: '<= 20 MB',
      measured: `${fixed(heapAdded, 1)} MB`,
      pass: heapAdded <= 20,
    },
  ]);
}
