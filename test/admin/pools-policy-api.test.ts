import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { GuardProfiles } from '../../src/guard/guard-profiles.ts';
import { loadPolicies } from '../../src/guard/policy/load-policies.ts';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { eventually, fixtureServer, testConfig } from '../support/harness.ts';
import { adminClient, platformKey, sqliteBackend } from './admin-harness.ts';

const CONFIG = {
  servers: {
    kb: fixtureServer({ mode: 'tenant', pool: { min: 1, max: 2, maxInflight: 8 } }),
    shared: fixtureServer({ mode: 'shared' }),
  },
};

const POLICY = `mode: enforce
defaults:
  '*': allow
rules:
  - name: no-delete
    effect: deny
    server: kb
    tier: standard
    tool: [delete_*]
    reason: deleting is off
`;

type Pools = {
  servers: {
    server: string;
    restarts: number | null;
    pools: { tenant: string | null; processes: { pid: number; draining: boolean }[] }[];
  }[];
};

describe('the pools and policy endpoints of the admin API', () => {
  const backend = sqliteBackend();
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
  });
  afterAll(() => backend.cleanup());

  async function started() {
    const store = await backend.open();
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-policy-'));
    writeFileSync(join(dir, 'base.yaml'), POLICY);
    const guarding = {
      policies: await loadPolicies(dir),
      profiles: new GuardProfiles(testConfig(CONFIG).gateway.guards),
    };
    const http = await startHttpGateway(CONFIG, { store, guarding });
    const root = adminClient(http.origin, await platformKey(store));
    const admins: Record<string, ReturnType<typeof adminClient>> = {};
    const members: Record<string, string> = {};
    for (const id of ['blue', 'red']) {
      expect((await root('POST', '/tenants', { id, name: id })).status).toBe(201);
      admins[id] = adminClient(
        http.origin,
        (await root('POST', `/tenants/${id}/api-keys`, { name: 'a', role: 'tenant-admin' })).body
          .key as string,
      );
      members[id] = (await root('POST', `/tenants/${id}/api-keys`, { name: 'm' })).body.key as string;
    }
    return { http, root, admins, members };
  }

  it('a platform admin sees every pool with its processes; a tenant admin only its own tenant pools', async () => {
    const { http, root, admins, members } = await started();
    for (const id of ['blue', 'red']) {
      const { client } = await connectHttpClient(http, bearer(members[id] as string));
      await client.listTools();
    }
    const all = (await root('GET', '/pools')).body as Pools;
    const kb = all.servers.find((server) => server.server === 'kb');
    expect(kb?.pools.map((pool) => pool.tenant).sort()).toEqual(['blue', 'red']);
    expect(kb?.pools.every((pool) => pool.processes.length > 0)).toBe(true);
    expect(typeof kb?.restarts).toBe('number');

    const blue = (await admins.blue?.('GET', '/pools'))?.body as Pools;
    expect(blue.servers.map((server) => server.server)).toEqual(['kb']);
    expect(blue.servers[0]?.pools.map((pool) => pool.tenant)).toEqual(['blue']);
    expect(blue.servers[0]?.restarts).toBeNull();
    expect(JSON.stringify(blue)).not.toContain('"tenant":"red"');
  });

  it('draining a process stops it once idle and the pool replaces it; another tenant’s process is 404', async () => {
    const { http, root, admins, members } = await started();
    const { client } = await connectHttpClient(http, bearer(members.red as string));
    await client.listTools();
    const pids = (body: Pools, tenant: string) =>
      body.servers.flatMap((server) =>
        server.pools
          .filter((pool) => pool.tenant === tenant)
          .flatMap((pool) => pool.processes.map((process) => process.pid)),
      );
    const [redPid] = pids((await root('GET', '/pools')).body as Pools, 'red');
    expect(redPid).toBeGreaterThan(0);

    expect((await admins.blue?.('POST', `/pools/kb/processes/${redPid}/drain`))?.status).toBe(404);
    expect((await root('POST', `/pools/kb/processes/999999999/drain`)).status).toBe(404);
    expect((await root('POST', `/pools/kb/processes/not-a-pid/drain`)).status).toBe(400);

    const drained = await admins.red?.('POST', `/pools/kb/processes/${redPid}/drain`);
    expect(drained?.status).toBe(202);
    await eventually(async () => {
      const now = pids((await root('GET', '/pools')).body as Pools, 'red');
      return !now.includes(redPid as number) && now.length === 1;
    });
    // The tenant's calls go on, on the replacement.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it('lists the loaded rules and explains a decision; a tenant admin may not, and a bad input is a 400', async () => {
    const { root, admins } = await started();
    const listed = await root('GET', '/policy');
    expect(listed.status).toBe(200);
    expect(listed.body.rules).toEqual([
      expect.objectContaining({
        name: 'no-delete',
        effect: 'deny',
        match: { tier: ['standard'], server: ['kb'], tool: ['delete_*'] },
        reason: 'deleting is off',
      }),
    ]);
    const denied = await root('POST', '/policy/explain', {
      tenant: 'blue',
      server: 'kb',
      tool: 'delete_all',
    });
    expect(denied.status).toBe(200);
    expect(denied.body).toMatchObject({
      decision: { effect: 'deny', rule: 'no-delete', reason: 'deleting is off' },
      decidedBy: 'no-delete',
    });
    const allowed = await root('POST', '/policy/explain', { tenant: 'blue', server: 'kb', tool: 'echo' });
    expect(allowed.body).toMatchObject({
      decision: { effect: 'allow' },
      decidedBy: null,
      rules: [{ rule: 'no-delete', outcome: 'no-match', detail: 'tool' }],
    });

    // A tenant named by id is decided with its tier as it runs now.
    await root('PATCH', '/tenants/blue', { tier: 'gold' });
    const gold = await root('POST', '/policy/explain', { tenant: 'blue', server: 'kb', tool: 'delete_all' });
    expect(gold.body).toMatchObject({ decision: { effect: 'allow' }, decidedBy: null });
    const bad = await root('POST', '/policy/explain', { server: 'kb', tool: 'x', prompt: 'y' });
    expect(bad.status).toBe(400);
    expect((bad.body.errors as { path: string }[]).map((error) => error.path)).toEqual(
      expect.arrayContaining(['tenant']),
    );
    expect((await admins.blue?.('GET', '/policy'))?.status).toBe(403);
    expect(
      (await admins.blue?.('POST', '/policy/explain', { tenant: 'blue', server: 'kb', tool: 'x' }))?.status,
    ).toBe(403);
  });

  it('the status counts requests and errors for rates', async () => {
    const { http, root, members } = await started();
    const before = (await root('GET', '/status')).body.calls as { requests: number; errors: number };
    const { client } = await connectHttpClient(http, bearer(members.blue as string));
    await client.listTools();
    await client.callTool({ name: 'kb__nope', arguments: {} }).catch(() => undefined);
    const after = (await root('GET', '/status')).body.calls as { requests: number; errors: number };
    expect(after.requests).toBeGreaterThan(before.requests);
    expect(after.errors).toBeGreaterThan(before.errors);
  });
});
