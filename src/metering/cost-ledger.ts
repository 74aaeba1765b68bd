/**
 * Cost attribution (seed 003 §9, docs/metering.md): the CPU and wall time of upstream processes,
 * charged to tenants at every sample.
 *
 * - A process of a tenant pool, or a session-mode process, is its tenant's alone: all its CPU
 *   and wall time since it was spawned (its "expensive initialization" too) is charged to that
 *   tenant. A session-mode spare is charged to the tenant whose session claims it, from its
 *   spawn, at the first sample after the claim.
 * - A shared process's CPU and wall time in an interval is split by each caller's share of the
 *   in-flight time on it in that interval. An interval with nothing in flight is charged to no
 *   one: it is counted as unattributed (a shared process's own startup and idling).
 * - Within a tenant's share, time is split further by in-flight time per (tool, key, project),
 *   so that usage grouped by tool or key shows CPU too; time with no call in flight goes to the
 *   tenant's row with no tool or key.
 *
 * The CPU a process spends after the last sample before it exits is not seen (/proc is gone by
 * then): at most one sample interval per process.
 */
import type { CostCharge } from '../store/usage-records.ts';

/** Who a call is, for attribution. */
export type Payer = {
  readonly tenantId: string;
  readonly server: string;
  readonly tool?: string | undefined;
  readonly apiKeyId?: string | undefined;
  readonly projectId?: string | undefined;
};

export type ProcessReading = {
  readonly pid: number;
  readonly server: string;
  readonly mode: 'shared' | 'tenant' | 'session';
  /** The tenant charged wholly; undefined for a shared process or an unclaimed spare. */
  readonly tenantId: string | undefined;
  /** Epoch ms of the spawn. */
  readonly startedAt: number;
};

export type CostSources = {
  /** Every live process now. */
  readings(): Iterable<ProcessReading>;
  /** CPU seconds of a process tree, or undefined when it is gone. */
  cpuSeconds(pid: number): number | undefined;
  /** `cost.perCpuSecond` of a server. */
  perCpuSecond(server: string): number;
  /** Epoch ms. */
  now(): number;
};

type Exchange = { readonly payer: Payer; countedFrom: number };

type Seen = { cpu: number; at: number };

export type CostTotals = {
  /** CPU seconds charged to tenants, and seen on shared processes with nothing in flight. */
  readonly chargedCpuSeconds: number;
  readonly unattributedCpuSeconds: number;
};

/** One field of a payer's key: its length first, so that no two payers share a key. */
function keyPart(value: string | undefined): string {
  return value === undefined ? '-' : `${value.length}:${value}`;
}

function payerKey(payer: Payer): string {
  return `${keyPart(payer.tenantId)}${keyPart(payer.server)}${keyPart(payer.tool)}${keyPart(payer.apiKeyId)}${keyPart(payer.projectId)}`;
}

export class CostLedger {
  readonly #sources: CostSources;
  /** Per pid: in-flight ms accumulated this interval, by payer. */
  readonly #inflight = new Map<number, Map<string, { payer: Payer; ms: number }>>();
  readonly #active = new Map<number, Set<Exchange>>();
  readonly #seen = new Map<number, Seen>();
  #charged = 0;
  #unattributed = 0;

  constructor(sources: CostSources) {
    this.#sources = sources;
  }

