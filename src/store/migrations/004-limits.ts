/**
 * Limits and quotas (docs/limits.md). `limit_overrides`: what the admin API set over a tenant's
 * tier, for the tenant (`subject` `*`) or one of its API keys (`subject` the key id).
 * `quota_usage`: tool calls counted in the current calendar month (seed 004's `calls_used_month`
 * and `reset_at`), per tenant (`*`) and per key, added to in batches by every replica.
 * `tenant_id` is always set, so purge and row-level security apply; no foreign key to
 * `tenants`, since config-file tenants have limits and usage too.
 */
import type { Migration } from './migration.ts';

type Types = { time: string; json: string; int: string };

function tables(t: Types): string[] {
  return [
    `CREATE TABLE limit_overrides (
      tenant_id TEXT NOT NULL,
      subject TEXT NOT NULL,
      rate_limits ${t.json} NOT NULL,
      quota_monthly_calls ${t.int},
      quota_monthly_calls_per_key ${t.int},
      updated_at ${t.time} NOT NULL,
      PRIMARY KEY (tenant_id, subject)
    )`,
    `CREATE TABLE quota_usage (
      tenant_id TEXT NOT NULL,
      subject TEXT NOT NULL,
      calls_used_month ${t.int} NOT NULL,
      reset_at ${t.time} NOT NULL,
      updated_at ${t.time} NOT NULL,
      PRIMARY KEY (tenant_id, subject)
    )`,
  ];
}

const PLATFORM = `current_setting('mcplane.platform', true) = 'on'`;
const TENANT = `current_setting('mcplane.tenant_id', true)`;

const rowLevelSecurity = (table: string): string[] => [
  `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
  `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
  `CREATE POLICY tenant_scope ON ${table} USING (${PLATFORM} OR tenant_id = ${TENANT}) WITH CHECK (${PLATFORM} OR tenant_id = ${TENANT})`,
];

export const limits: Migration = {
  version: 4,
  name: 'limits and quotas',
  sqlite: tables({ time: 'TEXT', json: 'TEXT', int: 'INTEGER' }),
  postgres: [
    ...tables({ time: 'timestamptz', json: 'jsonb', int: 'bigint' }),
    ...rowLevelSecurity('limit_overrides'),
    ...rowLevelSecurity('quota_usage'),
  ],
};
