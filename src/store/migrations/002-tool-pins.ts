/**
 * Tool-definition pinning (issue 8): the approved definition of each tool per server and scope
 * (`tool_pins`), and the changes a server offered since, waiting for an admin (`tool_changes`).
 *
 * - `tenant_id` is the scope: a tenant's id for the pins of its `mode: tenant` pools, NULL for
 *   shared and session-mode servers, which every tenant sees alike (the store's NULL-for-platform
 *   convention). It has no foreign key: config-managed tenants are not in `tenants`.
 * - One pin per (scope, server, tool): two partial unique indexes, since NULLs are distinct in a
 *   plain unique index on both backends.
 * - At most one open (pending or rejected) change per (scope, server, tool, offered hash), so
 *   replicas that see the same change at once record it once.
 * - PostgreSQL: row-level security like `admin_changes`: a tenant's scope sees its own rows, and
 *   global rows only in the platform scope.
 */
import type { Migration } from './migration.ts';

type Types = { time: string; json: string };

function tables(t: Types): string[] {
  return [
    `CREATE TABLE tool_pins (
      tenant_id TEXT,
      server TEXT NOT NULL,
      tool TEXT NOT NULL,
      hash TEXT NOT NULL,
      definition ${t.json} NOT NULL,
      approved_at ${t.time} NOT NULL,
      approved_by TEXT NOT NULL
    )`,
    `CREATE UNIQUE INDEX tool_pins_tenant_key ON tool_pins (tenant_id, server, tool) WHERE tenant_id IS NOT NULL`,
    `CREATE UNIQUE INDEX tool_pins_global_key ON tool_pins (server, tool) WHERE tenant_id IS NULL`,
    `CREATE TABLE tool_changes (
      id TEXT PRIMARY KEY,
      tenant_id TEXT,
      server TEXT NOT NULL,
      tool TEXT NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('added', 'changed', 'removed')),
      old_hash TEXT,
      new_hash TEXT,
      old_definition ${t.json},
      new_definition ${t.json},
      findings ${t.json} NOT NULL,
      status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
      created_at ${t.time} NOT NULL,
      decided_at ${t.time},
      decided_by TEXT,
      CHECK ((kind = 'added') = (old_hash IS NULL)),
      CHECK ((kind = 'removed') = (new_hash IS NULL)),
      CHECK ((status = 'pending') = (decided_at IS NULL))
    )`,
    `CREATE INDEX tool_changes_by_scope ON tool_changes (tenant_id, server, tool, created_at)`,
    `CREATE INDEX tool_changes_by_time ON tool_changes (created_at, id)`,
    `CREATE UNIQUE INDEX tool_changes_one_open ON tool_changes (COALESCE(tenant_id, ''), server, tool, new_hash)
      WHERE status IN ('pending', 'rejected')`,
  ];
}

const PLATFORM = `current_setting('mcplane.platform', true) = 'on'`;
const TENANT = `current_setting('mcplane.tenant_id', true)`;

function rowLevelSecurity(table: string): string[] {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_scope ON ${table} USING (${PLATFORM} OR tenant_id = ${TENANT}) WITH CHECK (${PLATFORM} OR tenant_id = ${TENANT})`,
  ];
}

export const toolPins: Migration = {
  version: 2,
  name: 'tool pins',
  sqlite: tables({ time: 'TEXT', json: 'TEXT' }),
  postgres: [
    ...tables({ time: 'timestamptz', json: 'jsonb' }),
    ...rowLevelSecurity('tool_pins'),
    ...rowLevelSecurity('tool_changes'),
  ],
};
