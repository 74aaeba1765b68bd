import { afterAll, describe, expect, it } from 'vitest';
import { sqliteBackend } from '../admin/admin-harness.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';

const DAY = 86_400_000;

describe('a graceful stop on a SQLite file store', () => {
  const backend = sqliteBackend();
  afterAll(async () => {
    await backend.cleanup();
  });

  it('writes every call still queued through the writer thread before the gateway is closed', async () => {
    const store = await backend.open();
    const http = await startHttpGateway(
      {
        servers: { kb: fixtureServer({ mode: 'shared' }) },
        tenants: { acme: { name: 'Acme', apiKeys: [] } },
        gateway: {
          auth: { anonymous: { tenant: 'acme', scopes: ['*'] } },
          // Nothing is written while the gateway runs: all of it waits for the stop.
          metering: { flushInterval: '60s', batchSize: 5_000, costSampleInterval: '10m' },
        },
      },
      { store },
    );
    const { client } = await connectHttpClient(http, {});
    await Promise.all(
      Array.from({ length: 25 }, (_, n) => client.callTool({ name: 'kb__echo', arguments: { n } })),
    );
    expect(http.gateway.meter?.stats()).toEqual(expect.objectContaining({ buffered: 25, written: 0 }));
    expect(await stopHttpGateways()).toEqual([]);
    // The final cost sample's charges are written too: records are events and charges.
    const stats = http.gateway.meter?.stats();
    expect(stats).toEqual(expect.objectContaining({ buffered: 0, dropped: 0, failedWrites: 0 }));
    expect(stats?.written).toBeGreaterThanOrEqual(25);
    const start = Math.floor(Date.now() / DAY) * DAY;
    const [since, until] = [new Date(start).toISOString(), new Date(start + 2 * DAY).toISOString()];
    const events = await store.usage.events('acme', since, until);
    expect(events).toHaveLength(25);
    expect(new Set(events.map((event) => event.tool))).toEqual(new Set(['echo']));
    const [day] = await store.usage.summarize('acme', { since, until, groupBy: 'day' });
    expect(day).toEqual(expect.objectContaining({ calls: 25, errors: 0 }));
  });
});
