import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.ts';
import { ACTOR, masterKeys, newKeyMaterial, refusal, tenantId, type StoreHarness } from '../store-harness.ts';
import { populate, type Populated } from './populate.ts';

type Case = readonly [name: string, call: (store: Store, a: string, b: Populated) => Promise<unknown>];

/**
 * Reads for tenant A aimed at B's rows: each must answer as if B's row did not exist. (Which
 * tenant a caller may name at all, e.g. `tenants.get(B)`, is the admin API's authorization.)
 */
const READS: readonly Case[] = [
  ['projects.get', (store, a, b) => store.projects.get(a, b.projectId)],
  ['apiKeys.get', (store, a, b) => store.apiKeys.get(a, b.keyId)],
  [
    'serverConfigs.get',
    (store, a, b) => store.serverConfigs.get(a, b.server).then((c) => c?.tenantId === b.tenantId && c),
  ],
  [
    'serverConfigs.resolve',
    (store, a, b) => store.serverConfigs.resolve(a, b.server).then((c) => c?.tenantId === b.tenantId && c),
  ],
  ['grants.get', (store, a, b) => store.grants.get(a, b.grantId)],
  ['pins.getChange', (store, a, b) => store.pins.getChange(a, b.toolChangeId)],
  [
    'pins.listChanges',
    (store, a, b) =>
      store.pins.listChanges(a).then((changes) => changes.find((change) => change.id === b.toolChangeId)),
  ],
];

/** Mutations by tenant A on B's rows: each must be NOT_FOUND and change nothing. */
const WRITES: readonly Case[] = [
  ['apiKeys.setStatus', (store, a, b) => store.apiKeys.setStatus(a, b.keyId, 'revoked', ACTOR)],
  [
    'apiKeys.rotate',
    (store, a, b) => {
      const fresh = newKeyMaterial();
      return store.apiKeys.rotate(
        a,
        b.keyId,
        { newId: fresh.id, newHash: fresh.hash, graceSeconds: 0 },
        ACTOR,
      );
    },
  ],
  ['grants.revoke', (store, a, b) => store.grants.revoke(a, b.grantId, ACTOR)],
  ['pins.decide approve', (store, a, b) => store.pins.decide(a, b.toolChangeId, 'approve', ACTOR)],
  ['pins.decide reject', (store, a, b) => store.pins.decide(a, b.toolChangeId, 'reject', ACTOR)],
  [
    'apiKeys.create with B project',
    (store, a, b) =>
      store.apiKeys.create(
        a,
        { ...newKeyMaterial(), name: 'x', role: 'member', projectId: b.projectId },
        ACTOR,
      ),
  ],
];

export function tenantScopingTests(harness: () => StoreHarness): void {
  describe('tenant scoping', () => {
    async function setup() {
      const store = await harness().open({ masterKeys: masterKeys() });
      const c = tenantId('c');
      await store.tenants.create({ id: c, name: 'C' }, ACTOR);
      const a = await populate(store, tenantId('a'), c);
      const b = await populate(store, tenantId('b'), c);
      return { store, a, b, c };
    }

    it.each(READS)("%s for tenant A never returns tenant B's row", async (_name, call) => {
      const { store, a, b } = await setup();
      expect(await call(store, a.tenantId, b)).toBeFalsy();
    });

    it.each(WRITES)(
      "%s by tenant A on tenant B's row is refused and changes nothing",
      async (_name, call) => {
        const { store, a, b } = await setup();
        const before = await store.tenants.export(b.tenantId);
        const version = await store.version();
        const error = await refusal(call(store, a.tenantId, b));
        expect(['NOT_FOUND', 'INVALID_PARAMS']).toContain(error.code);
        expect(await store.version()).toBe(version);
        expect({ ...(await store.tenants.export(b.tenantId)), exportedAt: '' }).toEqual({
          ...before,
          exportedAt: '',
        });
      },
    );

    it("every list for tenant A holds A's rows and none of B's", async () => {
      const { store, a, b } = await setup();
      const lists = {
        projects: await store.projects.list(a.tenantId),
        apiKeys: await store.apiKeys.list(a.tenantId),
        serverConfigs: await store.serverConfigs.list(a.tenantId),
        grants: await store.grants.list(a.tenantId, { includeInactive: true }),
        changes: await store.changes.list(a.tenantId),
        toolPins: await store.pins.listPins(a.tenantId),
        toolChanges: await store.pins.listChanges(a.tenantId),
      };
      for (const [name, list] of Object.entries(lists)) {
        expect(list.length, name).toBeGreaterThan(0);
        expect(JSON.stringify(list), name).toContain(a.tenantId);
        expect(JSON.stringify(list), name).not.toContain(b.tenantId);
      }
    });

    it("a delete or patch by tenant A leaves B's config alone", async () => {
      const { store, a, b } = await setup();
      await store.serverConfigs.delete(a.tenantId, 'postgres', ACTOR);
      await refusal(
        store.serverConfigs.patch(a.tenantId, 'postgres', { env: { SCHEMA: 'x' } }, ACTOR),
        'NOT_FOUND',
      );
      expect((await store.serverConfigs.resolve(b.tenantId, 'postgres'))?.env['DATABASE_URL']).toEqual({
        secret: b.secret,
      });
      expect((await store.serverConfigs.get(b.tenantId, 'postgres'))?.env['SCHEMA']).toBe(
        `${b.tenantId}_schema`,
      );
    });
  });
}
