/** The admin change log: reading it, and recording changes the store did not make itself. */
import type { ChangeLog } from '../store.ts';
import { checkPageLimit, checkTenantId, checkText, invalid } from '../validate.ts';
import { changeFromRow, scopeOf, type StoreContext } from './store-context.ts';

const ACTION = /^[a-z][a-z_]*(\.[a-z][a-z_]*)+$/;
const DEFAULT_LIMIT = 1000;
const MAX_LIMIT = 10_000;

export function createChangeLog(ctx: StoreContext): ChangeLog {
  return {
    async record(tenantId, change, context) {
      if (tenantId !== null) checkTenantId(tenantId);
      if (!ACTION.test(change.action)) throw invalid('action must look like resource.verb');
      checkText(change.target, 'target');
      return ctx.write(scopeOf(tenantId), context, ({ log }) => log(tenantId, change));
    },

    async list(tenantId, options = {}) {
      const limit = options.limit ?? DEFAULT_LIMIT;
      checkPageLimit(limit, MAX_LIMIT);
      const rows = await ctx.read(scopeOf(tenantId), (sql) =>
        sql.rows(
          'SELECT * FROM admin_changes WHERE tenant_id IS NOT DISTINCT FROM $1 AND seq > $2 ORDER BY seq LIMIT $3',
          [tenantId, options.afterSeq ?? 0, limit],
        ),
      );
      return rows.map(changeFromRow);
    },

    async since(version, limit = DEFAULT_LIMIT) {
      checkPageLimit(limit, MAX_LIMIT);
      const rows = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM admin_changes WHERE seq > $1 ORDER BY seq LIMIT $2', [version, limit]),
      );
      return rows.map(changeFromRow);
    },
  };
}
