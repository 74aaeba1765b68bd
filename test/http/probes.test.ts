/** The public probes an orchestrator polls: liveness always, readiness once the pools are warm. */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer } from '../support/harness.ts';
import { bearer, connectHttpClient, newApiKey, startHttpGateway, stopHttpGateways } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

describe('health and readiness', () => {
  it('/health is 200 without a credential, before the pools are warm', async () => {
    const http = await startHttpGateway(
      {
        servers: { fixture: fixtureServer() },
        tenants: { acme: { name: 'Acme', apiKeys: [newApiKey().entry] } },
      },
      { warm: false },
    );
    const health = await fetch(new URL('/health', http.origin));
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('/ready is 503 until the pools are warm, then 200, and shows nobody without an admin credential any detail', async () => {
    const admin = newApiKey(['admin']);
    const everything = newApiKey();
    const http = await startHttpGateway(
      {
        servers: {
          fixture: fixtureServer({ pool: { min: 2, max: 2 } }),
          tenanted: fixtureServer({ mode: 'tenant' }),
        },
        tenants: { acme: { name: 'Acme', apiKeys: [admin.entry, everything.entry] } },
      },
      { warm: false },
    );
    const cold = await fetch(new URL('/ready', http.origin));
    expect(cold.status).toBe(503);
    expect(await cold.json()).toEqual({ ready: false });

    await http.gateway.warm();
    // A session makes the tenant pool `tenanted@acme` exist: its name carries the tenant id.
    const { client } = await connectHttpClient(http, bearer(everything.key));
    await client.listTools();

    for (const headers of [{}, bearer(everything.key), bearer('mcpl_not_a_key'), { 'x-api-key': 'nope' }]) {
      const probe = await fetch(new URL('/ready', http.origin), { headers });
      expect(probe.status).toBe(200);
      const text = await probe.text();
      expect(JSON.parse(text)).toEqual({ ready: true });
      expect(text).not.toContain('acme');
    }

    const detailed = await fetch(new URL('/ready', http.origin), { headers: bearer(admin.key) });
    expect(detailed.status).toBe(200);
    expect(await detailed.json()).toMatchObject({
      ready: true,
      sessions: 1,
      servers: {
        fixture: {
          mode: 'shared',
          pools: [expect.objectContaining({ size: 2, ready: 2 }) as unknown],
          droppedLogs: 0,
        },
        tenanted: {
          mode: 'tenant',
          pools: [expect.objectContaining({ name: 'tenanted@acme' }) as unknown],
        },
      },
    });

    http.front.drain();
    const draining = await fetch(new URL('/ready', http.origin));
    expect(draining.status).toBe(503);
    expect(await draining.json()).toEqual({ ready: false });
  });

  it('/ready under anonymous access (every scope but admin) shows only ready', async () => {
    const http = await startHttpGateway({
      gateway: { auth: { anonymous: { tenant: 'acme' } } },
      servers: { fixture: fixtureServer({ mode: 'tenant' }) },
      tenants: { acme: { name: 'Acme' } },
    });
    const probe = await fetch(new URL('/ready', http.origin));
    expect(await probe.json()).toEqual({ ready: true });
  });
});
