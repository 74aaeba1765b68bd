/** The public probes an orchestrator polls: liveness always, readiness once the pools are warm. */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer } from '../support/harness.ts';
import { newApiKey, startHttpGateway, stopHttpGateways } from './http-harness.ts';

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

  it('/ready is 503 until the pools are warm, then 200 with their status, and 503 again while draining', async () => {
    const http = await startHttpGateway(
      {
        servers: { fixture: fixtureServer({ pool: { min: 2, max: 2 } }) },
        tenants: { acme: { name: 'Acme', apiKeys: [newApiKey().entry] } },
      },
      { warm: false },
    );
    const cold = await fetch(new URL('/ready', http.origin));
    expect(cold.status).toBe(503);
    expect(await cold.json()).toMatchObject({ ready: false });

    await http.gateway.warm();
    const warm = await fetch(new URL('/ready', http.origin));
    expect(warm.status).toBe(200);
    expect(await warm.json()).toEqual({
      ready: true,
      sessions: 0,
      servers: {
        fixture: {
          mode: 'shared',
          pools: [expect.objectContaining({ size: 2, ready: 2 }) as unknown],
          droppedLogs: 0,
        },
      },
    });
  });
});
