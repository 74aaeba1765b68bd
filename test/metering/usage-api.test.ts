import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { adminClient, postgresBackend, sqliteBackend, type Backend } from '../admin/admin-harness.ts';
import { bearer, connectHttpClient, stopHttpGateways } from '../http/http-harness.ts';
import { METERED_CONFIG, startMetered, tenantWithKeys, type Metered } from './metering-harness.ts';

const CONFIG = {
  ...METERED_CONFIG,
  billing: {
    defaultPlan: 'tiny',
    plans: {
      tiny: { includedCalls: 2, overagePer1000: 1000 },
      big: { includedCalls: 100, overagePer1000: 1 },
    },
  },
};

function thisMonth(): string {
  return new Date().toISOString().slice(0, 7);
}

async function calls(metered: Metered, key: string, tools: string[]): Promise<void> {
  const { client } = await connectHttpClient(metered.http, bearer(key));
  for (const name of tools) await client.callTool({ name, arguments: {} });
  await client.close();
}

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`usage and export endpoints on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    it('usage rolls up by day, tool, key, project and server', async () => {
      const metered = await startMetered(backend, CONFIG);
      const blue = await tenantWithKeys(metered, 'blue');
      const other = await metered.root('POST', '/tenants/blue/api-keys', { name: 'batch' });
      await calls(metered, blue.memberKey, ['kb__echo', 'kb__echo', 'kb__pid', 'shared__s_echo']);
      await calls(metered, other.body.key as string, ['kb__echo']);

      const get = (groupBy: string) => blue.admin('GET', `/tenants/blue/usage?groupBy=${groupBy}`);
      const byDay = await get('day');
      expect(byDay.status).toBe(200);
      const today = new Date().toISOString().slice(0, 10);
      expect(byDay.body).toMatchObject({
        tenant: 'blue',
        groupBy: 'day',
        rows: [{ group: today, calls: 5, errors: 0 }],
      });
      const [day] = byDay.body.rows as { bytesIn: number; bytesOut: number; cost: number }[];
      expect(day?.bytesIn).toBeGreaterThan(0);
      expect(day?.bytesOut).toBeGreaterThan(0);
      // 4 kb calls at 0.5 and one shared at 0.25, plus whatever CPU kb's processes were charged.
      expect(day?.cost).toBeGreaterThanOrEqual(2.25);

      const rows = async (groupBy: string) =>
        Object.fromEntries(
          ((await get(groupBy)).body.rows as { group: string; calls: number }[])
            .filter((row) => row.calls > 0)
            .map((row) => [row.group, row.calls]),
        );
      expect(await rows('tool')).toEqual({ echo: 3, pid: 1, s_echo: 1 });
      expect(await rows('key')).toEqual({ [blue.memberKeyId]: 4, [other.body.id as string]: 1 });
      expect(await rows('project')).toEqual({ [blue.projectId]: 4, '': 1 });
      expect(await rows('server')).toEqual({ kb: 4, shared: 1 });
    });

    it('an hour-bounded range reads the hourly rollup; a range with nothing in it has no rows', async () => {
      const metered = await startMetered(backend, CONFIG);
      const blue = await tenantWithKeys(metered, 'blue');
      await calls(metered, blue.memberKey, ['kb__echo']);
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const since = new Date(hour).toISOString();
      const until = new Date(hour + 3_600_000).toISOString();
      const now = await blue.admin('GET', `/tenants/blue/usage?since=${since}&until=${until}&groupBy=tool`);
      // The tenant's idle process time (no tool) may have a row of its own, with no calls.
      const called = (now.body.rows as { calls: number }[]).filter((row) => row.calls > 0);
      expect(called).toMatchObject([{ group: 'echo', calls: 1 }]);
      const before = await blue.admin('GET', '/tenants/blue/usage?since=2020-01-01&until=2020-02-01');
      expect(before.status).toBe(200);
      expect(before.body.rows).toEqual([]);
    });

    it('bad parameters are a 400 problem naming each one', async () => {
      const metered = await startMetered(backend, CONFIG);
      await tenantWithKeys(metered, 'blue');
      for (const [query, path] of [
        ['groupBy=week', 'groupBy'],
        ['since=yesterday', 'since'],
        ['since=2026-11-02&until=2026-11-01', 'until'],
        ['since=2020-01-01&until=2026-01-01', 'until'],
      ] as const) {
        const answer = await metered.root('GET', `/tenants/blue/usage?${query}`);
        expect(answer.status, query).toBe(400);
        expect(answer.type).toBe('application/problem+json');
        expect(
          (answer.body.errors as { path: string }[]).map((error) => error.path),
          query,
        ).toContain(path);
      }
      for (const query of ['format=xml', 'period=2026-13', 'period=last']) {
        const answer = await metered.root('GET', `/usage/export?${query}`);
        expect(answer.status, query).toBe(400);
        expect(answer.type).toBe('application/problem+json');
      }
    });

    it("a tenant admin gets 404 for another tenant's usage, billing and export line; a member gets 403", async () => {
      const metered = await startMetered(backend, CONFIG);
      const blue = await tenantWithKeys(metered, 'blue');
      const red = await tenantWithKeys(metered, 'red');
      await calls(metered, red.memberKey, ['kb__echo']);
      for (const path of [
        '/tenants/red/usage',
        '/tenants/red/billing',
        '/tenants/nobody/usage',
        '/usage/export?tenant=red',
      ]) {
        const answer = await blue.admin('GET', path);
        expect(answer.status, path).toBe(404);
        expect(answer.body.code).toBe('NOT_FOUND');
      }
      expect((await metered.root('GET', '/tenants/nobody/usage')).status).toBe(404);
      const member = adminClient(metered.http.origin, blue.memberKey);
      expect((await member('GET', '/tenants/blue/usage')).status).toBe(403);
      // A tenant admin's export is its own line only, whatever it asks for.
      const own = await blue.admin('GET', '/usage/export');
      expect((own.body.tenants as { tenant: string }[]).map((line) => line.tenant)).toEqual(['blue']);
      expect((await blue.admin('PUT', '/tenants/blue/billing', { plan: 'big' })).status).toBe(403);
    });

    it('the export has included calls, overage and amount per tenant, in JSON and CSV', async () => {
      const metered = await startMetered(backend, CONFIG);
      const blue = await tenantWithKeys(metered, 'blue');
      const red = await tenantWithKeys(metered, 'red');
      expect((await metered.root('PUT', '/tenants/red/billing', { plan: 'big' })).status).toBe(200);
      expect((await metered.root('PUT', '/tenants/red/billing', { plan: 'huge' })).status).toBe(400);
      await calls(metered, blue.memberKey, ['kb__echo', 'kb__echo', 'kb__echo', 'kb__echo', 'kb__echo']);
      await calls(metered, red.memberKey, ['kb__echo', 'kb__echo', 'kb__echo']);
      // A refusal is metered but not billed.
      const { client } = await connectHttpClient(metered.http, bearer(blue.memberKey));
      await expect(client.callTool({ name: 'kb__missing', arguments: {} })).rejects.toThrow();

      const period = thisMonth();
      const json = await metered.root('GET', `/usage/export?format=json&period=${period}`);
      expect(json.status).toBe(200);
      const lines = json.body.tenants as Record<string, unknown>[];
      const line = (tenant: string) => lines.find((entry) => entry.tenant === tenant);
      expect(line('blue')).toMatchObject({
        period,
        plan: 'tiny',
        calls: 6,
        errors: 1,
        billableCalls: 5,
        includedCalls: 2,
        overageCalls: 3,
        amount: 3,
      });
      expect(line('red')).toMatchObject({
        plan: 'big',
        billableCalls: 3,
        includedCalls: 3,
        overageCalls: 0,
        amount: 0,
      });
      // Config tenants are listed too, with nothing used.
      expect(line('acme')).toMatchObject({ calls: 0, amount: 0 });

      const csv = await fetch(
        new URL(`/admin/v1/usage/export?format=csv&period=${period}`, metered.http.origin),
        {
          headers: bearer(metered.rootKey),
        },
      );
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const table = (await csv.text()).trim().split('\r\n');
      const columns = (table[0] as string).split(',');
      expect(columns.slice(0, 11)).toEqual([
        'tenant',
        'period',
        'plan',
        'currency',
        'calls',
        'errors',
        'billableCalls',
        'includedCalls',
        'overageCalls',
        'overagePer1000',
        'amount',
      ]);
      const blueRow = table.find((row) => row.startsWith('blue,'))?.split(',');
      expect(blueRow?.slice(0, 11)).toEqual([
        'blue',
        period,
        'tiny',
        'usd',
        '6',
        '1',
        '5',
        '2',
        '3',
        '1000',
        '3',
      ]);
      expect(table).toHaveLength(lines.length + 1);
    });
  });
}
