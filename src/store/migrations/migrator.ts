/**
 * Brings a store's schema to the code's version, in one transaction: all pending migrations or
 * none. A schema newer than the code is refused, naming both versions: an older mcplane must
 * not write to tables it does not understand. On PostgreSQL an advisory lock makes replicas
 * that start together apply each migration once.
 */
import { GatewayError } from '../../errors.ts';
import type { Database, Sql } from '../sql/database.ts';
import { integer } from '../sql/rows.ts';
import type { Migration } from './migration.ts';

export type MigrationResult = {
  readonly from: number;
  readonly to: number;
  readonly applied: readonly number[];
};

const BOOKKEEPING = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at TEXT NOT NULL
)`;

async function appliedVersions(sql: Sql): Promise<Set<number>> {
  const rows = await sql.rows('SELECT version FROM schema_migrations');
  return new Set(rows.map((row) => integer(row, 'version')));
}

// Versions ascend but may skip a number: each piece of work is given its number up front, so a
// branch can hold 6 before 4 and 5 arrive. A skipped number that arrives later is applied then.
function checkOrder(migrations: readonly Migration[]): void {
  migrations.forEach((migration, index) => {
    const before = index === 0 ? 0 : (migrations[index - 1] as Migration).version;
    if (!Number.isSafeInteger(migration.version) || migration.version <= before)
      throw new Error(`migration ${migration.name} is out of order`);
  });
}

/**
 * Applies what is pending, or with `apply: false` only checks (STORE_SCHEMA_BEHIND when
 * something is pending). Returns the versions before and after.
 */
export async function migrate(
  db: Database,
  migrations: readonly Migration[],
  options: { apply: boolean; now: () => Date },
): Promise<MigrationResult> {
  checkOrder(migrations);
  const latest = migrations.at(-1)?.version ?? 0;
  return db.transaction('platform', async (sql) => {
    if (db.dialect === 'postgres') {
      await sql.rows(`SELECT pg_advisory_xact_lock(hashtext('mcplane.migrate:' || current_schema()))`);
    }
    await sql.run(BOOKKEEPING);
    const applied = await appliedVersions(sql);
    const from = Math.max(0, ...applied);
    if (from > latest) {
      throw new GatewayError(
        'STORE_SCHEMA_TOO_NEW',
        `the store at ${db.location} has schema version ${from}, newer than this mcplane's ${latest}: upgrade mcplane`,
        { detail: { storeVersion: from, codeVersion: latest } },
      );
    }
    const pending = migrations.filter((migration) => !applied.has(migration.version));
    if (pending.length > 0 && !options.apply) {
      throw new GatewayError(
        'STORE_SCHEMA_BEHIND',
        `the store at ${db.location} has schema version ${from}, older than this mcplane's ${latest}: run \`mcplane store migrate\``,
        { detail: { storeVersion: from, codeVersion: latest } },
      );
    }
    for (const migration of pending) {
      for (const statement of migration[db.dialect]) await sql.run(statement);
      await sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        options.now().toISOString(),
      ]);
    }
    return { from, to: Math.max(from, latest), applied: pending.map((migration) => migration.version) };
  });
}
