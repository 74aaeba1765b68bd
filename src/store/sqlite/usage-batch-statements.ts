/**
 * The SQLite usage writer thread's own path for a batch: the shared statements
 * (sql/usage-write.ts) prepared once on its connection and run directly, in one synchronous
 * transaction, instead of through the store's async `Sql` (a promise, a lookup and a parameter
 * copy per row). Nothing else runs on this thread, so there is nothing to queue behind.
 *
 * One row per INSERT: multi-row INSERTs of 10 and 20 rows measured no cheaper per row in
 * node:sqlite (the binding of many parameters costs what the statements save).
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import type { CostCharge, UsageEvent } from '../usage-records.ts';
import {
  bucketParams,
  eventParams,
  INSERT_EVENT,
  rollupsOf,
  UPSERT_DAILY,
  UPSERT_HOURLY,
  type Bucket,
} from '../sql/usage-write.ts';
import { sqliteText } from './sqlite-database.ts';

export class UsageBatchStatements {
  readonly #db: DatabaseSync;
  readonly #insert: StatementSync;
  readonly #hourly: StatementSync;
  readonly #daily: StatementSync;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#insert = db.prepare(sqliteText(INSERT_EVENT));
    this.#hourly = db.prepare(sqliteText(UPSERT_HOURLY));
    this.#daily = db.prepare(sqliteText(UPSERT_DAILY));
  }

  /** Writes a checked batch, all or nothing: one `BEGIN IMMEDIATE` … `COMMIT`. */
  write(events: readonly UsageEvent[], charges: readonly CostCharge[]): void {
    const rollups = rollupsOf(events, charges);
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const event of events) this.#insert.run(...eventParams(event));
      upsert(this.#hourly, rollups.hourly);
      upsert(this.#daily, rollups.daily);
      this.#db.exec('COMMIT');
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw error;
    }
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function upsert(statement: StatementSync, buckets: Map<string, Bucket>): void {
  for (const bucket of buckets.values()) statement.run(...bucketParams(bucket));
}
