import { describe, expect, it } from 'vitest';
import type { Migration } from '../../../src/store/migrations/migration.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src/store/migrations/migrations.ts';
import { migrate } from '../../../src/store/migrations/migrator.ts';
import { ACTOR, refusal, tenantId, type StoreHarness } from '../store-harness.ts';

const now = () => new Date();

/** A later schema step, as a future migration would add one. */
const addQuota: Migration = {
  version: SCHEMA_VERSION + 1,
  name: 'tenant quota',
  sqlite: ['ALTER TABLE tenants ADD COLUMN quota_monthly_calls INTEGER'],
  postgres: ['ALTER TABLE tenants ADD COLUMN quota_monthly_calls integer'],
};

export function migrationTests(harness: () => StoreHarness): void {
  describe('migrations', () => {
    it("a fresh store is migrated to the code's schema version, and reopening applies nothing", async () => {
      const h = harness();
      const first = await h.open();
      const every = MIGRATIONS.map((migration) => migration.version);
      expect(await first.info()).toMatchObject({ schemaVersion: SCHEMA_VERSION, migrationsApplied: every });
      const id = tenantId('kept');
      await first.tenants.create({ id, name: 'Kept' }, ACTOR);
      const second = await h.open();
      expect(await second.info()).toMatchObject({ schemaVersion: SCHEMA_VERSION, migrationsApplied: [] });
      expect((await second.tenants.get(id))?.name).toBe('Kept');
      expect((await h.rows('schema_migrations')).map((row) => Number(row['version']))).toEqual(every);
    });

    it('a store migrated by a newer mcplane is refused, naming both versions', async () => {
      const h = harness();
      await h.open();
      await h.exec(
        `INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, 'future', '2030-01-01')`,
      );
      const error = await refusal(h.open(), 'STORE_SCHEMA_TOO_NEW');
      expect(error.message).toContain('schema version 99');
      expect(error.message).toContain(`this mcplane's ${SCHEMA_VERSION}`);
    });

    it('with migrations off, a store that needs them is refused', async () => {
      const error = await refusal(harness().open({ migrate: false }), 'STORE_SCHEMA_BEHIND');
      expect(error.message).toContain('mcplane store migrate');
    });

    it('a later migration upgrades an existing store once, keeping its data', async () => {
      const h = harness();
      const store = await h.open();
      const id = tenantId('old');
      await store.tenants.create({ id, name: 'Old' }, ACTOR);
      const db = await h.database();
      const next = SCHEMA_VERSION + 1;
      expect(await migrate(db, [...MIGRATIONS, addQuota], { apply: true, now })).toEqual({
        from: SCHEMA_VERSION,
        to: next,
        applied: [next],
      });
      expect(await migrate(db, [...MIGRATIONS, addQuota], { apply: true, now })).toEqual({
        from: next,
        to: next,
        applied: [],
      });
      expect((await h.rows('tenants'))[0]).toMatchObject({ id, quota_monthly_calls: null });
      await refusal(migrate(db, MIGRATIONS, { apply: true, now }), 'STORE_SCHEMA_TOO_NEW');
    });

    it('a failing migration leaves the schema as it was', async () => {
      const h = harness();
      await h.open();
      const broken: Migration = {
        ...addQuota,
        sqlite: [...addQuota.sqlite, 'NOT SQL'],
        postgres: [...addQuota.postgres, 'NOT SQL'],
      };
      const db = await h.database();
      await expect(migrate(db, [...MIGRATIONS, broken], { apply: true, now })).rejects.toThrow();
      expect((await h.tables()).find((table) => table.name === 'tenants')?.columns).not.toContain(
        'quota_monthly_calls',
      );
      expect(await migrate(db, MIGRATIONS, { apply: false, now })).toEqual({
        from: SCHEMA_VERSION,
        to: SCHEMA_VERSION,
        applied: [],
      });
    });
  });
}
