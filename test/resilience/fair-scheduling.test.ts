/**
 * A saturated shared pool over a real fixture process and real HTTP: waiting calls are served
 * in weighted fair order across tenants (or FIFO when asked), and a tenant's tier caps how many
 * of its calls may wait.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer } from '../support/harness.ts';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { rpcFailure, twoTenants } from './resilience-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const SLOW_MS = 500;

async function saturated(scheduling: 'fair' | 'fifo', tiers: Record<string, unknown> = {}) {
  const { acme, globex, tenants } = twoTenants({ acme: { tier: 'basic' }, globex: { tier: 'pro' } });
  const http = await startHttpGateway({
    servers: { one: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 1, scheduling } }) },
    tenants,
    tiers,
  });
  const noisy = (await connectHttpClient(http, bearer(acme.key))).client;
  const quiet = (await connectHttpClient(http, bearer(globex.key))).client;
  await noisy.listTools();
  await quiet.listTools();
  return { http, noisy, quiet };
}

/** Fires `count` slow calls from a client, recording each one's completion under `tag`. */
function flood(client: Client, tag: string, count: number, done: string[], ms = SLOW_MS): Promise<unknown>[] {
  return Array.from({ length: count }, (_, n) =>
    client.callTool({ name: 'one__slow', arguments: { ms, steps: 1 } }).then(() => done.push(`${tag}${n}`)),
  );
}

describe('fair scheduling', () => {
  it('a quiet tenant behind a noisy one’s flood is served next under fair, and last under fifo', async () => {
    const positions: Record<string, number> = {};
    // The quiet tenant's tier weighs 2, so its call's tag beats the noisy one's next (no tie).
    const tiers = { basic: { weight: 1 }, pro: { weight: 2 } };
    for (const scheduling of ['fair', 'fifo'] as const) {
      const { http, noisy, quiet } = await saturated(scheduling, tiers);
      const done: string[] = [];
      const noise = flood(noisy, 'n', 4, done);
      await eventually(() => (http.gateway.status().servers.one?.pools[0]?.waiting ?? 0) >= 3, 15_000);
      await Promise.all([...noise, ...flood(quiet, 'q', 1, done)]);
      positions[scheduling] = done.indexOf('q0');
      await stopHttpGateways();
    }
    // fair: right after the noisy call in flight (or the one after it, if that one took the slot
    // while the quiet request was on its way); fifo: after all four.
    expect(positions.fair).toBeLessThanOrEqual(2);
    expect(positions.fifo).toBe(4);
  });

  it('a tenant past its tier’s queueCap is refused with TENANT_QUEUE_FULL, and another tenant still queues', async () => {
    const { http, noisy, quiet } = await saturated('fair', { basic: { queueCap: 2 }, pro: {} });
    const done: string[] = [];
    const admitted = flood(noisy, 'n', 3, done, 1_000); // one in flight, two waiting
    await eventually(() => (http.gateway.status().servers.one?.pools[0]?.waiting ?? 0) >= 2, 5_000);
    const refused = await rpcFailure(noisy.callTool({ name: 'one__slow', arguments: { ms: 1, steps: 1 } }));
    expect(refused.code).toBe(-32055);
    expect(refused.data).toMatchObject({ code: 'TENANT_QUEUE_FULL' });
    expect(refused.message).toContain('queueCap');
    await Promise.all([...admitted, ...flood(quiet, 'q', 2, done)]);
    expect(done.filter((id) => id.startsWith('q'))).toHaveLength(2);
  });

  it('a refused call over the queue cap does not count against the breaker', async () => {
    const { http, noisy } = await saturated('fair', { basic: { queueCap: 1 }, pro: {} });
    const done: string[] = [];
    const admitted = flood(noisy, 'n', 2, done, 2_000);
    await eventually(() => (http.gateway.status().servers.one?.pools[0]?.waiting ?? 0) >= 1, 5_000);
    for (let call = 0; call < 5; call++) {
      expect(
        (await rpcFailure(noisy.callTool({ name: 'one__slow', arguments: { ms: 1, steps: 1 } }))).code,
      ).toBe(-32055);
    }
    await Promise.all(admitted);
    expect(http.gateway.status().servers.one?.breakers).toEqual([{ tenant: 'acme', state: 'closed' }]);
  });
});
