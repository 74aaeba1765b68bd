/** Tenants: created and listed by the platform, each readable in its own scope. */
import { GatewayError } from '../../errors.ts';
import type { Tenant, TenantStatus } from '../records.ts';
import type { NewTenant, TenantPatch, Tenants } from '../store.ts';
import { checkOneOf, checkTenantId, checkText } from '../validate.ts';
import type { Row } from './database.ts';
import { readPage, text, time } from './rows.ts';
import type { StoreContext } from './store-context.ts';
import { exportTenant } from './tenant-export.ts';
import { purgeTenant } from './tenant-purge.ts';

const STATUSES: readonly TenantStatus[] = ['active', 'suspended', 'deleted'];

export function tenantFromRow(row: Row): Tenant {
  return {
    id: text(row, 'id'),
    name: text(row, 'name'),
    tier: text(row, 'tier'),
    status: text(row, 'status') as TenantStatus,
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

function checkPatch(patch: TenantPatch): void {
  if (patch.name !== undefined) checkText(patch.name, 'name');
  if (patch.tier !== undefined) checkText(patch.tier, 'tier', 64);
  if (patch.status !== undefined) checkOneOf(patch.status, STATUSES, 'status');
}

export function createTenants(ctx: StoreContext): Tenants {
  return {
    async create(input: NewTenant, context) {
      checkTenantId(input.id);
      checkText(input.name, 'name');
      const tier = input.tier ?? 'standard';
      checkText(tier, 'tier', 64);
      try {
        return await ctx.write('platform', context, async ({ sql, at, log }) => {
          const [row] = await sql.rows(
            `INSERT INTO tenants (id, name, tier, status, created_at, updated_at)
             VALUES ($1, $2, $3, 'active', $4, $4) RETURNING *`,
            [input.id, input.name, tier, at],
          );
          await log(input.id, { action: 'tenant.create', target: `tenant:${input.id}`, details: { tier } });
          return tenantFromRow(row as Row);
        });
      } catch (error) {
        if (ctx.db.constraintKind(error) === 'unique') {
          throw new GatewayError('CONFLICT', `tenant ${input.id} already exists`);
        }
        throw error;
      }
    },

    async get(id) {
      const rows = await ctx.read({ tenantId: id }, (sql) =>
        sql.rows('SELECT * FROM tenants WHERE id = $1', [id]),
      );
      return rows[0] === undefined ? undefined : tenantFromRow(rows[0]);
    },

    async list() {
      const rows = await ctx.read('platform', (sql) => sql.rows('SELECT * FROM tenants ORDER BY id'));
      return rows.map(tenantFromRow);
    },

    page({ after, limit }) {
      // Byte order on both, as SQLite's BINARY is: a PostgreSQL database's own collation (en_US,
      // say) would skip the '-' of 'pg-b' and page in an order the admin API does not merge by.
      const id = ctx.db.dialect === 'postgres' ? 'id COLLATE "C"' : 'id';
      const read = (count: number) =>
        ctx.read('platform', (sql) =>
          sql.rows(`SELECT * FROM tenants WHERE status <> 'deleted' AND ${id} > $1 ORDER BY ${id} LIMIT $2`, [
            after ?? '',
            count,
          ]),
        );
      return readPage(limit, read, tenantFromRow);
    },

    async update(id, patch, context) {
      checkPatch(patch);
      return ctx.write('platform', context, async ({ sql, at, log }) => {
        const [current] = await sql.rows('SELECT * FROM tenants WHERE id = $1', [id]);
        if (!current) throw new GatewayError('NOT_FOUND', 'tenant not found');
        const before = tenantFromRow(current);
        if (before.status === 'deleted' && patch.status !== undefined && patch.status !== 'deleted') {
          throw new GatewayError('CONFLICT', `tenant ${id} is deleted; it can only be purged`);
        }
        const [row] = await sql.rows(
          `UPDATE tenants SET name = $2, tier = $3, status = $4, updated_at = $5 WHERE id = $1 RETURNING *`,
          [id, patch.name ?? before.name, patch.tier ?? before.tier, patch.status ?? before.status, at],
        );
        const changed = Object.keys(patch).filter((field) => patch[field as keyof TenantPatch] !== undefined);
        await log(id, { action: 'tenant.update', target: `tenant:${id}`, details: { changed, ...patch } });
        return tenantFromRow(row as Row);
      });
    },

    export: (id) => exportTenant(ctx, id),
    purge: (id, context) => purgeTenant(ctx, id, context),
  };
}
