/** Projects: sub-scopes of a tenant (seed 004), which API keys may be tied to. */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors.ts';
import type { Project } from '../records.ts';
import type { Projects } from '../store.ts';
import { checkId, checkTenantId, checkText } from '../validate.ts';
import type { Row } from './database.ts';
import { keysetRows, readPage, text, time } from './rows.ts';
import type { StoreContext } from './store-context.ts';

export function projectFromRow(row: Row): Project {
  return {
    id: text(row, 'id'),
    tenantId: text(row, 'tenant_id'),
    name: text(row, 'name'),
    createdAt: time(row, 'created_at'),
  };
}

export function createProjects(ctx: StoreContext): Projects {
  return {
    async create(tenantId, input, context) {
      checkTenantId(tenantId);
      const id = input.id ?? randomUUID();
      checkId(id, 'project id');
      checkText(input.name, 'name');
      try {
        return await ctx.write({ tenantId }, context, async ({ sql, at, log }) => {
          const [row] = await sql.rows(
            'INSERT INTO projects (id, tenant_id, name, created_at) VALUES ($1, $2, $3, $4) RETURNING *',
            [id, tenantId, input.name, at],
          );
          await log(tenantId, {
            action: 'project.create',
            target: `project:${id}`,
            details: { name: input.name },
          });
          return projectFromRow(row as Row);
        });
      } catch (error) {
        const kind = ctx.db.constraintKind(error);
        if (kind === 'unique') throw new GatewayError('CONFLICT', `project ${id} already exists`);
        if (kind === 'foreign-key') throw new GatewayError('NOT_FOUND', 'tenant not found');
        throw error;
      }
    },

    async get(tenantId, id) {
      const [row] = await ctx.read({ tenantId }, (sql) =>
        sql.rows('SELECT * FROM projects WHERE tenant_id = $1 AND id = $2', [tenantId, id]),
      );
      return row === undefined ? undefined : projectFromRow(row);
    },

    async list(tenantId) {
      const rows = await ctx.read({ tenantId }, (sql) =>
        sql.rows('SELECT * FROM projects WHERE tenant_id = $1 ORDER BY created_at, id', [tenantId]),
      );
      return rows.map(projectFromRow);
    },

    page(tenantId, { after, limit }) {
      const read = (count: number) =>
        ctx.read({ tenantId }, (sql) =>
          keysetRows(sql, {
            table: 'projects',
            where: 'tenant_id = $1',
            params: [tenantId],
            count,
            after,
            // Another tenant's project and an unknown id are refused alike.
            cursor: {
              visible: 'tenant_id = $1 AND id = $2',
              params: (id) => [tenantId, id],
              refusal: 'cursor is not one of these projects; start again without it',
            },
          }),
        );
      return readPage(limit, read, projectFromRow);
    },
  };
}
