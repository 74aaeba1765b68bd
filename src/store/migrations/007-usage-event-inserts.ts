/**
 * SQLite only: `usage_events` rebuilt for a cheaper insert, the one row written per metered
 * call, with the same columns and the same rows. Two changes, measured by
 * `node bench/metering/sqlite-rows.ts` (version 6 against 7):
 *
 * - `kind` is checked with `=` and `OR`, not `IN (…)`: SQLite builds a list of constants given
 *   to `IN` into an ephemeral table every time the statement runs, and in a CHECK constraint
 *   that is every insert (about 1 µs of a 3.5 µs row, in a table alone);
 * - `id` without AUTOINCREMENT, which keeps a row in `sqlite_sequence` and updates it with every
 *   insert (about 0.25 µs). A plain `INTEGER PRIMARY KEY` still gives each new row one more than
 *   the largest id in the table; the one difference is that an id may come back after the newest
 *   rows are deleted, which only retention does, and it deletes the oldest. Nothing outside the
 *   store sees the id: it breaks ties between events of the same `ts`.
 *
 * SQLite can change neither in place, so the table is rebuilt (a migration takes time in
 * proportion to the events kept). PostgreSQL checks `IN` without a table and its `bigserial`
 * has no such cost: nothing changes there.
 */
import { SQLITE_TYPES, USAGE_EVENTS_INDEX, usageEventsTable } from './005-usage-billing.ts';
import type { Migration } from './migration.ts';

// Written out, not built from USAGE_KINDS: a migration's text never changes once released.
const KINDS_OR = "kind = 'tool-call' OR kind = 'prompt-get' OR kind = 'resource-read' OR kind = 'sampling'";

export const usageEventInserts: Migration = {
  version: 7,
  name: 'cheaper usage event inserts',
  sqlite: [
    usageEventsTable(SQLITE_TYPES, 'INTEGER PRIMARY KEY', { name: 'usage_events_rebuilt', kinds: KINDS_OR }),
    'INSERT INTO usage_events_rebuilt SELECT * FROM usage_events',
    'DROP TABLE usage_events',
    'ALTER TABLE usage_events_rebuilt RENAME TO usage_events',
    USAGE_EVENTS_INDEX,
  ],
  postgres: [],
};
