/**
 * Label cardinality: many tools and many tenants cannot grow the number of series past the caps
 * in gateway.metrics, names that no server lists never become label values, and a label turned
 * off is absent from every series.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { OTHER } from '../../src/telemetry/label-cap.ts';
import { connectClient, eventually, fixtureServer, isRunning, startGateway } from '../support/harness.ts';
import { parseExposition, type Exposition } from './prometheus-text.ts';

const gateways: Gateway[] = [];

afterEach(async () => {
  const pids = gateways.flatMap((gateway) => gateway.pids());
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  expect(pids.filter((pid) => isRunning(pid))).toEqual([]);
});

async function start(metrics: Record<string, unknown>, tenants = ['acme']): Promise<Gateway> {
  const gateway = await startGateway({
    // Trusted: the test adds tools at run time, which pinning would otherwise hold for review.
    servers: { fx: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 64 }, trust: 'auto' }) },
    tenants: Object.fromEntries(tenants.map((id) => [id, { name: id }])),
    gateway: { metrics },
  });
  gateways.push(gateway);
  return gateway;
}

async function scrape(gateway: Gateway): Promise<Exposition> {
  return parseExposition((await gateway.metrics?.text()) ?? '');
}

const values = (m: Exposition, name: string, label: string): Set<string | undefined> =>
  new Set(m.series(name).map((sample) => sample.labels[label]));

describe('metric labels', () => {
  it('past maxTools, further tools are counted as one "_other" value', async () => {
    const gateway = await start({ maxTools: 3 });
    const { client } = await connectClient(gateway);
    const added = Array.from({ length: 10 }, (_, index) => `extra_${index}`);
    for (const name of added) await client.callTool({ name: 'fx__add_tool', arguments: { name } });
    await eventually(async () =>
      (await client.listTools()).tools.some((tool) => tool.name === 'fx__extra_9'),
    );
    for (const name of added) await client.callTool({ name: `fx__${name}`, arguments: {} });
    await client.callTool({ name: 'fx__echo', arguments: {} });

    const m = await scrape(gateway);
    expect(values(m, 'mcplane_mcp_requests_total', 'tool')).toEqual(
      new Set(['add_tool', 'extra_0', 'extra_1', '', OTHER]),
    );
    const calls = { tenant: 'acme', server: 'fx', method: 'tools/call' };
    expect(m.value('mcplane_mcp_requests_total', { ...calls, tool: 'add_tool', outcome: 'ok' })).toBe(10);
    // extra_2 … extra_9 and echo.
    expect(m.value('mcplane_mcp_requests_total', { ...calls, tool: OTHER, outcome: 'ok' })).toBe(9);
    expect(values(m, 'mcplane_mcp_request_duration_seconds_count', 'tool')).toEqual(
      new Set(['add_tool', 'extra_0', 'extra_1', '', OTHER]),
    );
  });

  it('names that no server lists never become label values, however many a client tries', async () => {
    const gateway = await start({});
    const { client } = await connectClient(gateway);
    for (let index = 0; index < 50; index++) {
      await expect(client.callTool({ name: `fx__probe_${index}`, arguments: {} })).rejects.toThrow(
        /Unknown tool/,
      );
      await expect(client.callTool({ name: `nospace_${index}`, arguments: {} })).rejects.toThrow(
        /Unknown tool/,
      );
    }
    const m = await scrape(gateway);
    expect(m.series('mcplane_mcp_requests_total')).toEqual([
      {
        name: 'mcplane_mcp_requests_total',
        labels: { tenant: 'acme', server: '', method: 'tools/call', tool: '', outcome: 'UNKNOWN_TOOL' },
        value: 100,
      },
    ]);
    expect((await gateway.metrics?.text()) ?? '').not.toMatch(/probe_|nospace_/);
  });

  it('past maxTenants, further tenants are counted as "_other" in call and session series', async () => {
    const tenants = ['t1', 't2', 't3', 't4', 't5', 't6'];
    const gateway = await start({ maxTenants: 2 }, tenants);
    for (const tenant of tenants) {
      const { client } = await connectClient(gateway, localPrincipal(tenant));
      await client.callTool({ name: 'fx__echo', arguments: {} });
    }
    const m = await scrape(gateway);
    expect(values(m, 'mcplane_mcp_requests_total', 'tenant')).toEqual(new Set(['t1', 't2', OTHER]));
    expect(
      m.value('mcplane_mcp_requests_total', {
        tenant: OTHER,
        server: 'fx',
        method: 'tools/call',
        tool: 'echo',
        outcome: 'ok',
      }),
    ).toBe(4);
    expect(m.value('mcplane_sessions_open', { face: 'stdio', tenant: OTHER })).toBe(4);
    expect(values(m, 'mcplane_sessions_open', 'tenant')).toEqual(new Set(['t1', 't2', OTHER]));
  });

  it('with tenantLabel and toolLabel off, no series carries either label', async () => {
    const gateway = await start({ tenantLabel: false, toolLabel: false }, ['acme', 'globex']);
    for (const tenant of ['acme', 'globex']) {
      const { client } = await connectClient(gateway, localPrincipal(tenant));
      await client.callTool({ name: 'fx__echo', arguments: {} });
      await client.callTool({ name: 'fx__pid', arguments: {} });
    }
    const m = await scrape(gateway);
    const carrying = m.samples.filter((sample) => 'tenant' in sample.labels || 'tool' in sample.labels);
    expect(carrying).toEqual([]);
    expect(m.value('mcplane_mcp_requests_total', { server: 'fx', method: 'tools/call', outcome: 'ok' })).toBe(
      4,
    );
    expect(m.value('mcplane_sessions_open', { face: 'stdio' })).toBe(2);
    expect(m.value('mcplane_pool_processes', { server: 'fx', state: 'ready' })).toBe(1);
  });
});
