import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import {
  adminClient,
  platformKey,
  postgresBackend,
  sqliteBackend,
  type Backend,
} from '../admin/admin-harness.ts';
import {
  bearer,
  connectHttpClient,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';
import { callsUntilRefused } from './limits-harness.ts';

const CONFIG = {
  servers: { fx: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 64 } }) },
  tenants: {},
  tiers: { basic: { rateLimits: { perKey: { perMinute: 100 } }, quota: { monthlyCalls: 1000 } } },
};

type Api = ReturnType<typeof adminClient>;

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`limits admin API on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    async function started(): Promise<{ http: HttpGateway; root: Api; rootKey: string; store: Store }> {
      const store = await backend.open();
      const rootKey = await platformKey(store);
      const http = await startHttpGateway(CONFIG, { store });
      return { http, root: adminClient(http.origin, rootKey), rootKey, store };
    }

    async function tenant(
      root: Api,
      http: HttpGateway,
      id: string,
    ): Promise<{ keys: { key: string; id: string }[]; admin: Api }> {
      expect((await root('POST', '/tenants', { id, name: id, tier: 'basic' })).status).toBe(201);
      const keys = [];
      for (const role of ['member', 'member', 'tenant-admin']) {
        const created = await root('POST', `/tenants/${id}/api-keys`, { name: role, role });
        expect(created.status).toBe(201);
        keys.push({ key: created.body.key as string, id: created.body.id as string });
      }
      return { keys, admin: adminClient(http.origin, (keys[2] as { key: string }).key) };
    }

    it("GET shows the tier's limits; a tenant override applies to calls at once; a key override beats it", async () => {
      const { http, root } = await started();
      const { keys } = await tenant(root, http, 'blue');
      const before = await root('GET', '/tenants/blue/limits');
      expect(before.status).toBe(200);
      expect(before.body).toMatchObject({
        tenant: 'blue',
        tier: 'basic',
        rateLimits: { perKey: { perMinute: 100 } },
        quota: { monthlyCalls: 1000, used: 0 },
        overrides: { keys: {} },
      });
      expect(Date.parse((before.body.quota as { resetAt: string }).resetAt)).toBeGreaterThan(Date.now());

      const put = await root('PUT', '/tenants/blue/limits', { rateLimits: { perKey: { perMinute: 3 } } });
      expect(put.status).toBe(200);
      expect(put.body).toMatchObject({
        rateLimits: { perKey: { perMinute: 3 } },
        quota: { monthlyCalls: 1000 },
        overrides: { tenant: { rateLimits: { perKey: { perMinute: 3 } } } },
      });
      const [first, second] = keys as [{ key: string; id: string }, { key: string; id: string }];
      const { client } = await connectHttpClient(http, bearer(first.key));
      expect((await callsUntilRefused(client, 'fx__echo', 5)).passed).toBe(2);

      const keyPut = await root('PUT', `/tenants/blue/api-keys/${second.id}/limits`, {
        rateLimits: { perKey: { perMinute: 6 } },
        quota: { monthlyCalls: 4 },
      });
      expect(keyPut.status).toBe(200);
      expect(keyPut.body).toMatchObject({
        overrides: {
          keys: { [second.id]: { rateLimits: { perKey: { perMinute: 6 } }, quota: { monthlyCalls: 4 } } },
        },
      });
      const { client: other } = await connectHttpClient(http, bearer(second.key));
      const refused = await callsUntilRefused(other, 'fx__echo', 6);
      // The key's own monthly quota of 4 ends it before its rate of 6 would.
      expect(refused.passed).toBe(4);
      expect(refused.refusal?.message).toMatch(
        /^monthly quota of 4 tool calls exceeded; resets on \d{4}-\d{2}-01$/,
      );
      const after = await root('GET', '/tenants/blue/limits');
      expect(after.body.quota).toMatchObject({ used: 6 });
      expect((after.body.overrides as { keys: Record<string, { used: number }> }).keys[second.id]?.used).toBe(
        4,
      );

      // {} removes the override: the tier's value holds again.
      expect((await root('PUT', '/tenants/blue/limits', {})).body).toMatchObject({
        rateLimits: { perKey: { perMinute: 100 } },
      });
      expect((await root('GET', '/tenants/blue/limits')).body.overrides).not.toHaveProperty('tenant');
    });

    it("a tenant admin reads its own tenant's limits but may not set them; another tenant's are 404", async () => {
      const { http, root } = await started();
      const { admin: blueAdmin, keys: blueKeys } = await tenant(root, http, 'blue');
      await tenant(root, http, 'green');
      expect((await blueAdmin('GET', '/tenants/blue/limits')).status).toBe(200);
      expect((await blueAdmin('PUT', '/tenants/blue/limits', { quota: { monthlyCalls: 9 } })).status).toBe(
        403,
      );
      const keyId = (blueKeys[0] as { id: string }).id;
      expect((await blueAdmin('PUT', `/tenants/blue/api-keys/${keyId}/limits`, {})).status).toBe(403);
      for (const [method, path] of [
        ['GET', '/tenants/green/limits'],
        ['PUT', '/tenants/green/limits'],
        ['PUT', `/tenants/green/api-keys/${keyId}/limits`],
      ] as const) {
        const answer = await blueAdmin(method, path, method === 'PUT' ? {} : undefined);
        expect(answer.status, `${method} ${path}`).toBe(404);
      }
      const member = adminClient(http.origin, (blueKeys[0] as { key: string }).key);
      expect((await member('GET', '/tenants/blue/limits')).status).toBe(403);
      // The root's view of a tenant that does not exist is 404 too.
      expect((await root('GET', '/tenants/nobody/limits')).status).toBe(404);
    });

    it('bad input is 400 or 422 with the problem named, and changes nothing', async () => {
      const { http, root, rootKey, store } = await started();
      const { keys } = await tenant(root, http, 'blue');
      const bad = [
        { rateLimits: { perKey: { perMinute: 0 } } },
        { rateLimits: { perKey: { perMinute: 1.5 } } },
        { rateLimits: { perKey: { perFortnight: 3 } } },
        { quota: { monthlyCalls: -1 } },
        { quota: { monthlyCalls: '10' } },
        { unknown: true },
      ];
      for (const body of bad) {
        const answer = await root('PUT', '/tenants/blue/limits', body);
        expect(answer.status, JSON.stringify(body)).toBe(400);
        expect(answer.type).toBe('application/problem+json');
        expect(answer.body.code).toBe('INVALID_PARAMS');
        expect((answer.body.errors as unknown[]).length).toBeGreaterThan(0);
      }
      const contradictory = await root('PUT', '/tenants/blue/limits', {
        rateLimits: { perTenant: { perSecond: 100, perMinute: 10 } },
      });
      expect(contradictory.status).toBe(422);
      expect(contradictory.body.detail).toMatch(
        /perTenant\.perSecond \(100\) allows more than rateLimits\.perTenant\.perMinute \(10\)/,
      );
      // A key may not set its tenant's rates.
      const keyId = (keys[0] as { id: string }).id;
      expect(
        (
          await root('PUT', `/tenants/blue/api-keys/${keyId}/limits`, {
            rateLimits: { perTenant: { perMinute: 5 } },
          })
        ).status,
      ).toBe(400);
      expect(
        (await root('PUT', '/tenants/blue/api-keys/nosuchkey/limits', { quota: { monthlyCalls: 5 } })).status,
      ).toBe(404);
      const raw = await fetch(new URL('/admin/v1/tenants/blue/limits', http.origin), {
        method: 'PUT',
        headers: { authorization: `Bearer ${rootKey}`, 'content-type': 'application/json' },
        body: '{"quota":',
      });
      expect(raw.status).toBe(400);
      expect(await store.limits.overridesOf('blue')).toEqual([]);
    });
  });
}
