/**
 * The PostgreSQL side of the store suite. Each test gets its own schema (random name), owned by
 * a login role made for this run, which is neither superuser nor BYPASSRLS: row-level security
 * then binds the store exactly as it would in production. Raw reads go through the admin
 * connection of DATABASE_URL (a superuser, which row-level security does not bind).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { openStore } from '../../src/store/open-store.ts';
import { openPostgresDatabase } from '../../src/store/postgres/postgres-database.ts';
import type { Database } from '../../src/store/sql/database.ts';
import type { Store } from '../../src/store/store.ts';
import type { StoreHarness } from './store-harness.ts';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const run = promisify(execFile);

function randomName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

async function pgDumpAvailable(): Promise<boolean> {
  try {
    await run('pg_dump', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export type PostgresRun = {
  readonly admin: postgres.Sql;
  readonly role: string;
  /** DATABASE_URL, connecting as the run's role instead. */
  readonly roleUrl: string;
  harness(): Promise<StoreHarness & { readonly schema: string; readonly url: string }>;
  end(): Promise<void>;
};

export async function startPostgresRun(): Promise<PostgresRun> {
  const admin = postgres(DATABASE_URL, { onnotice: () => {}, max: 2 });
  const role = randomName('mcplane_test_role');
  await admin.unsafe(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS`);
  const roleUrl = (() => {
    const url = new URL(DATABASE_URL);
    url.username = role;
    url.password = '';
    return url.toString();
  })();
  const dump = await pgDumpAvailable();
  const schemas: string[] = [];

  async function harness() {
    const schema = randomName('mcplane_test');
    schemas.push(schema);
    await admin.unsafe(`CREATE SCHEMA ${schema} AUTHORIZATION ${role}`);
    const url = `${roleUrl}${roleUrl.includes('?') ? '&' : '?'}schema=${schema}`;
    const stores: Store[] = [];
    const databases: Database[] = [];
    return {
      backend: 'postgres' as const,
      schema,
      url,
      async open(options = {}) {
        const store = await openStore(url, { maxConnections: 3, ...options });
        stores.push(store);
        return store;
      },
      async database() {
        const db = await openPostgresDatabase({ url: roleUrl, schema, location: url, maxConnections: 2 });
        databases.push(db);
        return db;
      },
      async tables() {
        const rows = await admin`
          SELECT table_name, array_agg(column_name::text ORDER BY ordinal_position) AS columns
          FROM information_schema.columns WHERE table_schema = ${schema}
          GROUP BY table_name ORDER BY table_name`;
        return rows.map((row) => ({ name: String(row['table_name']), columns: row['columns'] as string[] }));
      },
      async rows(table: string) {
        return Array.from(await admin.unsafe(`SELECT * FROM "${schema}"."${table}"`));
      },
      async exec(sql: string, params: readonly (string | number | null)[] = []) {
        await admin.begin(async (tx) => {
          await tx.unsafe(`SET LOCAL search_path TO ${schema}`);
          await tx.unsafe(sql, [...params]);
        });
      },
      async atRest() {
        if (!dump) return undefined;
        const { stdout } = await run('pg_dump', ['--data-only', `--schema=${schema}`, DATABASE_URL], {
          maxBuffer: 64 * 1024 * 1024,
          encoding: 'buffer',
        });
        return { bytes: stdout, source: `pg_dump --schema=${schema}` };
      },
      async cleanup() {
        for (const store of stores) await store.close();
        for (const db of databases) await db.close();
        await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  }

  return {
    admin,
    role,
    roleUrl,
    harness,
    async end() {
      for (const schema of schemas) await admin.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.unsafe(`DROP OWNED BY ${role}`);
      await admin.unsafe(`DROP ROLE ${role}`);
      await admin.end({ timeout: 5 });
    },
  };
}
