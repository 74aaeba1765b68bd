/**
 * `openStore(url, options)`: connects to the backend the URL names, applies pending migrations
 * (unless told not to) and returns the Store. Every failure is a GatewayError whose message
 * names the store without its password: STORE_URL_INVALID, STORE_UNAVAILABLE,
 * STORE_SCHEMA_TOO_NEW, STORE_SCHEMA_BEHIND.
 */
import { MIGRATIONS } from './migrations/migrations.ts';
import { migrate } from './migrations/migrator.ts';
import { openPostgresDatabase } from './postgres/postgres-database.ts';
import type { MasterKeyRing } from './secrets/master-keys.ts';
import { openSqliteDatabase } from './sqlite/sqlite-database.ts';
import { SqliteUsageWriter } from './sqlite/usage-writer.ts';
import type { Database } from './sql/database.ts';
import { createSqlStore, type SqlStoreOptions } from './sql/sql-store.ts';
import type { Store } from './store.ts';
import { isSchemaName, parseStoreUrl } from './store-url.ts';
import { invalid } from './validate.ts';

export type OpenStoreOptions = {
  /** Encrypts tenant secrets (`loadMasterKeys(env)`); without it, storing a secret is refused. */
  readonly masterKeys?: MasterKeyRing | undefined;
  /** Apply pending migrations (default); `false` refuses a store that needs them. */
  readonly migrate?: boolean;
  /** PostgreSQL schema for the tables; overrides the URL's `?schema=`. */
  readonly schema?: string;
  /** PostgreSQL connection pool size; default 10. */
  readonly maxConnections?: number;
  /** How often `watch` polls for other processes' changes; default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** Failures of background work (watch polling); default: ignored. */
  readonly onBackgroundError?: (error: unknown) => void;
  /** The clock, for tests of expiry and grace. */
  readonly now?: () => Date;
};

async function openDatabase(url: string, options: OpenStoreOptions): Promise<Database> {
  const location = parseStoreUrl(url);
  if (location.backend === 'sqlite') return openSqliteDatabase(location.path, location.display);
  const schema = options.schema ?? location.schema;
  if (schema !== undefined && !isSchemaName(schema)) {
    throw invalid('schema must be lowercase letters, digits and underscores');
  }
  return openPostgresDatabase({
    url: location.url,
    schema,
    location: location.display,
    password: location.password,
    ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
  });
}

/** A SQLite file's usage batches go to a thread of their own, off the gateway's event loop. */
function usageWriterFor(url: string): Pick<SqlStoreOptions, 'usageWriter'> {
  const location = parseStoreUrl(url);
  if (location.backend !== 'sqlite' || location.path === ':memory:') return {};
  return { usageWriter: new SqliteUsageWriter(location.path, location.display) };
}

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const db = await openDatabase(url, options);
  try {
    const result = await migrate(db, MIGRATIONS, { apply: options.migrate ?? true, now });
    return createSqlStore(db, {
      masterKeys: options.masterKeys,
      now,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onBackgroundError: options.onBackgroundError ?? (() => {}),
      schemaVersion: result.to,
      migrationsApplied: result.applied,
      ...usageWriterFor(url),
    });
  } catch (error) {
    await db.close();
    throw error;
  }
}
