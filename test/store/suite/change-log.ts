import { describe, expect, it, vi } from 'vitest';
import { generateApiKey } from '../../../src/identity/api-key-format.ts';
import { ACTOR, newKeyMaterial, refusal, tenantId, type StoreHarness } from '../store-harness.ts';

export function changeLogTests(harness: () => StoreHarness): void {
  describe('admin change log and version', () => {
    it('every mutation records one change with its actor and bumps the version', async () => {
      const store = await harness().open();
      expect(await store.version()).toBe(0);
      const tenant = tenantId('acme');
      await store.tenants.create({ id: tenant, name: 'Acme' }, { actor: 'cli' });
      const key = newKeyMaterial();
      await store.apiKeys.create(tenant, { ...key, name: 'k', role: 'member' }, ACTOR);
      await store.apiKeys.setStatus(tenant, key.id, 'suspended', ACTOR);
      await store.projects.create(tenant, { name: 'p' }, ACTOR);
      expect(await store.version()).toBe(4);
      const changes = await store.changes.since(0);
      expect(changes.map((change) => [change.seq, change.action, change.actor, change.tenantId])).toEqual([
        [1, 'tenant.create', 'cli', tenant],
        [2, 'api_key.create', ACTOR.actor, tenant],
        [3, 'api_key.suspend', ACTOR.actor, tenant],
        [4, 'project.create', ACTOR.actor, tenant],
      ]);
      expect(changes[1]?.target).toBe(`api_key:${key.id}`);
      expect(JSON.stringify(changes)).not.toContain(key.hash);
      expect(await store.changes.since(2, 1)).toEqual([changes[2]]);
      expect(await store.changes.list(tenant, { afterSeq: 3 })).toEqual([changes[3]]);
    });

    it('a refused mutation records nothing and leaves the version', async () => {
      const store = await harness().open();
      const tenant = tenantId('acme');
      await store.tenants.create({ id: tenant, name: 'Acme' }, ACTOR);
      await refusal(store.tenants.create({ id: tenant, name: 'Again' }, ACTOR), 'CONFLICT');
      await refusal(store.apiKeys.setStatus(tenant, 'missingkey12', 'revoked', ACTOR), 'NOT_FOUND');
      expect(await store.version()).toBe(1);
      expect(await store.changes.since(0)).toHaveLength(1);
    });

    it('recorded changes are scoped by tenant, and API keys in their details are redacted', async () => {
      const store = await harness().open();
      const a = tenantId('a');
      const b = tenantId('b');
      await store.tenants.create({ id: a, name: 'A' }, ACTOR);
      await store.tenants.create({ id: b, name: 'B' }, ACTOR);
      const { key } = generateApiKey();
      const entry = await store.changes.record(
        a,
        { action: 'grant.use', target: 'grant:g1', details: { note: `used ${key}` } },
        ACTOR,
      );
      expect(entry.details).toEqual({ note: 'used [redacted]' });
      await store.changes.record(
        null,
        { action: 'gateway.reload', target: 'config:servers.config.yaml' },
        ACTOR,
      );
      expect((await store.changes.list(a)).map((change) => change.action)).toEqual([
        'tenant.create',
        'grant.use',
      ]);
      expect((await store.changes.list(b)).map((change) => change.action)).toEqual(['tenant.create']);
      expect((await store.changes.list(null)).map((change) => change.action)).toEqual(['gateway.reload']);
      await refusal(
        store.changes.record(a, { action: 'Not An Action', target: 't' }, ACTOR),
        'INVALID_PARAMS',
      );
    });

    it('watch reports this store’s changes at once and another store’s within the poll interval', async () => {
      const h = harness();
      const watching = await h.open({ pollIntervalMs: 50 });
      const other = await h.open({ pollIntervalMs: 50 });
      const seen: number[] = [];
      const stop = watching.watch((version) => seen.push(version));
      await watching.tenants.create({ id: tenantId('local'), name: 'L' }, ACTOR);
      expect(seen).toEqual([1]);
      await other.tenants.create({ id: tenantId('remote'), name: 'R' }, ACTOR);
      await vi.waitFor(() => expect(seen).toEqual([1, 2]), { timeout: 10_000, interval: 20 });
      stop();
      await watching.tenants.create({ id: tenantId('after'), name: 'A' }, ACTOR);
      expect(seen).toEqual([1, 2]);
    });
  });
}
