import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { sqliteBackend } from '../admin/admin-harness.ts';
import { bearer, connectHttpClient, stopHttpGateways } from '../http/http-harness.ts';
import { resolveProcessIsolation } from '../../src/upstream/process-isolation.ts';
import { fixtureServer } from '../support/harness.ts';
import { startMetered, tenantWithKeys, type Metered } from './metering-harness.ts';

const CONFIG = {
  servers: {
    kb: fixtureServer({ mode: 'tenant', pool: { min: 1, max: 1 }, cost: { perCpuSecond: 10 } }),
    shared: fixtureServer({ mode: 'shared', pool: { min: 1, max: 1 }, cost: { perCpuSecond: 1 } }),
  },
  // The test samples by hand.
  gateway: { metering: { flushInterval: '50ms', costSampleInterval: '10m' } },
};

const isolation = resolveProcessIsolation('auto', process.env);

type Row = { group: string; calls: number; cpuSeconds: number; wallSeconds: number; cost: number };

async function byServer(metered: Metered, tenant: string): Promise<Record<string, Row>> {
  const answer = await metered.root('GET', `/tenants/${tenant}/usage?groupBy=server`);
  return Object.fromEntries((answer.body.rows as Row[]).map((row) => [row.group, row]));
}

async function burn(metered: Metered, key: string, name: string, ms: number): Promise<void> {
  const { client } = await connectHttpClient(metered.http, bearer(key));
  await client.callTool({ name, arguments: { ms } });
  await client.close();
}

describe('cost attribution of child processes', () => {
  const backend = sqliteBackend();
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it("a tenant pool's CPU and wall time, its startup included, is its tenant's alone; a shared process is split by in-flight time", async () => {
    const metered = await startMetered(backend, CONFIG);
    const meter = metered.http.gateway.meter;
    if (!meter) throw new Error('metering is on with a store');
    const blue = await tenantWithKeys(metered, 'blue');
    const red = await tenantWithKeys(metered, 'red');
    const green = await tenantWithKeys(metered, 'green');
    // The shared process's own startup is no tenant's.
    meter.sample();
    const unattributed = meter.stats().unattributedCpuSeconds;
    expect(unattributed).toBeGreaterThan(0);

    await burn(metered, blue.memberKey, 'kb__burn', 900);
    await burn(metered, red.memberKey, 'kb__burn', 100);
    await burn(metered, blue.memberKey, 'shared__burn', 600);
    await burn(metered, red.memberKey, 'shared__burn', 150);
    // Green opens a session (its tenant pool starts) and calls nothing.
    const { client } = await connectHttpClient(metered.http, bearer(green.memberKey));
    await client.listTools();
    meter.sample();

    const [b, r, g] = [
      await byServer(metered, 'blue'),
      await byServer(metered, 'red'),
      await byServer(metered, 'green'),
    ];
    // kb: each tenant's own process: blue's 900 ms of CPU and red's 100 ms, on top of each startup
    // (a child's startup CPU varies by a few hundred ms on a busy machine, hence the wide gap).
    expect(b.kb?.cpuSeconds).toBeGreaterThan(0.9);
    expect(r.kb?.cpuSeconds).toBeGreaterThan(0.1);
    expect(b.kb?.cpuSeconds).toBeGreaterThan((r.kb?.cpuSeconds ?? 0) + 0.5);
    expect(b.kb?.wallSeconds).toBeGreaterThan(0.9);
    expect(b.kb?.cost).toBeCloseTo((b.kb?.cpuSeconds ?? 0) * 10, 3);
    // A tenant pool that served nothing is charged its startup.
    expect(g.kb?.calls ?? 0).toBe(0);
    expect(g.kb?.cpuSeconds).toBeGreaterThan(0);
    expect(g.shared).toBeUndefined();
    // shared: split 600 : 150 by in-flight time, so blue pays about four times red's share.
    const blueShared = b.shared?.cpuSeconds ?? 0;
    const redShared = r.shared?.cpuSeconds ?? 0;
    expect(blueShared).toBeGreaterThan(0.3);
    expect(redShared).toBeGreaterThan(0.02);
    expect(blueShared / redShared).toBeGreaterThan(2);
    expect(blueShared / redShared).toBeLessThan(10);
    expect(meter.stats().chargedCpuSeconds).toBeGreaterThan(blueShared + redShared);
    await client.close();
  });

  it('a tool call groups its CPU under the tool and the key that made it', async () => {
    const metered = await startMetered(backend, CONFIG);
    const blue = await tenantWithKeys(metered, 'blue');
    metered.http.gateway.meter?.sample();
    await burn(metered, blue.memberKey, 'kb__burn', 300);
    metered.http.gateway.meter?.sample();
    const tools = await metered.root('GET', '/tenants/blue/usage?groupBy=tool');
    const burnRow = (tools.body.rows as Row[]).find((row) => row.group === 'burn');
    expect(burnRow?.cpuSeconds).toBeGreaterThan(0.28);
    const keys = await metered.root('GET', '/tenants/blue/usage?groupBy=key');
    const keyRow = (keys.body.rows as Row[]).find((row) => row.group === blue.memberKeyId);
    expect(keyRow?.cpuSeconds).toBeGreaterThan(0.28);
  });

  it.skipIf(isolation.kind === 'none')(
    'under bubblewrap the CPU of the server inside is counted, not only that of bwrap itself',
    async () => {
      const metered = await startMetered(backend, {
        ...CONFIG,
        gateway: { ...CONFIG.gateway, processIsolation: 'bwrap' },
      });
      const blue = await tenantWithKeys(metered, 'blue');
      await burn(metered, blue.memberKey, 'kb__burn', 300);
      metered.http.gateway.meter?.sample();
      const rows = await byServer(metered, 'blue');
      expect(rows.kb?.cpuSeconds).toBeGreaterThan(0.3);
    },
  );
});
