import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SCHEMA_VERSION } from '../../src/store/migrations/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { TENANT_TABLES } from '../../src/store/sql/tenant-tables.ts';
import { DATABASE_URL, startPostgresRun, type PostgresRun } from './postgres-harness.ts';
import { ACTOR, masterKeys, refusal, tenantId } from './store-harness.ts';
import { storeSuite } from './store-suite.ts';
import { populate } from './suite/populate.ts';

let pg: PostgresRun | undefined;
const run = (): PostgresRun => {
  if (!pg) throw new Error('the PostgreSQL run did not start');
  return pg;
};

beforeAll(async () => {
  pg = await startPostgresRun();
});
afterAll(async () => {
  await pg?.end();
});

describe('PostgreSQL store', () => {
  storeSuite(() => run().harness());

  describe('row-level security', () => {
    async function twoTenants() {
      const h = await run().harness();
      const store = await h.open({ masterKeys: masterKeys() });
      const c = tenantId('c');
      await store.tenants.create({ id: c, name: 'C' }, ACTOR);
      const a = await populate(store, tenantId('a'), c);
      const b = await populate(store, tenantId('b'), c);
      return { h, store, a, b, c };
    }

    it('binds the store: its database user is neither superuser nor BYPASSRLS', async () => {
      const h = await run().harness();
      try {
        const store = await h.open();
        expect((await store.info()).rowLevelSecurity).toBe('enforced');
        const admin = await openStore(
          `${DATABASE_URL}${DATABASE_URL.includes('?') ? '&' : '?'}schema=${h.schema}`,
        );
        try {
          expect((await admin.info()).rowLevelSecurity).toBe('bypassed');
        } finally {
          await admin.close();
        }
      } finally {
        await h.cleanup();
      }
    });

    it("a query that forgot its tenant clause still sees only the scoped tenant's rows", async () => {
      const { h, a, b } = await twoTenants();
      try {
        const db = await h.database();
        for (const { table, tenantColumns } of TENANT_TABLES) {
          // Deliberately no WHERE: only the policy stands between tenant A and B's rows.
          const rows = await db.transaction({ tenantId: a.tenantId }, (sql) =>
            sql.rows(`SELECT * FROM ${table}`),
          );
          expect(rows.length, table).toBeGreaterThan(0);
          for (const row of rows) {
            expect(
              tenantColumns.map((column) => row[column]),
              table,
            ).toContain(a.tenantId);
            expect(JSON.stringify(row), table).not.toContain(b.tenantId);
          }
          const all = await db.transaction('platform', (sql) => sql.rows(`SELECT * FROM ${table}`));
          expect(all.length, table).toBeGreaterThan(rows.length);
        }
      } finally {
        await h.cleanup();
      }
    });

    it("a write in tenant A's scope cannot touch or create tenant B's rows", async () => {
      const { h, a, b } = await twoTenants();
      try {
        const db = await h.database();
        const updated = await db.transaction({ tenantId: a.tenantId }, (sql) =>
          sql.run(`UPDATE api_keys SET name = 'hijacked'`),
        );
        expect(updated).toBe(1);
        const deleted = await db.transaction({ tenantId: a.tenantId }, (sql) =>
          sql.run('DELETE FROM admin_changes'),
        );
        expect(deleted).toBeGreaterThan(0);
        await expect(
          db.transaction({ tenantId: a.tenantId }, (sql) =>
            sql.run(`INSERT INTO projects (id, tenant_id, name, created_at) VALUES ('p-x', $1, 'x', now())`, [
              b.tenantId,
            ]),
          ),
        ).rejects.toMatchObject({ code: '42501' });
        const bKeys = (await h.rows('api_keys')).filter((row) => row['tenant_id'] === b.tenantId);
        expect(bKeys.map((row) => row['name'])).toEqual([`${b.tenantId} key`]);
        expect((await h.rows('admin_changes')).some((row) => row['tenant_id'] === b.tenantId)).toBe(true);
      } finally {
        await h.cleanup();
      }
    });

    it('outside a store transaction the policies show nothing at all', async () => {
      const { h } = await twoTenants();
      try {
        const postgres = (await import('postgres')).default;
        const plain = postgres(run().roleUrl, {
          onnotice: () => {},
          max: 1,
          connection: { search_path: h.schema },
        });
        try {
          for (const { table } of TENANT_TABLES) {
            expect(await plain.unsafe(`SELECT * FROM ${table}`), table).toHaveLength(0);
          }
        } finally {
          await plain.end({ timeout: 5 });
        }
      } finally {
        await h.cleanup();
      }
    });
  });

  describe('replicas', () => {
    it("another replica's change reaches watch by NOTIFY, without waiting for a poll", async () => {
      const h = await run().harness();
      try {
        const watching = await h.open({ pollIntervalMs: 3_600_000 });
        const replica = await h.open({ pollIntervalMs: 3_600_000 });
        const seen: number[] = [];
        const stop = watching.watch((version) => seen.push(version));
        // LISTEN is set up asynchronously; a change seen by watch proves the channel is live.
        await vi.waitFor(
          async () => {
            await replica.changes.record(null, { action: 'test.ping', target: 'probe' }, ACTOR);
            expect(seen.length).toBeGreaterThan(0);
          },
          { timeout: 10_000, interval: 200 },
        );
        const version = await replica.changes.record(null, { action: 'test.ping', target: 'probe' }, ACTOR);
        await vi.waitFor(() => expect(seen.at(-1)).toBe(version.seq), { timeout: 10_000, interval: 20 });
        stop();
      } finally {
        await h.cleanup();
      }
    });
  });

  describe('connecting', () => {
    it('an unreachable database is STORE_UNAVAILABLE, and the message hides the password', async () => {
      const error = await refusal(
        openStore('postgres://mcplane:s3cret-pw@127.0.0.1:1/nowhere'),
        'STORE_UNAVAILABLE',
      );
      expect(error.message).toContain('postgres://mcplane:***@127.0.0.1:1/nowhere');
      expect(error.message).not.toContain('s3cret-pw');
    });

    it('a missing schema is created, and a malformed one refused', async () => {
      const h = await run().harness();
      try {
        await run().admin.unsafe(`DROP SCHEMA ${h.schema}`);
        await run().admin.unsafe(
          `GRANT CREATE ON DATABASE ${new URL(DATABASE_URL).pathname.slice(1)} TO ${run().role}`,
        );
        const store = await h.open();
        expect((await store.info()).schemaVersion).toBe(SCHEMA_VERSION);
        await refusal(openStore(DATABASE_URL, { schema: 'Bad-Schema' }), 'INVALID_PARAMS');
      } finally {
        await h.cleanup();
      }
    });
  });
});
