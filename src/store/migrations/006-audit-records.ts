/**
 * The audit log's store sink (src/audit/store-sink.ts): one row per sealed record. `line` is the
 * record's JSON exactly as hashed, kept verbatim so `audit verify` can recompute every hash; the
 * other columns are copies of its fields, for the admin API's filters. Rows are read in `seq`
 * order, and the verifier checks each line's own seq and links, so a row edited, deleted,
 * inserted or moved (by renumbering `seq`) is found at its seq.
 *
 * `tenant_id` is the record's tenant; the log's own records (checkpoints, dropped counts) have
 * none. No foreign key to `tenants`: tenants defined in the config file have no row there.
 *
 * Number 6 (not 4): the limits and metering work take 4 and 5.
 */
import type { Migration } from './migration.ts';

type Types = { time: string; seq: string };

function tables(t: Types): string[] {
  return [
    `CREATE TABLE audit_records (
      seq ${t.seq} PRIMARY KEY,
      tenant_id TEXT,
      time ${t.time} NOT NULL,
      kind TEXT NOT NULL,
      tool TEXT,
      line TEXT NOT NULL
    )`,
    `CREATE INDEX audit_records_tenant ON audit_records (tenant_id, seq)`,
    `CREATE INDEX audit_records_time ON audit_records (time)`,
  ];
}

const PLATFORM = `current_setting('mcplane.platform', true) = 'on'`;
const TENANT = `current_setting('mcplane.tenant_id', true)`;

export const auditRecords: Migration = {
  version: 6,
  name: 'audit records',
  sqlite: tables({ time: 'TEXT', seq: 'INTEGER' }),
  postgres: [
    ...tables({ time: 'timestamptz', seq: 'bigint' }),
    `ALTER TABLE audit_records ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE audit_records FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_scope ON audit_records USING (${PLATFORM} OR tenant_id = ${TENANT}) WITH CHECK (${PLATFORM} OR tenant_id = ${TENANT})`,
  ],
};
