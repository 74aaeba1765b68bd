/**
 * What every query module shares: the backend, the secret box, the clock, and the two ways to
 * run work: `read`, and `write`, which records admin changes in the same transaction. Each
 * change bumps the one-row version counter and takes its value as `seq`; the row lock that
 * takes serialises writers, so changes commit in `seq` order and a replica following
 * `changes.since(v)` cannot skip one that commits late.
 */
import { API_KEY_SCAN_PATTERN } from '../../identity/api-key-format.ts';
import type { AdminChange } from '../records.ts';
import type { SecretBox } from '../secrets/secret-box.ts';
import type { ChangeContext, NewChange } from '../store.ts';
import { checkText } from '../validate.ts';
import { json, type Database, type Row, type Scope, type Sql } from './database.ts';
import { integer, record, text, textOrNull, time } from './rows.ts';

export type Writer = {
  readonly sql: Sql;
  /** The transaction's time, ISO. */
  readonly at: string;
  /** Records one admin change in this transaction. */
  readonly log: (tenantId: string | null, change: NewChange) => Promise<AdminChange>;
};

export type StoreContext = {
  readonly db: Database;
  readonly box: SecretBox | undefined;
  now(): Date;
  read<T>(scope: Scope, work: (sql: Sql) => Promise<T>): Promise<T>;
  write<T>(scope: Scope, context: ChangeContext, work: (writer: Writer) => Promise<T>): Promise<T>;
};

export function scopeOf(tenantId: string | null): Scope {
  return tenantId === null ? 'platform' : { tenantId };
}

export function changeFromRow(row: Row): AdminChange {
  return {
    seq: integer(row, 'seq'),
    at: time(row, 'at'),
    actor: text(row, 'actor'),
    tenantId: textOrNull(row, 'tenant_id'),
    action: text(row, 'action'),
    target: text(row, 'target'),
    details: record(row, 'details'),
  };
}

/** Defence in depth: an API key that slipped into details never reaches the log. */
function redacted(details: Readonly<Record<string, unknown>>): unknown {
  return JSON.parse(JSON.stringify(details).replace(API_KEY_SCAN_PATTERN, '[redacted]')) as unknown;
}

async function logChange(
  sql: Sql,
  at: string,
  actor: string,
  tenantId: string | null,
  change: NewChange,
): Promise<AdminChange> {
  const [bumped] = await sql.rows(
    'UPDATE store_state SET version = version + 1 WHERE id = 1 RETURNING version',
  );
  if (!bumped) throw new Error('store_state row is missing');
  const seq = integer(bumped, 'version');
  const [row] = await sql.rows(
    `INSERT INTO admin_changes (seq, at, actor, tenant_id, action, target, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
    [seq, at, actor, tenantId, change.action, change.target, json(redacted(change.details ?? {}))],
  );
  return changeFromRow(row as Row);
}

export function createStoreContext(options: {
  db: Database;
  box: SecretBox | undefined;
  now: () => Date;
  /** Called after a committed write that changed the version. */
  committed: (version: number) => void;
}): StoreContext {
  const { db, now } = options;
  return {
    db,
    box: options.box,
    now,
    read: (scope, work) => db.transaction(scope, work),
    async write(scope, context, work) {
      checkText(context.actor, 'actor');
      let version: number | undefined;
      const result = await db.transaction(scope, async (sql) => {
        const at = now().toISOString();
        const writer: Writer = {
          sql,
          at,
          async log(tenantId, change) {
            const entry = await logChange(sql, at, context.actor, tenantId, change);
            version = entry.seq;
            return entry;
          },
        };
        const value = await work(writer);
        if (version !== undefined) await db.announce(sql, version);
        return value;
      });
      if (version !== undefined) options.committed(version);
      return result;
    },
  };
}
