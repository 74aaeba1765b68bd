/**
 * The first schema: seed 004's tenants, projects and API keys, seed 002's tenant server configs,
 * seed 000's grants, and the admin change log, with the store version counter.
 *
 * - Times: ISO 8601 text in SQLite, timestamptz in PostgreSQL; JSON: text / jsonb.
 * - Every tenant-owned row carries its tenant id; platform-admin keys have `tenant_id` NULL.
 * - Foreign keys do not cascade (except reshares under a grant): a purge deletes table by table
 *   (tenant-tables.ts), so a table it forgets makes the purge fail instead of leaving rows.
 * - PostgreSQL: row-level security on every tenant table, forced so it also binds the owner.
 */
import type { Migration } from './migration.ts';

const KEY_ROLES = `('platform-admin', 'tenant-admin', 'member')`;
const KEY_STATUSES = `('active', 'suspended', 'revoked')`;
const TENANT_STATUSES = `('active', 'suspended', 'deleted')`;

type Types = { time: string; json: string; bool: string; bigint: string };

function tables(t: Types): string[] {
  return [
    `CREATE TABLE store_state (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      version ${t.bigint} NOT NULL
    )`,
    `INSERT INTO store_state (id, version) VALUES (1, 0)`,
    `CREATE TABLE tenants (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      tier TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ${TENANT_STATUSES}),
      created_at ${t.time} NOT NULL,
      updated_at ${t.time} NOT NULL
    )`,
    `CREATE TABLE projects (
      id TEXT PRIMARY KEY,
      tenant_id TEXT NOT NULL REFERENCES tenants (id),
      name TEXT NOT NULL,
      created_at ${t.time} NOT NULL,
      UNIQUE (tenant_id, id)
    )`,
    `CREATE TABLE api_keys (
      id TEXT PRIMARY KEY,
      tenant_id TEXT REFERENCES tenants (id),
      project_id TEXT,
      name TEXT NOT NULL,
      role TEXT NOT NULL CHECK (role IN ${KEY_ROLES}),
      scopes ${t.json} NOT NULL,
      hash TEXT NOT NULL,
      status TEXT NOT NULL CHECK (status IN ${KEY_STATUSES}),
      expires_at ${t.time},
      last_used_at ${t.time},
      created_at ${t.time} NOT NULL,
      updated_at ${t.time} NOT NULL,
      rotated_from TEXT,
      replaced_by TEXT,
      grace_until ${t.time},
      CHECK ((role = 'platform-admin') = (tenant_id IS NULL)),
      CHECK (project_id IS NULL OR tenant_id IS NOT NULL),
      FOREIGN KEY (tenant_id, project_id) REFERENCES projects (tenant_id, id)
    )`,
    `CREATE INDEX api_keys_by_tenant ON api_keys (tenant_id)`,
    `CREATE TABLE tenant_server_configs (
      tenant_id TEXT NOT NULL REFERENCES tenants (id),
      server TEXT NOT NULL,
      env ${t.json} NOT NULL,
      args ${t.json},
      created_at ${t.time} NOT NULL,
      updated_at ${t.time} NOT NULL,
      PRIMARY KEY (tenant_id, server)
    )`,
    `CREATE TABLE grants (
      id TEXT PRIMARY KEY,
      owner_tenant_id TEXT NOT NULL REFERENCES tenants (id),
      server TEXT NOT NULL,
      grantee_tenant_id TEXT NOT NULL,
      granted_by_tenant_id TEXT NOT NULL REFERENCES tenants (id),
      parent_grant_id TEXT REFERENCES grants (id) ON DELETE CASCADE,
      access TEXT NOT NULL CHECK (access IN ('read', 'full')),
      tools ${t.json},
      expires_at ${t.time},
      allow_resharing ${t.bool} NOT NULL,
      created_at ${t.time} NOT NULL,
      revoked_at ${t.time},
      CHECK (owner_tenant_id <> grantee_tenant_id)
    )`,
    `CREATE INDEX grants_by_owner ON grants (owner_tenant_id)`,
    `CREATE INDEX grants_by_grantee ON grants (grantee_tenant_id)`,
    `CREATE INDEX grants_by_granter ON grants (granted_by_tenant_id)`,
    `CREATE INDEX grants_by_parent ON grants (parent_grant_id)`,
    `CREATE UNIQUE INDEX grants_one_active ON grants (owner_tenant_id, server, grantee_tenant_id)
      WHERE revoked_at IS NULL`,
    `CREATE TABLE admin_changes (
      seq ${t.bigint} PRIMARY KEY,
      at ${t.time} NOT NULL,
      actor TEXT NOT NULL,
      tenant_id TEXT,
      action TEXT NOT NULL,
      target TEXT NOT NULL,
      details ${t.json} NOT NULL
    )`,
    `CREATE INDEX admin_changes_by_tenant ON admin_changes (tenant_id, seq)`,
    `CREATE INDEX admin_changes_by_time ON admin_changes (tenant_id, at)`,
  ];
}

const PLATFORM = `current_setting('mcplane.platform', true) = 'on'`;
const TENANT = `current_setting('mcplane.tenant_id', true)`;

/** USING / WITH CHECK for each tenant table: the platform scope, or the row's tenant. */
function rowLevelSecurity(table: string, using: string, check: string = using): string[] {
  return [
    `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_scope ON ${table} USING (${PLATFORM} OR ${using}) WITH CHECK (${PLATFORM} OR ${check})`,
  ];
}

export const initial: Migration = {
  version: 1,
  name: 'initial',
  sqlite: tables({ time: 'TEXT', json: 'TEXT', bool: 'INTEGER', bigint: 'INTEGER' }),
  postgres: [
    ...tables({ time: 'timestamptz', json: 'jsonb', bool: 'boolean', bigint: 'bigint' }),
    ...rowLevelSecurity('tenants', `id = ${TENANT}`),
    ...rowLevelSecurity('projects', `tenant_id = ${TENANT}`),
    ...rowLevelSecurity('api_keys', `tenant_id = ${TENANT}`),
    ...rowLevelSecurity('tenant_server_configs', `tenant_id = ${TENANT}`),
    ...rowLevelSecurity(
      'grants',
      `${TENANT} IN (owner_tenant_id, grantee_tenant_id, granted_by_tenant_id)`,
      `granted_by_tenant_id = ${TENANT}`,
    ),
    ...rowLevelSecurity('admin_changes', `tenant_id = ${TENANT}`),
  ],
};
