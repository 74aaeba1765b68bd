/**
 * Retention: deleting a tenant's time-series rows older than a cutoff. The periodic job that
 * decides cutoffs per tier lives outside the store; the tables come from tenant-tables.ts.
 * Not an admin change: it neither logs nor bumps the version.
 */
import type { Retention, RetainedTable } from '../store.ts';
import { checkOneOf, checkTenantId, checkTime } from '../validate.ts';
import { scopeOf, type StoreContext } from './store-context.ts';
import { TENANT_TABLES } from './tenant-tables.ts';

const RETAINED = TENANT_TABLES.filter((table) => table.timeColumn !== undefined);

export function createRetention(ctx: StoreContext): Retention {
  const tables = RETAINED.map(({ table }) => table as RetainedTable);
  return {
    tables,
    async deleteBefore(tenantId, table, cutoff) {
      if (tenantId !== null) checkTenantId(tenantId);
      checkOneOf(table, tables, 'table');
      const before = checkTime(cutoff, 'cutoff');
      const spec = RETAINED.find((entry) => entry.table === table);
      const [tenantColumn] = spec?.tenantColumns ?? [];
      return ctx.read(scopeOf(tenantId), (sql) =>
        sql.run(
          `DELETE FROM ${table} WHERE ${tenantColumn} IS NOT DISTINCT FROM $1 AND ${spec?.timeColumn} < $2`,
          [tenantId, before],
        ),
      );
    },
  };
}
