import { describe, expect, it } from 'vitest';
import { TENANT_TABLES } from '../../../src/store/sql/tenant-tables.ts';
import {
  ACTOR,
  masterKeys,
  mentions,
  refusal,
  tenantId,
  testClock,
  type StoreHarness,
} from '../store-harness.ts';
import { populate } from './populate.ts';

/** Tenant-id columns found in the catalog by name: `tenant_id`, `*_tenant_id`, and `tenants.id`. */
function tenantColumns(tables: readonly { name: string; columns: readonly string[] }[]) {
  return tables.flatMap(({ name, columns }) =>
    columns
      .filter(
        (column) =>
          column === 'tenant_id' || column.endsWith('_tenant_id') || (name === 'tenants' && column === 'id'),
      )
      .map((column) => ({ table: name, column })),
  );
}

export function tenantDataTests(harness: () => StoreHarness): void {
  describe('tenant export', () => {
    it("an export holds the tenant's data and none of another tenant's", async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const c = tenantId('c');
      await store.tenants.create({ id: c, name: 'C' }, ACTOR);
      const a = await populate(store, tenantId('a'), c);
      const b = await populate(store, tenantId('b'), c);
      const exported = await store.tenants.export(a.tenantId);
      expect(exported).toMatchObject({
        formatVersion: 1,
        tenant: { id: a.tenantId },
        projects: [{ id: a.projectId }],
        apiKeys: [{ id: a.keyId, tenantId: a.tenantId }],
        serverConfigs: [
          { server: 'postgres', env: { DATABASE_URL: { set: true }, SCHEMA: `${a.tenantId}_schema` } },
        ],
        grants: [{ id: a.grantId, granteeTenantId: c }],
        anomalyBaselines: [{ tenantId: a.tenantId, principal: `key:${a.keyId}` }],
        toolPins: [{ tenantId: a.tenantId, server: 'kb', tool: 'search' }],
        toolChanges: [{ id: a.toolChangeId, tenantId: a.tenantId, status: 'pending' }],
        auditRecords: [{ tenantId: a.tenantId, kind: 'tool-call', tool: 'kb__search' }],
      });
      // Ordered by subject: the tenant's own row (`*`) sorts before any key id.
      expect(exported?.limitOverrides.map((row) => [row.subject, row.quota, row.rateLimits])).toEqual([
        ['*', { monthlyCalls: 100 }, undefined],
        [a.keyId, undefined, { perKey: { perMinute: 5 } }],
      ]);
      expect(exported?.quotaUsage).toEqual([
        { tenantId: a.tenantId, subject: '*', callsUsedMonth: 3, resetAt: '2026-12-01T00:00:00.000Z' },
        { tenantId: a.tenantId, subject: a.keyId, callsUsedMonth: 3, resetAt: '2026-12-01T00:00:00.000Z' },
      ]);
      expect(exported?.adminChanges.map((change) => change.action)).toEqual([
        'tenant.create',
        'project.create',
        'api_key.create',
        'server_config.put',
        'grant.create',
        'grant.use',
        'billing.update',
        'limits.set',
        'limits.set',
      ]);
      expect(exported).toMatchObject({
        billing: { tenantId: a.tenantId, plan: 'team' },
        usageEvents: [{ tenantId: a.tenantId, apiKeyId: a.keyId, tool: 'search', bytesIn: 10 }],
        usageDaily: [{ tool: 'search', calls: 1, cpuSeconds: 0.001 }],
      });
      const text = JSON.stringify(exported);
      expect(text).not.toContain(b.tenantId);
      expect(text).not.toContain(a.secret);
      // No API key hash, by name or by value (tool pins have a definition hash, which is no secret).
      expect(JSON.stringify(exported?.apiKeys)).not.toContain('"hash"');
      expect(text).not.toMatch(/hmac-sha256:|"sha256:/);
      expect(await store.tenants.export('nobody')).toBeUndefined();
    });

    it('an export includes the grants the tenant holds from others', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const b = tenantId('b');
      await store.tenants.create({ id: b, name: 'B' }, ACTOR);
      const a = await populate(store, tenantId('a'), b);
      const exported = await store.tenants.export(b);
      expect(exported?.grants.map((grant) => grant.id)).toEqual([a.grantId]);
      expect(JSON.stringify(exported)).not.toContain(a.secret);
    });
  });

  describe('tenant purge', () => {
    it('every table with a tenant column is one the purge walks', async () => {
      const h = harness();
      await h.open();
      const found = tenantColumns(await h.tables());
      expect(found.length).toBeGreaterThanOrEqual(8);
      for (const { table, column } of found) {
        const listed = TENANT_TABLES.find((entry) => entry.table === table);
        expect(listed?.tenantColumns, `${table}.${column}`).toContain(column);
      }
    });

    it("a purge leaves no row carrying the tenant's id, and the other tenants' data intact", async () => {
      const h = harness();
      const store = await h.open({ masterKeys: masterKeys() });
      const [aId, bId, cId] = [tenantId('a'), tenantId('b'), tenantId('c')];
      await store.tenants.create({ id: cId, name: 'C' }, ACTOR);
      const b = await populate(store, bId, cId);
      const a = await populate(store, aId, bId);
      const toA = await store.grants.create(
        bId,
        { server: 'kb', granteeTenantId: aId, access: 'full', allowResharing: true },
        ACTOR,
      );
      await store.grants.create(
        aId,
        { server: 'kb', granteeTenantId: cId, access: 'read', parentGrantId: toA.id },
        ACTOR,
      );
      const bBefore = await store.tenants.export(bId);

      const report = await store.tenants.purge(aId, ACTOR);
      expect(report.deleted).toMatchObject({
        tenants: 1,
        projects: 1,
        api_keys: 1,
        tenant_server_configs: 1,
        anomaly_baselines: 1,
        tool_pins: 1,
        tool_changes: 1,
        audit_records: 1,
      });

      const tables = await h.tables();
      for (const { table, column } of tenantColumns(tables)) {
        const rows = await h.rows(table);
        expect(
          rows.filter((row) => row[column] === aId),
          `${table}.${column}`,
        ).toEqual([]);
      }
      for (const { name } of tables) {
        const hits = (await h.rows(name)).filter((row) => mentions([row], aId));
        if (name !== 'admin_changes') expect(hits, name).toEqual([]);
        // Only others' own records may name A: the platform's purge entry, B's grant to A.
        for (const hit of hits) expect(hit['tenant_id'], name).not.toBe(aId);
      }
      for (const { name } of tables) {
        expect(mentions(await h.rows(name), a.keyId), name).toBe(false);
        expect(mentions(await h.rows(name), a.projectId), name).toBe(false);
      }

      expect((await store.changes.list(null)).at(-1)).toMatchObject({
        action: 'tenant.purge',
        target: `tenant:${aId}`,
      });
      const bAfter = await store.tenants.export(bId);
      expect(bAfter?.grants.map((grant) => grant.id)).toEqual([b.grantId]);
      expect({ ...bAfter, grants: [], exportedAt: '' }).toEqual({ ...bBefore, grants: [], exportedAt: '' });
      expect((await store.serverConfigs.resolve(bId, 'postgres'))?.env['DATABASE_URL']).toEqual({
        secret: b.secret,
      });
      expect(await store.apiKeys.find(a.keyId)).toBeUndefined();
      await refusal(store.tenants.purge(aId, ACTOR), 'NOT_FOUND');
    });
  });

  describe('retention', () => {
    it("deletes one tenant's admin changes older than the cutoff, and nothing else", async () => {
      const clock = testClock('2026-01-01T00:00:00.000Z');
      const store = await harness().open({ now: clock.now });
      const [a, b] = [tenantId('a'), tenantId('b')];
      await store.tenants.create({ id: a, name: 'A' }, ACTOR);
      await store.tenants.create({ id: b, name: 'B' }, ACTOR);
      clock.advance(86_400 * 30);
      await store.tenants.update(a, { name: 'A2' }, ACTOR);
      expect(store.retention.tables).toEqual([
        'usage_events',
        'usage_hourly',
        'admin_changes',
        'audit_records',
      ]);
      expect(await store.retention.deleteBefore(a, 'admin_changes', '2026-01-15T00:00:00Z')).toBe(1);
      expect((await store.changes.list(a)).map((change) => change.action)).toEqual(['tenant.update']);
      expect(await store.changes.list(b)).toHaveLength(1);
      await refusal(
        store.retention.deleteBefore(a, 'tenants' as never, '2026-01-15T00:00:00Z'),
        'INVALID_PARAMS',
      );
      expect(await store.version()).toBe(3);
    });
  });
}
