/**
 * Every table holding tenant data, and which of its columns name a tenant: the one list that
 * purge and retention walk. A table added by a later migration (usage, audit, pins) joins here;
 * the store suite fails while a table with a tenant column is missing from the list.
 *
 * Order matters: a purge deletes in this order, referencing tables before referenced ones.
 */
export type TenantTable = {
  readonly table: string;
  /** A row belongs to a tenant when any of these holds its id. */
  readonly tenantColumns: readonly string[];
  /** For time-series tables: the time column retention cuts on. */
  readonly timeColumn?: string;
};

export const TENANT_TABLES: readonly TenantTable[] = [
  { table: 'usage_events', tenantColumns: ['tenant_id'], timeColumn: 'ts' },
  { table: 'usage_hourly', tenantColumns: ['tenant_id'], timeColumn: 'hour' },
  // No time column: daily rollups are what billing reads; they go with the tenant, not with age.
  { table: 'usage_daily', tenantColumns: ['tenant_id'] },
  { table: 'tenant_billing', tenantColumns: ['tenant_id'] },
  { table: 'stripe_events', tenantColumns: ['tenant_id'] },
  { table: 'admin_changes', tenantColumns: ['tenant_id'], timeColumn: 'at' },
  { table: 'audit_records', tenantColumns: ['tenant_id'], timeColumn: 'time' },
  { table: 'anomaly_baselines', tenantColumns: ['tenant_id'] },
  { table: 'limit_overrides', tenantColumns: ['tenant_id'] },
  { table: 'quota_usage', tenantColumns: ['tenant_id'] },
  // No time column: retention must never cut a change still waiting for review, nor a pin.
  { table: 'tool_changes', tenantColumns: ['tenant_id'] },
  { table: 'tool_pins', tenantColumns: ['tenant_id'] },
  { table: 'grants', tenantColumns: ['owner_tenant_id', 'grantee_tenant_id', 'granted_by_tenant_id'] },
  { table: 'api_keys', tenantColumns: ['tenant_id'] },
  { table: 'tenant_server_configs', tenantColumns: ['tenant_id'] },
  { table: 'projects', tenantColumns: ['tenant_id'] },
  { table: 'tenants', tenantColumns: ['id'] },
];
