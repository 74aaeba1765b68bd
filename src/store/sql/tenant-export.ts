/**
 * A tenant's export (seed 004): everything the store holds for it, read in one transaction in
 * the tenant's own scope. Keys come without hashes and secrets masked, so an export is safe to
 * hand to the tenant. A later table adds its section here. Stripe event ids are not exported. Global tool pins (of
 * shared and session-mode servers) belong to no tenant and are not exported.
 */
import type { TenantExport } from '../records.ts';
import { apiKeyFromRow } from './api-keys-sql.ts';
import { auditRecordFromRow } from './audit-records-sql.ts';
import { baselineFromRow } from './baselines-sql.ts';
import { billingFromRow } from './billing-sql.ts';
import { grantFromRow } from './grants-sql.ts';
import { limitOverrideFromRow, quotaUsageFromRow } from './limits-sql.ts';
import { projectFromRow } from './projects-sql.ts';
import { serverConfigViewFromRow } from './server-configs-sql.ts';
import { changeFromRow, type StoreContext } from './store-context.ts';
import { tenantFromRow } from './tenants-sql.ts';
import { toolChangeFromRow, toolPinFromRow } from './tool-pins-sql.ts';
import { rollupFromRow, usageEventFromRow } from './usage-sql.ts';

export async function exportTenant(ctx: StoreContext, tenantId: string): Promise<TenantExport | undefined> {
  return ctx.read({ tenantId }, async (sql) => {
    const [tenant] = await sql.rows('SELECT * FROM tenants WHERE id = $1', [tenantId]);
    if (!tenant) return undefined;
    const rows = (query: string) => sql.rows(query, [tenantId]);
    return {
      formatVersion: 1,
      exportedAt: ctx.now().toISOString(),
      tenant: tenantFromRow(tenant),
      projects: (await rows('SELECT * FROM projects WHERE tenant_id = $1 ORDER BY created_at, id')).map(
        projectFromRow,
      ),
      apiKeys: (await rows('SELECT * FROM api_keys WHERE tenant_id = $1 ORDER BY created_at, id')).map(
        apiKeyFromRow,
      ),
      serverConfigs: (
        await rows('SELECT * FROM tenant_server_configs WHERE tenant_id = $1 ORDER BY server')
      ).map(serverConfigViewFromRow),
      grants: (
        await rows(
          'SELECT * FROM grants WHERE $1 IN (owner_tenant_id, grantee_tenant_id, granted_by_tenant_id) ORDER BY created_at, id',
        )
      ).map(grantFromRow),
      adminChanges: (await rows('SELECT * FROM admin_changes WHERE tenant_id = $1 ORDER BY seq')).map(
        changeFromRow,
      ),
      anomalyBaselines: (
        await rows('SELECT * FROM anomaly_baselines WHERE tenant_id = $1 ORDER BY principal')
      ).map(baselineFromRow),
      toolPins: (await rows('SELECT * FROM tool_pins WHERE tenant_id = $1 ORDER BY server, tool')).map(
        toolPinFromRow,
      ),
      toolChanges: (
        await rows('SELECT * FROM tool_changes WHERE tenant_id = $1 ORDER BY created_at, id')
      ).map(toolChangeFromRow),
      auditRecords: (await rows('SELECT * FROM audit_records WHERE tenant_id = $1 ORDER BY seq')).map(
        auditRecordFromRow,
      ),
      billing:
        (await rows('SELECT * FROM tenant_billing WHERE tenant_id = $1')).map(billingFromRow)[0] ?? null,
      usageEvents: (await rows('SELECT * FROM usage_events WHERE tenant_id = $1 ORDER BY ts, id')).map(
        usageEventFromRow,
      ),
      usageHourly: (
        await rows(
          'SELECT * FROM usage_hourly WHERE tenant_id = $1 ORDER BY hour, server, tool, api_key_id, project_id',
        )
      ).map((row) => rollupFromRow(row, 'hour')),
      usageDaily: (
        await rows(
          'SELECT * FROM usage_daily WHERE tenant_id = $1 ORDER BY day, server, tool, api_key_id, project_id',
        )
      ).map((row) => rollupFromRow(row, 'day')),
      limitOverrides: (await rows('SELECT * FROM limit_overrides WHERE tenant_id = $1 ORDER BY subject')).map(
        limitOverrideFromRow,
      ),
      quotaUsage: (await rows('SELECT * FROM quota_usage WHERE tenant_id = $1 ORDER BY subject')).map(
        quotaUsageFromRow,
      ),
    };
  });
}
