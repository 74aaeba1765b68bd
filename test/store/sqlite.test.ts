import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/migrations/migrations.ts';
import { migrate } from '../../src/store/migrations/migrator.ts';
import { openStore } from '../../src/store/open-store.ts';
import { openSqliteDatabase } from '../../src/store/sqlite/sqlite-database.ts';
import type { Database } from '../../src/store/sql/database.ts';
import type { Store } from '../../src/store/store.ts';
import { ACTOR, refusal, type StoreHarness } from './store-harness.ts';
import { storeSuite } from './store-suite.ts';

async function sqliteHarness(): Promise<StoreHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'mcplane-store-'));
  const path = join(dir, 'state', 'mcplane.db');
  const url = `sqlite:${path}`;
  const stores: Store[] = [];
  const databases: Database[] = [];
  let raw: DatabaseSync | undefined;
  const rawDb = () => (raw ??= new DatabaseSync(path));

  return {
    backend: 'sqlite',
    url,
    async open(options) {
      const store = await openStore(url, options);
      stores.push(store);
      return store;
    },
    async database() {
      const db = openSqliteDatabase(path, url);
      databases.push(db);
      return db;
    },
    async tables() {
      const names = rawDb()
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`,
        )
        .all()
        .map((row) => String(row['name']));
      return names.map((name) => ({
        name,
        columns: rawDb()
          .prepare(`SELECT name FROM pragma_table_info(?)`)
          .all(name)
          .map((row) => String(row['name'])),
      }));
    },
    async rows(table) {
      return rawDb().prepare(`SELECT * FROM ${table}`).all();
    },
    async exec(sql, params = []) {
      rawDb()
        .prepare(sql.replace(/\$(\d+)/g, '?$1'))
        .run(...params);
    },
    async atRest() {
      const files = readdirSync(join(dir, 'state')).map((name) => join(dir, 'state', name));
      return { bytes: Buffer.concat(files.map((file) => readFileSync(file))), source: files.join(', ') };
    },
    async cleanup() {
      raw?.close();
      for (const store of stores) await store.close();
      for (const db of databases) await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

describe('SQLite store', () => {
  storeSuite(sqliteHarness);

  describe('SQLite specifics', () => {
    it('opening creates the directory and the file in WAL mode', async () => {
      const h = await sqliteHarness();
      try {
        const store = await h.open();
        await store.tenants.create({ id: 'acme', name: 'Acme' }, ACTOR);
        const source = (await h.atRest())?.source ?? '';
        expect(source).toContain('mcplane.db-wal');
        const dir = source.split(', ')[0]?.replace(/[/\\][^/\\]+$/, '') ?? '';
        expect(statSync(dir).mode & 0o077).toBe(0);
        const info = await store.info();
        expect(info).toMatchObject({ backend: 'sqlite', rowLevelSecurity: 'none', masterKeyId: null });
        expect(info.location).toMatch(/^sqlite:/);
      } finally {
        await h.cleanup();
      }
    });

    it('sqlite::memory: is a working store that vanishes with the process', async () => {
      const store = await openStore('sqlite::memory:');
      try {
        await store.tenants.create({ id: 'acme', name: 'Acme' }, ACTOR);
        expect(await store.tenants.list()).toHaveLength(1);
        expect(existsSync(':memory:')).toBe(false);
      } finally {
        await store.close();
      }
    });

    it('a path that cannot hold a database is STORE_UNAVAILABLE naming the store', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-store-'));
      try {
        const error = await refusal(openStore(`sqlite:${dir}`), 'STORE_UNAVAILABLE');
        expect(error.message).toContain(`sqlite:${dir}`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('concurrent writes through one store are serialised, none lost', async () => {
      const store = await openStore('sqlite::memory:');
      try {
        await Promise.all(
          Array.from({ length: 50 }, (_, index) =>
            store.tenants.create({ id: `t${index}`, name: `T${index}` }, ACTOR),
          ),
        );
        expect(await store.tenants.list()).toHaveLength(50);
        expect(await store.version()).toBe(50);
      } finally {
        await store.close();
      }
    });
    it('migration 7 rebuilds usage_events (kinds checked without IN, no AUTOINCREMENT), keeping every event, its id, the index and the check', async () => {
      const h = await sqliteHarness();
      try {
        const db = await h.database();
        await migrate(db, MIGRATIONS.slice(0, 6), { apply: true, now: () => new Date() });
        const insert = `INSERT INTO usage_events (id, ts, tenant_id, project_id, api_key_id, principal, server, kind,
          tool_name, latency_ms, status, status_code, bytes_in, bytes_out)
          VALUES ($1, $2, 'acme', NULL, 'k1', 'key:k1', 'echo', 'tool-call', 'echo', 1.5, 'ok', 200, 10, 20)`;
        // Ids with a gap, as retention leaves them.
        for (const [id, ts] of [
          [3, '2026-12-01T10:00:00.000Z'],
          [7, '2026-12-01T10:00:00.000Z'],
          [9, '2026-12-01T11:00:00.000Z'],
        ] as const)
          await h.exec(insert, [id, ts]);
        await db.close();

        const store = await h.open();
        expect(await store.info()).toMatchObject({ migrationsApplied: [7] });
        const schema = (await h.rows('sqlite_master')).filter((row) => row['tbl_name'] === 'usage_events');
        const table = String(schema.find((row) => row['type'] === 'table')?.['sql']);
        expect(table).not.toMatch(/AUTOINCREMENT| IN \(/i);
        await expect(
          h.exec(insert.replace(`'tool-call'`, `'bogus'`), [20, '2026-12-01T10:00:00.000Z']),
        ).rejects.toThrow(/CHECK constraint failed/);
        expect(schema.find((row) => row['type'] === 'index')?.['name']).toBe('usage_events_by_tenant');
        expect((await h.rows('usage_events')).map((row) => Number(row['id']))).toEqual([3, 7, 9]);

        const event = {
          ts: '2026-12-01T12:00:00.000Z',
          tenantId: 'acme',
          principal: 'key:k1',
          kind: 'tool-call',
          latencyMs: 2,
          status: 'ok',
          statusCode: 200,
          bytesIn: 1,
          bytesOut: 2,
          cost: 0,
        } as const;
        await store.usage.record([event]);
        const listed = await store.usage.events(
          'acme',
          '2026-12-01T00:00:00.000Z',
          '2026-12-02T00:00:00.000Z',
        );
        expect(listed.map((stored) => stored.ts)).toEqual([
          '2026-12-01T10:00:00.000Z',
          '2026-12-01T10:00:00.000Z',
          '2026-12-01T11:00:00.000Z',
          '2026-12-01T12:00:00.000Z',
        ]);
        // A new row takes one more than the largest id.
        expect((await h.rows('usage_events')).map((row) => Number(row['id']))).toEqual([3, 7, 9, 10]);
      } finally {
        await h.cleanup();
      }
    });
  });
});
