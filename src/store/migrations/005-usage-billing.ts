/**
 * Metering and billing (issue 9, docs/metering.md and docs/billing.md):
 *
 * - `usage_events`: one row per tool call, prompt get, resource read and sampling request
 *   (seed 004's `usage_events`, plus server, kind, status and bytes in and out). Written in
 *   batches by the gateway; retention trims them (`ts`).
 * - `usage_hourly` and `usage_daily`: rollups, upserted in the same transaction as the events
 *   of a batch, and by the cost sampler (CPU and wall time). One row per (tenant, bucket, server,
 *   tool, key, project); `''` stands for "none" so the key is a plain primary key on both
 *   backends. Times are microseconds, cost is in the currency of `billing` (a float: it is a
 *   weighted sum, rounded only when billed). Hourly rollups are retained like the events; daily
 *   ones are what billing reads and are kept until the tenant is purged.
 * - `tenant_billing`: a tenant's plan, its Stripe customer and subscription, and the keys billing
 *   suspended (so that reactivation resumes only those, never a key an admin suspended).
 * - `stripe_events`: the ids of webhook events already applied, for idempotency.
 *
 * No foreign keys to `tenants`: config-file tenants have no row there and are metered too.
 * PostgreSQL: row-level security on `tenant_id`, as for the other tenant tables.
 */
import type { Migration } from './migration.ts';

export type Types = { time: string; big: string; real: string; json: string };

function rollup(name: string, bucket: string, t: Types): string {
  return `CREATE TABLE ${name} (
    tenant_id TEXT NOT NULL,
    ${bucket} ${t.time} NOT NULL,
    server TEXT NOT NULL,
    tool TEXT NOT NULL,
    api_key_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    calls ${t.big} NOT NULL DEFAULT 0,
    errors ${t.big} NOT NULL DEFAULT 0,
    bytes_in ${t.big} NOT NULL DEFAULT 0,
    bytes_out ${t.big} NOT NULL DEFAULT 0,
    latency_us ${t.big} NOT NULL DEFAULT 0,
    cpu_us ${t.big} NOT NULL DEFAULT 0,
    wall_us ${t.big} NOT NULL DEFAULT 0,
    cost ${t.real} NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, ${bucket}, server, tool, api_key_id, project_id)
  )`;
}

/** The kinds of usage event, as this migration checks them. */
const KINDS_IN = "kind IN ('tool-call', 'prompt-get', 'resource-read', 'sampling')";

/**
 * `usage_events`, with `serial` as its id; migration 007 rebuilds it in SQLite under another
 * name and with the kinds checked another way.
 */
export function usageEventsTable(
  t: Types,
  serial: string,
  { name = 'usage_events', kinds = KINDS_IN }: { name?: string; kinds?: string } = {},
): string {
  return `CREATE TABLE ${name} (
      id ${serial},
      ts ${t.time} NOT NULL,
      tenant_id TEXT NOT NULL,
      project_id TEXT,
      api_key_id TEXT,
      principal TEXT NOT NULL,
      server TEXT,
      kind TEXT NOT NULL CHECK (${kinds}),
      tool_name TEXT,
      latency_ms ${t.real} NOT NULL,
      status TEXT NOT NULL,
      status_code INTEGER NOT NULL,
      bytes_in ${t.big} NOT NULL,
      bytes_out ${t.big} NOT NULL
    )`;
}

export const USAGE_EVENTS_INDEX = 'CREATE INDEX usage_events_by_tenant ON usage_events (tenant_id, ts)';

function tables(t: Types, serial: string): string[] {
  return [
    usageEventsTable(t, serial),
    USAGE_EVENTS_INDEX,
    rollup('usage_hourly', 'hour', t),
    rollup('usage_daily', 'day', t),
    `CREATE TABLE tenant_billing (
      tenant_id TEXT PRIMARY KEY,
      plan TEXT NOT NULL,
      stripe_customer_id TEXT,
      stripe_subscription_id TEXT,
      stripe_subscription_item_id TEXT,
      subscription_status TEXT,
      suspended_key_ids ${t.json} NOT NULL,
      updated_at ${t.time} NOT NULL
    )`,
    `CREATE UNIQUE INDEX tenant_billing_by_customer ON tenant_billing (stripe_customer_id)
      WHERE stripe_customer_id IS NOT NULL`,
    `CREATE TABLE stripe_events (
      event_id TEXT PRIMARY KEY,
      tenant_id TEXT,
      type TEXT NOT NULL,
      received_at ${t.time} NOT NULL
    )`,
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

export const SQLITE_TYPES: Types = { time: 'TEXT', big: 'INTEGER', real: 'REAL', json: 'TEXT' };

const TENANT_TABLES = ['usage_events', 'usage_hourly', 'usage_daily', 'tenant_billing', 'stripe_events'];

export const usageBilling: Migration = {
  version: 5,
  name: 'usage and billing',
  sqlite: tables(SQLITE_TYPES, 'INTEGER PRIMARY KEY AUTOINCREMENT'),
  postgres: [
    ...tables(
      { time: 'timestamptz', big: 'bigint', real: 'double precision', json: 'jsonb' },
      'bigserial PRIMARY KEY',
    ),
    ...TENANT_TABLES.flatMap(rowLevelSecurity),
  ],
};
