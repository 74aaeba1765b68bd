import { describe, expect, it } from 'vitest';
import { CostLedger, type ProcessReading } from '../../src/metering/cost-ledger.ts';

/** A ledger over fake processes whose CPU the test sets, on a clock the test moves. */
function ledger(processes: ProcessReading[]) {
  const cpu = new Map<number, number>();
  let now = 1_000_000;
  const ledger = new CostLedger({
    readings: () => processes,
    cpuSeconds: (pid) => cpu.get(pid),
    perCpuSecond: (server) => (server === 'kb' ? 10 : 0),
    now: () => now,
  });
  return {
    ledger,
    setCpu: (pid: number, seconds: number) => cpu.set(pid, seconds),
    advance: (ms: number) => (now += ms),
    startedAt: now,
  };
}

const byTenant = (charges: { tenantId: string; cpuUs: number }[]) => {
  const sums: Record<string, number> = {};
  for (const charge of charges) sums[charge.tenantId] = (sums[charge.tenantId] ?? 0) + charge.cpuUs;
  return sums;
};

describe('cost attribution', () => {
  it("a tenant pool's process is charged wholly to its tenant, its startup included, even with no call", () => {
    const t = ledger([]);
    const processes: ProcessReading[] = [
      { pid: 1, server: 'kb', mode: 'tenant', tenantId: 'acme', startedAt: 0 },
    ];
    const fixed = ledger(processes);
    fixed.setCpu(1, 0.3);
    fixed.advance(2000);
    const charges = fixed.ledger.sample();
    expect(charges).toEqual([
      expect.objectContaining({ tenantId: 'acme', server: 'kb', cpuUs: 300_000, cost: 3 }),
    ]);
    expect(charges[0]?.wallUs).toBeGreaterThan(0);
    expect(t.ledger.sample()).toEqual([]);
  });

  it("a tenant's process charges its tenant's calls by in-flight time, and a grantee's call is the owner's cost", () => {
    const t = ledger([{ pid: 1, server: 'kb', mode: 'tenant', tenantId: 'acme', startedAt: 0 }]);
    t.ledger.sample();
    const search = t.ledger.begin(1, { tenantId: 'acme', server: 'kb', tool: 'search', apiKeyId: 'k1' });
    const grantee = t.ledger.begin(1, { tenantId: 'globex', server: 'kb', tool: 'search' });
    t.advance(1000);
    search();
    grantee();
    t.setCpu(1, 1);
    const charges = t.ledger.sample();
    expect(byTenant(charges)).toEqual({ acme: 1_000_000 });
    expect(charges).toEqual([expect.objectContaining({ tool: 'search', apiKeyId: 'k1', cpuUs: 1_000_000 })]);
  });

  it('payers whose names would run together stay apart: a tool named like a key is not that key', () => {
    const t = ledger([{ pid: 1, server: 'kb', mode: 'tenant', tenantId: 'acme', startedAt: 0 }]);
    t.ledger.sample();
    const byTool = t.ledger.begin(1, { tenantId: 'acme', server: 'kb', tool: 'k1' });
    const byKey = t.ledger.begin(1, { tenantId: 'acme', server: 'kb', apiKeyId: 'k1' });
    const joined = t.ledger.begin(1, { tenantId: 'acme', server: 'kb', tool: '1:k', apiKeyId: '1' });
    t.advance(1000);
    byTool();
    byKey();
    joined();
    t.setCpu(1, 0.3);
    const charges = t.ledger.sample();
    expect(charges).toHaveLength(3);
    expect(charges).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tool: 'k1', cpuUs: 100_000 }),
        expect.objectContaining({ apiKeyId: 'k1', cpuUs: 100_000 }),
        expect.objectContaining({ tool: '1:k', apiKeyId: '1', cpuUs: 100_000 }),
      ]),
    );
    expect(charges.find((charge) => charge.tool === 'k1')).not.toHaveProperty('apiKeyId');
  });

  it("a shared process is split by each tenant's share of the in-flight time", () => {
    const t = ledger([{ pid: 7, server: 'shared', mode: 'shared', tenantId: undefined, startedAt: 0 }]);
    t.setCpu(7, 0.5);
    t.ledger.sample();
    // acme has a call in flight for 3 s, globex for 1 s.
    const acme = t.ledger.begin(7, { tenantId: 'acme', server: 'shared', tool: 'a' });
    t.advance(1000);
    const globex = t.ledger.begin(7, { tenantId: 'globex', server: 'shared', tool: 'b' });
    t.advance(1000);
    globex();
    t.advance(1000);
    acme();
    t.setCpu(7, 0.5 + 4);
    const charges = t.ledger.sample();
    expect(byTenant(charges)).toEqual({ acme: 3_000_000, globex: 1_000_000 });
    // Its startup CPU (before anything was in flight) is no tenant's.
    expect(t.ledger.totals()).toEqual({ chargedCpuSeconds: 4, unattributedCpuSeconds: 0.5 });
  });

  it('a call still in flight at a sample is charged for its part so far, and the rest at the next', () => {
    const t = ledger([{ pid: 7, server: 'shared', mode: 'shared', tenantId: undefined, startedAt: 0 }]);
    t.ledger.sample();
    const acme = t.ledger.begin(7, { tenantId: 'acme', server: 'shared' });
    const globex = t.ledger.begin(7, { tenantId: 'globex', server: 'shared' });
    t.advance(1000);
    globex();
    t.setCpu(7, 2);
    expect(byTenant(t.ledger.sample())).toEqual({ acme: 1_000_000, globex: 1_000_000 });
    t.advance(1000);
    acme();
    t.setCpu(7, 3);
    expect(byTenant(t.ledger.sample())).toEqual({ acme: 1_000_000 });
  });

  it('a session-mode spare is charged from its spawn to the tenant whose session claims it, and nothing before', () => {
    const reading: { -readonly [K in keyof ProcessReading]: ProcessReading[K] } = {
      pid: 3,
      server: 'kb',
      mode: 'session',
      tenantId: undefined,
      startedAt: 0,
    };
    const t = ledger([reading]);
    reading.startedAt = t.startedAt;
    t.setCpu(3, 0.2);
    expect(t.ledger.sample()).toEqual([]);
    reading.tenantId = 'globex';
    t.advance(5000);
    t.setCpu(3, 0.25);
    const charges = t.ledger.sample();
    expect(charges).toEqual([
      expect.objectContaining({ tenantId: 'globex', cpuUs: 250_000, wallUs: 5_000_000 }),
    ]);
  });

  it('a process that is gone is forgotten; one whose CPU cannot be read is skipped', () => {
    const processes: ProcessReading[] = [
      { pid: 9, server: 'kb', mode: 'tenant', tenantId: 'acme', startedAt: 0 },
    ];
    const t = ledger(processes);
    expect(t.ledger.sample()).toEqual([]);
    processes.pop();
    t.ledger.begin(9, { tenantId: 'acme', server: 'kb' })();
    expect(t.ledger.sample()).toEqual([]);
  });
});
