/**
 * The SQLite backend's driver: Node's built-in node:sqlite (DatabaseSync) in WAL mode.
 *
 * The driver is synchronous but the store's interface is async, so transactions are queued:
 * one runs at a time on the connection, and an `await` inside one cannot let another's
 * statements in. `BEGIN IMMEDIATE` takes the write lock up front, so another process on the
 * same file (the CLI next to `serve`) waits up to the busy timeout instead of failing midway.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { GatewayError } from '../../errors.ts';
import { JsonParam, type ConstraintKind, type Database, type Sql, type SqlParam } from '../sql/database.ts';

const BUSY_TIMEOUT_MS = 5_000;

// SQLite extended result codes (https://sqlite.org/rescode.html).
const CONSTRAINTS: Record<number, ConstraintKind> = {
  1555: 'unique', // SQLITE_CONSTRAINT_PRIMARYKEY
  2067: 'unique', // SQLITE_CONSTRAINT_UNIQUE
  787: 'foreign-key', // SQLITE_CONSTRAINT_FOREIGNKEY
  275: 'check', // SQLITE_CONSTRAINT_CHECK
  1299: 'check', // SQLITE_CONSTRAINT_NOTNULL
};

function toSqlite(param: SqlParam): SQLInputValue {
  if (param instanceof JsonParam) return JSON.stringify(param.value);
  if (typeof param === 'boolean') return param ? 1 : 0;
  return param;
}

/** The shared queries use PostgreSQL's $1; SQLite reads ?1 the same way. */
export function sqliteText(text: string): string {
  return text.replace(/\$(\d+)/g, '?$1');
}

/** A connection to the store's file (or `:memory:`), WAL and `synchronous = NORMAL`, as the store opens it. */
export function openSqliteConnection(path: string, location: string): DatabaseSync {
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS, enableForeignKeyConstraints: true });
    if (path !== ':memory:') db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    return db;
  } catch (error) {
    throw new GatewayError(
      'STORE_UNAVAILABLE',
      `cannot open the SQLite store at ${location}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

export function openSqliteDatabase(path: string, location: string): Database {
  const db = openSqliteConnection(path, location);
  const statements = new Map<string, StatementSync>();
  let queue: Promise<unknown> = Promise.resolve();

  function statement(text: string): StatementSync {
    let prepared = statements.get(text);
    if (!prepared) {
      prepared = db.prepare(sqliteText(text));
      statements.set(text, prepared);
    }
    return prepared;
  }

  const sql: Sql = {
    async rows(text, params = []) {
      return statement(text).all(...params.map(toSqlite));
    },
    async run(text, params = []) {
      return Number(statement(text).run(...params.map(toSqlite)).changes);
    },
  };

  async function execute<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = await work(sql);
      db.exec('COMMIT');
      return result;
    } catch (error) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw error;
    }
  }

  return {
    dialect: 'sqlite',
    location,
    transaction(_scope, work) {
      const run = queue.then(() => execute(work));
      queue = run.catch(() => undefined);
      return run;
    },
    constraintKind(error) {
      const code = (error as { errcode?: unknown } | null)?.errcode;
      return typeof code === 'number' ? CONSTRAINTS[code] : undefined;
    },
    async announce() {},
    async listen() {
      // Another process on the same file is seen by polling the version.
      return async () => {};
    },
    async rowLevelSecurity() {
      return 'none';
    },
    async close() {
      await queue;
      if (db.isOpen) db.close();
    },
  };
}
