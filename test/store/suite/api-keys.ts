import { describe, expect, it } from 'vitest';
import { apiKeyState } from '../../../src/store/api-key-state.ts';
import type { Store } from '../../../src/store/store.ts';
import {
  ACTOR,
  newKeyMaterial,
  refusal,
  tenantId,
  testClock,
  pagesOf,
  type StoreHarness,
} from '../store-harness.ts';

async function withTenant(store: Store, label = 'acme'): Promise<string> {
  const id = tenantId(label);
  await store.tenants.create({ id, name: label }, ACTOR);
  return id;
}

export function apiKeyTests(harness: () => StoreHarness): void {
  describe('API keys', () => {
    it('a tenant key keeps its hash for authentication and lists without it', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const project = await store.projects.create(tenant, { name: 'P' }, ACTOR);
      const material = newKeyMaterial();
      const key = await store.apiKeys.create(
        tenant,
        {
          id: material.id,
          hash: material.hash,
          name: 'ci',
          role: 'member',
          projectId: project.id,
          scopes: ['tools:call'],
          expiresAt: '2099-01-01T00:00:00Z',
        },
        ACTOR,
      );
      expect(key).toMatchObject({
        id: material.id,
        tenantId: tenant,
        projectId: project.id,
        role: 'member',
        scopes: ['tools:call'],
        status: 'active',
        expiresAt: '2099-01-01T00:00:00.000Z',
        lastUsedAt: null,
        rotatedFrom: null,
      });
      expect(key).not.toHaveProperty('hash');
      expect(await store.apiKeys.list(tenant)).toEqual([key]);
      expect(await store.apiKeys.get(tenant, key.id)).toEqual(key);
      expect(await store.apiKeys.find(key.id)).toEqual({ ...key, hash: material.hash });
      expect(await store.apiKeys.listCredentials()).toEqual([{ ...key, hash: material.hash }]);
      expect(await store.apiKeys.find('unknownkey12')).toBeUndefined();
    });

    it('pages a tenant keys in list order, and refuses a cursor that is not one of them', async () => {
      const store = await harness().open();
      const [tenant, other] = [await withTenant(store), await withTenant(store, 'other')];
      const create = (owner: string | null, name: string, role = 'member' as const) => {
        const { id, hash } = newKeyMaterial();
        return store.apiKeys.create(
          owner,
          { id, hash, name, role: owner === null ? 'platform-admin' : role },
          ACTOR,
        );
      };
      for (let i = 0; i < 5; i++) await create(tenant, `k${i}`);
      const foreign = await create(other, 'theirs');
      await create(null, 'root');
      const pages = (await pagesOf((request) => store.apiKeys.page(tenant, request))).map((items) =>
        items.map((key) => key.name),
      );
      expect(pages.map((names) => names.length)).toEqual([2, 2, 1]);
      expect(pages.flat()).toEqual((await store.apiKeys.list(tenant)).map((key) => key.name));
      // A full last page says there is nothing after it by leaving `next` out.
      expect((await store.apiKeys.page(tenant, { limit: 5 })).next).toBeUndefined();
      expect((await store.apiKeys.page(null, { limit: 10 })).items.map((key) => key.name)).toEqual(['root']);
      // Another tenant's key and an unknown id are refused alike: nothing says which is which.
      const refusals = await Promise.all([
        refusal(store.apiKeys.page(tenant, { after: foreign.id, limit: 2 }), 'INVALID_PARAMS'),
        refusal(store.apiKeys.page(tenant, { after: 'unknownkey12', limit: 2 }), 'INVALID_PARAMS'),
      ]);
      expect(refusals[0].message).toBe(refusals[1].message);
      await refusal(store.apiKeys.page(tenant, { limit: 0 }), 'INVALID_PARAMS');
      await refusal(store.apiKeys.page(tenant, { limit: 1001 }), 'INVALID_PARAMS');
    });

    it('a key without scopes gets every scope, as config keys do', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const { id, hash } = newKeyMaterial();
      expect(
        (await store.apiKeys.create(tenant, { id, hash, name: 'k', role: 'tenant-admin' }, ACTOR)).scopes,
      ).toEqual(['*']);
    });

    it('platform-admin keys belong to no tenant and never show in a tenant list', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const platform = newKeyMaterial();
      const member = newKeyMaterial();
      const root = await store.apiKeys.create(
        null,
        { ...platform, name: 'root', role: 'platform-admin' },
        ACTOR,
      );
      const own = await store.apiKeys.create(tenant, { ...member, name: 'm', role: 'member' }, ACTOR);
      expect(root.tenantId).toBeNull();
      expect(await store.apiKeys.list(null)).toEqual([root]);
      expect(await store.apiKeys.list(tenant)).toEqual([own]);
      expect(await store.apiKeys.get(tenant, root.id)).toBeUndefined();
      expect(await store.apiKeys.get(null, own.id)).toBeUndefined();
      await refusal(store.apiKeys.setStatus(tenant, root.id, 'revoked', ACTOR), 'NOT_FOUND');
      const other = newKeyMaterial();
      await refusal(
        store.apiKeys.create(tenant, { ...other, name: 'x', role: 'platform-admin' }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(
        store.apiKeys.create(null, { ...other, name: 'x', role: 'member' }, ACTOR),
        'INVALID_PARAMS',
      );
    });

    it("a key cannot name another tenant's project, and a key id is unique across tenants", async () => {
      const store = await harness().open();
      const a = await withTenant(store, 'a');
      const b = await withTenant(store, 'b');
      const project = await store.projects.create(b, { name: 'B project' }, ACTOR);
      const material = newKeyMaterial();
      await refusal(
        store.apiKeys.create(a, { ...material, name: 'k', role: 'member', projectId: project.id }, ACTOR),
        'INVALID_PARAMS',
      );
      await store.apiKeys.create(a, { ...material, name: 'k', role: 'member' }, ACTOR);
      await refusal(store.apiKeys.create(b, { ...material, name: 'k', role: 'member' }, ACTOR), 'CONFLICT');
      await refusal(
        store.apiKeys.create('nobody', { ...newKeyMaterial(), name: 'k', role: 'member' }, ACTOR),
        'NOT_FOUND',
      );
    });

    it('rotation issues a replacement, and the old key works only through its grace period', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const tenant = await withTenant(store);
      const old = newKeyMaterial();
      const fresh = newKeyMaterial();
      await store.apiKeys.create(
        tenant,
        { ...old, name: 'svc', role: 'member', scopes: ['tools:call'] },
        ACTOR,
      );
      const { previous, current } = await store.apiKeys.rotate(
        tenant,
        old.id,
        { newId: fresh.id, newHash: fresh.hash, graceSeconds: 60 },
        ACTOR,
      );
      expect(previous).toMatchObject({
        id: old.id,
        replacedBy: fresh.id,
        graceUntil: '2026-11-01T00:01:00.000Z',
      });
      expect(current).toMatchObject({
        id: fresh.id,
        rotatedFrom: old.id,
        name: 'svc',
        scopes: ['tools:call'],
        role: 'member',
      });
      expect((await store.apiKeys.find(fresh.id))?.hash).toBe(fresh.hash);
      const stored = await store.apiKeys.find(old.id);
      if (!stored) throw new Error('old key vanished');
      expect(apiKeyState(stored, clock.now().getTime())).toBe('active');
      clock.advance(59);
      expect(apiKeyState(stored, clock.now().getTime())).toBe('active');
      clock.advance(1);
      expect(apiKeyState(stored, clock.now().getTime())).toBe('rotated');
      expect(apiKeyState(current, clock.now().getTime())).toBe('active');
      const again = newKeyMaterial();
      await refusal(
        store.apiKeys.rotate(
          tenant,
          old.id,
          { newId: again.id, newHash: again.hash, graceSeconds: 0 },
          ACTOR,
        ),
        'CONFLICT',
      );
    });

    it('a key is rotated once: rotating it again during its grace is a conflict', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const old = newKeyMaterial();
      await store.apiKeys.create(tenant, { ...old, name: 'svc', role: 'member' }, ACTOR);
      const first = newKeyMaterial();
      await store.apiKeys.rotate(
        tenant,
        old.id,
        { newId: first.id, newHash: first.hash, graceSeconds: 600 },
        ACTOR,
      );
      const second = newKeyMaterial();
      await refusal(
        store.apiKeys.rotate(
          tenant,
          old.id,
          { newId: second.id, newHash: second.hash, graceSeconds: 600 },
          ACTOR,
        ),
        'CONFLICT',
      );
      await refusal(
        store.apiKeys.rotate(
          tenant,
          old.id,
          { newId: second.id, newHash: second.hash, graceSeconds: -1 },
          ACTOR,
        ),
        'INVALID_PARAMS',
      );
    });

    it('rotation with no grace ends the old key at once', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const tenant = await withTenant(store);
      const old = newKeyMaterial();
      const fresh = newKeyMaterial();
      await store.apiKeys.create(tenant, { ...old, name: 'svc', role: 'member' }, ACTOR);
      const { previous } = await store.apiKeys.rotate(
        tenant,
        old.id,
        { newId: fresh.id, newHash: fresh.hash, graceSeconds: 0 },
        ACTOR,
      );
      expect(apiKeyState(previous, clock.now().getTime())).toBe('rotated');
    });

    it('suspend, resume and revoke change the state, and revoked is final', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const material = newKeyMaterial();
      await store.apiKeys.create(tenant, { ...material, name: 'k', role: 'member' }, ACTOR);
      const now = Date.now();
      expect(apiKeyState(await store.apiKeys.setStatus(tenant, material.id, 'suspended', ACTOR), now)).toBe(
        'suspended',
      );
      expect((await store.apiKeys.find(material.id))?.status).toBe('suspended');
      expect(apiKeyState(await store.apiKeys.setStatus(tenant, material.id, 'active', ACTOR), now)).toBe(
        'active',
      );
      expect(apiKeyState(await store.apiKeys.setStatus(tenant, material.id, 'revoked', ACTOR), now)).toBe(
        'revoked',
      );
      await refusal(store.apiKeys.setStatus(tenant, material.id, 'active', ACTOR), 'CONFLICT');
      await refusal(store.apiKeys.setStatus(tenant, material.id, 'suspended', ACTOR), 'CONFLICT');
      expect((await store.apiKeys.setStatus(tenant, material.id, 'revoked', ACTOR)).status).toBe('revoked');
      expect(await store.apiKeys.listCredentials()).toEqual([]);
      expect((await store.apiKeys.find(material.id))?.status).toBe('revoked');
      const fresh = newKeyMaterial();
      await refusal(
        store.apiKeys.rotate(
          tenant,
          material.id,
          { newId: fresh.id, newHash: fresh.hash, graceSeconds: 0 },
          ACTOR,
        ),
        'CONFLICT',
      );
    });

    it('a key past its expiry reads as expired, and an expiry in the past is refused', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const tenant = await withTenant(store);
      const material = newKeyMaterial();
      const key = await store.apiKeys.create(
        tenant,
        { ...material, name: 'k', role: 'member', expiresAt: '2026-11-01T01:00:00+00:00' },
        ACTOR,
      );
      expect(apiKeyState(key, clock.now().getTime())).toBe('active');
      clock.advance(3600);
      expect(apiKeyState(key, clock.now().getTime())).toBe('expired');
      await refusal(
        store.apiKeys.create(
          tenant,
          { ...newKeyMaterial(), name: 'k', role: 'member', expiresAt: '2026-10-01T00:00:00Z' },
          ACTOR,
        ),
        'INVALID_PARAMS',
      );
      await refusal(
        store.apiKeys.create(
          tenant,
          { ...newKeyMaterial(), name: 'k', role: 'member', expiresAt: 'tomorrow' },
          ACTOR,
        ),
        'INVALID_PARAMS',
      );
    });

    it('last use only moves forward, and is not an admin change', async () => {
      const store = await harness().open();
      const tenant = await withTenant(store);
      const material = newKeyMaterial();
      await store.apiKeys.create(tenant, { ...material, name: 'k', role: 'member' }, ACTOR);
      const version = await store.version();
      await store.apiKeys.recordUse([{ id: material.id, at: '2026-11-02T10:00:00.000Z' }]);
      await store.apiKeys.recordUse([{ id: material.id, at: '2026-11-02T09:00:00.000Z' }]);
      expect((await store.apiKeys.get(tenant, material.id))?.lastUsedAt).toBe('2026-11-02T10:00:00.000Z');
      await store.apiKeys.recordUse([{ id: material.id, at: '2026-11-02T11:00:00.000Z' }]);
      expect((await store.apiKeys.find(material.id))?.lastUsedAt).toBe('2026-11-02T11:00:00.000Z');
      expect(await store.version()).toBe(version);
    });
  });
}
