/**
 * Anomaly baselines (docs/anomaly.md): one JSON document per tenant and principal (`*` for the
 * tenant's own), saved by the gateway in batches. `tenant_id` is always set, so purge and
 * row-level security apply. No foreign key to `tenants`: tenants defined in the config file
 * have no row there, and their principals have baselines too.
 */
import type { Migration } from './migration.ts';

type Types = { time: string; json: string };

function tables(t: Types): string[] {
  return [
    `CREATE TABLE anomaly_baselines (
      tenant_id TEXT NOT NULL,
      principal TEXT NOT NULL,
      baseline ${t.json} NOT NULL,
      updated_at ${t.time} NOT NULL,
      PRIMARY KEY (tenant_id, principal)
    )`,
  ];
}

const PLATFORM = `current_setting('mcplane.platform', true) = 'on'`;
const TENANT = `current_setting('mcplane.tenant_id', true)`;

export const anomalyBaselines: Migration = {
  version: 3,
  name: 'anomaly baselines',
  sqlite: tables({ time: 'TEXT', json: 'TEXT' }),
  postgres: [
    ...tables({ time: 'timestamptz', json: 'jsonb' }),
    `ALTER TABLE anomaly_baselines ENABLE ROW LEVEL SECURITY`,
    `ALTER TABLE anomaly_baselines FORCE ROW LEVEL SECURITY`,
    `CREATE POLICY tenant_scope ON anomaly_baselines USING (${PLATFORM} OR tenant_id = ${TENANT}) WITH CHECK (${PLATFORM} OR tenant_id = ${TENANT})`,
  ],
};
