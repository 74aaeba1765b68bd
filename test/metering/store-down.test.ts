import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import { sqliteBackend } from '../admin/admin-harness.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { eventually, fixtureServer } from '../support/harness.ts';

describe('metering while the store refuses usage writes', () => {
  const backend = sqliteBackend();
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
  });
  afterAll(async () => {
    await backend.cleanup();
  });

  it('calls still succeed, memory stays within bufferLimit, and what does not fit is counted as dropped; once the store is back the rest is written', async () => {
    const real = await backend.open();
    let down = true;
    let attempts = 0;
    const store: Store = {
      ...real,
      usage: {
        ...real.usage,
        record: (events, charges) => {
          attempts++;
          return down ? Promise.reject(new Error('store down')) : real.usage.record(events, charges);
        },
      },
    };
    const http = await startHttpGateway(
      {
        servers: { kb: fixtureServer({ mode: 'shared' }) },
        tenants: { acme: { name: 'Acme', apiKeys: [] } },
        gateway: {
          auth: { anonymous: { tenant: 'acme', scopes: ['*'] } },
          metering: { flushInterval: '20ms', batchSize: 2, bufferLimit: 5, costSampleInterval: '10m' },
        },
      },
      { store },
    );
    const meter = http.gateway.meter;
    if (!meter) throw new Error('metering is on with a store');
    const { client } = await connectHttpClient(http, {});
    for (let n = 0; n < 12; n++) {
      const result = await client.callTool({ name: 'kb__echo', arguments: { n } });
      expect(result.isError).not.toBe(true);
    }
    await eventually(() => attempts > 2);
    const stats = meter.stats();
    expect(stats.buffered).toBeLessThanOrEqual(5);
    expect(stats.dropped).toBeGreaterThanOrEqual(12 - 5 - 2);
    expect(stats.failedWrites).toBeGreaterThan(0);
    expect(stats.written).toBe(0);

    down = false;
    await meter.flush();
    await meter.flush();
    await meter.flush();
    const after = meter.stats();
    expect(after.buffered).toBe(0);
    expect(after.written + after.dropped).toBe(12);
    const day = new Date().toISOString().slice(0, 10);
    const [row] = await real.usage.summarize('acme', {
      since: `${day}T00:00:00Z`,
      until: new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString(),
      groupBy: 'day',
    });
    expect(row?.calls).toBe(after.written);
  });
});
