import { describe, expect, it } from 'vitest';
import { generateMasterKey } from '../../../src/store/secrets/master-keys.ts';
import { ACTOR, masterKeys, mentions, refusal, tenantId, type StoreHarness } from '../store-harness.ts';

const CANARY = 'canary-b41e07-at-rest';
const VISIBLE = 'visible-marker-5d2c81';

export function secretsAtRestTests(harness: () => StoreHarness): void {
  describe('secrets at rest', () => {
    it('a canary secret is absent from the stored bytes, every table, the change log and the export', async () => {
      const h = harness();
      const store = await h.open({ masterKeys: masterKeys() });
      const tenant = tenantId('acme');
      await store.tenants.create({ id: tenant, name: 'Acme' }, ACTOR);
      await store.serverConfigs.put(
        tenant,
        'pg',
        { env: { DATABASE_URL: CANARY, PLAIN_SETTING: VISIBLE }, args: [`--password=${CANARY}`] },
        ACTOR,
      );
      await store.serverConfigs.patch(tenant, 'pg', { env: { API_TOKEN: CANARY } }, ACTOR);

      for (const { name } of await h.tables()) expect(mentions(await h.rows(name), CANARY), name).toBe(false);
      expect(mentions(await h.rows('tenant_server_configs'), VISIBLE)).toBe(true);
      const exported = JSON.stringify(await store.tenants.export(tenant));
      expect(exported).toContain(VISIBLE);
      expect(exported).not.toContain(CANARY);
      expect(JSON.stringify(await store.changes.list(tenant))).not.toContain(CANARY);

      const atRest = await h.atRest();
      if (atRest === undefined) {
        console.warn(
          `store suite (${h.backend}): no way to read the database at rest here; byte check skipped`,
        );
        return;
      }
      // The plain value proves these are the right bytes; the canary must not be among them.
      expect(atRest.bytes.includes(VISIBLE), atRest.source).toBe(true);
      expect(atRest.bytes.includes(CANARY), atRest.source).toBe(false);
    });

    it('rotate-key re-encrypts every secret under the new key, and the old key is then not needed', async () => {
      const h = harness();
      const oldKey = generateMasterKey();
      const before = await h.open({ masterKeys: masterKeys([], oldKey) });
      const a = tenantId('a');
      const b = tenantId('b');
      for (const tenant of [a, b]) {
        await before.tenants.create({ id: tenant, name: tenant }, ACTOR);
        await before.serverConfigs.put(
          tenant,
          'pg',
          { env: { DATABASE_URL: `${tenant}-url`, MODE: 'ro' }, args: [{ secret: 's' }] },
          ACTOR,
        );
      }
      const oldId = masterKeys([], oldKey).current.id;
      expect(await before.secrets.keyIdsInUse()).toEqual({ [oldId]: 4 });

      const ring = masterKeys([oldKey]);
      const during = await h.open({ masterKeys: ring });
      expect((await during.serverConfigs.resolve(a, 'pg'))?.env['DATABASE_URL']).toEqual({
        secret: `${a}-url`,
      });
      expect(await during.secrets.rotate(ACTOR)).toEqual({ reencrypted: 4, keyId: ring.current.id });
      expect(await during.secrets.keyIdsInUse()).toEqual({ [ring.current.id]: 4 });
      expect((await during.secrets.rotate(ACTOR)).reencrypted).toBe(0);
      expect((await during.changes.list(null)).map((change) => change.action)).toEqual(['store.rotate_key']);

      const after = await h.open({ masterKeys: masterKeys([], ring.encoded) });
      expect((await after.serverConfigs.resolve(b, 'pg'))?.env).toEqual({
        DATABASE_URL: { secret: `${b}-url` },
        MODE: 'ro',
      });
      const stale = await h.open({ masterKeys: masterKeys([], oldKey) });
      const error = await refusal(stale.serverConfigs.resolve(a, 'pg'), 'SECRET_UNREADABLE');
      expect(error.message).toContain(ring.current.id);
      expect(error.message).not.toContain(`${a}-url`);
    });

    it('a store without a master key reads masked views but refuses to decrypt', async () => {
      const h = harness();
      const keyed = await h.open({ masterKeys: masterKeys() });
      const tenant = tenantId('acme');
      await keyed.tenants.create({ id: tenant, name: 'Acme' }, ACTOR);
      await keyed.serverConfigs.put(tenant, 'pg', { env: { DATABASE_URL: CANARY } }, ACTOR);
      const keyless = await h.open();
      expect((await keyless.serverConfigs.get(tenant, 'pg'))?.env['DATABASE_URL']).toMatchObject({
        set: true,
      });
      await refusal(keyless.serverConfigs.resolve(tenant, 'pg'), 'MASTER_KEY_MISSING');
      await refusal(keyless.secrets.rotate(ACTOR), 'MASTER_KEY_MISSING');
    });
  });
}
