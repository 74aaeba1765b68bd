/**
 * Purging a tenant (seed 004's deletion): every row carrying its id, in every tenant table, in
 * one transaction. Reshares made under a purged grant go with it (ON DELETE CASCADE).
 *
 * What stays: the platform's record of the purge (`tenant.purge`, tenant `null`, target
 * `tenant:<id>`), and other tenants' own change-log entries that name this tenant in their
 * details (a grant they made to it): those are their records, not this tenant's data.
 */
import { GatewayError } from '../../errors.ts';
import type { ChangeContext, PurgeReport } from '../store.ts';
import type { StoreContext } from './store-context.ts';
import { TENANT_TABLES } from './tenant-tables.ts';

export async function purgeTenant(
  ctx: StoreContext,
  tenantId: string,
  context: ChangeContext,
): Promise<PurgeReport> {
  return ctx.write('platform', context, async ({ sql, log }) => {
    const [tenant] = await sql.rows('SELECT id FROM tenants WHERE id = $1', [tenantId]);
    if (!tenant) throw new GatewayError('NOT_FOUND', 'tenant not found');
    const deleted: Record<string, number> = {};
    for (const { table, tenantColumns } of TENANT_TABLES) {
      const where = tenantColumns.map((column) => `${column} = $1`).join(' OR ');
      deleted[table] = await sql.run(`DELETE FROM ${table} WHERE ${where}`, [tenantId]);
    }
    await log(null, { action: 'tenant.purge', target: `tenant:${tenantId}`, details: { deleted } });
    return { tenantId, deleted };
  });
}