  totals(): CostTotals {
    return { chargedCpuSeconds: this.#charged, unattributedCpuSeconds: this.#unattributed };
  }

  /** A call's exchange with process `pid` begins; the returned function ends it. */
  begin(pid: number, payer: Payer): () => void {
    const exchange: Exchange = { payer, countedFrom: this.#sources.now() };
    let active = this.#active.get(pid);
    if (!active) {
      active = new Set();
      this.#active.set(pid, active);
    }
    active.add(exchange);
    return () => {
      if (!active.delete(exchange)) return;
      this.#count(pid, exchange, this.#sources.now());
    };
  }

  /** Reads every process's CPU and returns the charges since the previous sample. */
  sample(): CostCharge[] {
    const now = this.#sources.now();
    const at = new Date(now).toISOString();
    const charges: CostCharge[] = [];
    const live = new Set<number>();
    for (const reading of this.#sources.readings()) {
      live.add(reading.pid);
      for (const exchange of this.#active.get(reading.pid) ?? []) this.#count(reading.pid, exchange, now);
      // A spare no session has claimed: charged, from its spawn, once one does.
      if (reading.mode === 'session' && reading.tenantId === undefined) continue;
      const cpu = this.#sources.cpuSeconds(reading.pid);
      if (cpu === undefined) continue;
      const before = this.#seen.get(reading.pid) ?? { cpu: 0, at: reading.startedAt };
      this.#seen.set(reading.pid, { cpu, at: now });
      const shares = this.#takeShares(reading.pid);
      const cpuDelta = Math.max(0, cpu - before.cpu);
      const wallDelta = Math.max(0, now - before.at) / 1000;
      charges.push(...this.#split(reading, shares, cpuDelta, wallDelta, at));
    }
    for (const pid of this.#seen.keys()) if (!live.has(pid)) this.#seen.delete(pid);
    for (const pid of this.#inflight.keys()) if (!live.has(pid)) this.#inflight.delete(pid);
    for (const [pid, active] of this.#active)
      if (!live.has(pid) && active.size === 0) this.#active.delete(pid);
    return charges.filter((charge) => charge.cpuUs > 0 || charge.wallUs > 0);
  }

  #count(pid: number, exchange: Exchange, now: number): void {
    const ms = Math.max(0, now - exchange.countedFrom);
    exchange.countedFrom = now;
    let byPayer = this.#inflight.get(pid);
    if (!byPayer) {
      byPayer = new Map();
      this.#inflight.set(pid, byPayer);
    }
    const key = payerKey(exchange.payer);
    const entry = byPayer.get(key);
    if (entry) entry.ms += ms;
    else byPayer.set(key, { payer: exchange.payer, ms });
  }

  #takeShares(pid: number): { payer: Payer; ms: number }[] {
    const shares = [...(this.#inflight.get(pid)?.values() ?? [])].filter((share) => share.ms > 0);
    this.#inflight.delete(pid);
    return shares;
  }

  #split(
    reading: ProcessReading,
    shares: { payer: Payer; ms: number }[],
    cpu: number,
    wall: number,
    at: string,
  ): CostCharge[] {
    const owner = reading.mode === 'shared' ? undefined : reading.tenantId;
    // A tenant's own process: only its own calls share it (a grantee's call on an owner's pool
    // is the owner's cost, as the process is).
    const payers = owner === undefined ? shares : shares.filter((share) => share.payer.tenantId === owner);
    const total = payers.reduce((sum, share) => sum + share.ms, 0);
    const rate = this.#sources.perCpuSecond(reading.server);
    const charge = (payer: Payer, fraction: number): CostCharge => {
      const cpuSeconds = cpu * fraction;
      return {
        at,
        tenantId: payer.tenantId,
        server: reading.server,
        ...(payer.tool === undefined ? {} : { tool: payer.tool }),
        ...(payer.apiKeyId === undefined ? {} : { apiKeyId: payer.apiKeyId }),
        ...(payer.projectId === undefined ? {} : { projectId: payer.projectId }),
        cpuUs: Math.round(cpuSeconds * 1e6),
        wallUs: Math.round(wall * fraction * 1e6),
        cost: cpuSeconds * rate,
      };
    };
    if (total === 0) {
      if (owner === undefined) {
        this.#unattributed += cpu;
        return [];
      }
      this.#charged += cpu;
      return [charge({ tenantId: owner, server: reading.server }, 1)];
    }
    this.#charged += cpu;
    return payers.map((share) => charge(share.payer, share.ms / total));
  }
}
