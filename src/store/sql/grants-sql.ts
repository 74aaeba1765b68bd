/**
 * Grants (seed 000's sharing): a tenant lets another use one of its servers, read-only or fully,
 * possibly until a time, and possibly with the right to reshare. A reshare hangs under the grant
 * it was made with, and revoking a grant revokes everything reshared under it.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors.ts';
import { grantState } from '../grant-state.ts';
import type { Grant, GrantAccess } from '../records.ts';
import type { GrantFilter, Grants, NewGrant } from '../store.ts';
import {
  checkId,
  checkList,
  checkOneOf,
  checkServerName,
  checkTenantId,
  checkTime,
  invalid,
} from '../validate.ts';
import { json, type Row, type Sql, type SqlParam } from './database.ts';
import { bool, keysetRows, readPage, stringList, text, textOrNull, time, timeOrNull } from './rows.ts';
import type { StoreContext } from './store-context.ts';

const ACCESS: readonly GrantAccess[] = ['read', 'full'];
const ACTIVE = '(revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2))';
const SIDES: Record<NonNullable<GrantFilter['as']>, string> = {
  owner: 'owner_tenant_id = $1',
  grantee: 'grantee_tenant_id = $1',
  granter: 'granted_by_tenant_id = $1',
};
const ANY_SIDE = '$1 IN (owner_tenant_id, grantee_tenant_id, granted_by_tenant_id)';

export function grantFromRow(row: Row): Grant {
  return {
    id: text(row, 'id'),
    ownerTenantId: text(row, 'owner_tenant_id'),
    server: text(row, 'server'),
    granteeTenantId: text(row, 'grantee_tenant_id'),
    grantedByTenantId: text(row, 'granted_by_tenant_id'),
    parentGrantId: textOrNull(row, 'parent_grant_id'),
    access: text(row, 'access') as GrantAccess,
    tools: stringList(row, 'tools'),
    expiresAt: timeOrNull(row, 'expires_at'),
    allowResharing: bool(row, 'allow_resharing'),
    createdAt: time(row, 'created_at'),
    revokedAt: timeOrNull(row, 'revoked_at'),
  };
}

type Draft = {
  owner: string;
  access: GrantAccess;
  tools: readonly string[] | null;
  expiresAt: string | null;
};

function checkInput(tenantId: string, input: NewGrant, now: number): string | null {
  checkTenantId(tenantId);
  checkServerName(input.server);
  checkTenantId(input.granteeTenantId, 'granteeTenantId');
  checkOneOf(input.access, ACCESS, 'access');
  if (input.tools !== undefined) checkList(input.tools, 'tools');
  if (input.parentGrantId !== undefined) checkId(input.parentGrantId, 'parentGrantId');
  if (input.allowResharing !== undefined && typeof input.allowResharing !== 'boolean') {
    throw invalid('allowResharing must be a boolean');
  }
  if (input.granteeTenantId === tenantId) throw invalid('a tenant cannot grant to itself');
  if (input.expiresAt === undefined) return null;
  const expiresAt = checkTime(input.expiresAt, 'expiresAt');
  if (Date.parse(expiresAt) <= now) throw invalid('expiresAt is in the past');
  return expiresAt;
}

/** A reshare: only under an active grant the tenant holds with allowResharing, never wider. */
function reshare(parent: Grant, input: NewGrant, expiresAt: string | null, now: number): Draft {
  const forbidden = (why: string) => new GatewayError('RESHARE_FORBIDDEN', why);
  if (grantState(parent, now) !== 'active') throw forbidden('the grant to reshare under is no longer active');
  if (!parent.allowResharing) throw forbidden('this grant does not allow resharing');
  if (input.server !== parent.server) throw invalid('a reshare is of the same server as its grant');
  if (input.granteeTenantId === parent.ownerTenantId) throw invalid('the owner already has its server');
  if (parent.access === 'read' && input.access === 'full')
    throw forbidden('a reshare cannot widen read to full');
  const parentTools = parent.access === 'read' ? parent.tools : null;
  if (parentTools !== null && input.tools?.some((tool) => !parentTools.includes(tool))) {
    throw forbidden('a reshare cannot add tools its grant does not have');
  }
  if (expiresAt !== null && parent.expiresAt !== null && expiresAt > parent.expiresAt) {
    throw forbidden('a reshare cannot outlive its grant');
  }
  return {
    owner: parent.ownerTenantId,
    access: input.access,
    tools: input.tools ?? (input.access === 'read' ? parentTools : null),
    expiresAt: expiresAt ?? parent.expiresAt,
  };
}

async function parentOf(sql: Sql, tenantId: string, id: string): Promise<Grant> {
  const [row] = await sql.rows('SELECT * FROM grants WHERE id = $1 AND grantee_tenant_id = $2', [
    id,
    tenantId,
  ]);
  if (!row) throw new GatewayError('NOT_FOUND', 'grant not found');
  return grantFromRow(row);
}

const INSERT = `INSERT INTO grants (id, owner_tenant_id, server, grantee_tenant_id, granted_by_tenant_id,
    parent_grant_id, access, tools, expires_at, allow_resharing, created_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`;

const REVOKE_TREE = `WITH RECURSIVE tree (id) AS (
    SELECT id FROM grants WHERE id = $1
    UNION ALL SELECT grants.id FROM grants JOIN tree ON grants.parent_grant_id = tree.id
  )
  UPDATE grants SET revoked_at = $2 WHERE revoked_at IS NULL AND id IN (SELECT id FROM tree)`;

export function createGrants(ctx: StoreContext): Grants {
  return {
    async create(tenantId, input, context) {
      const expiresAt = checkInput(tenantId, input, ctx.now().getTime());
      const id = randomUUID();
      try {
        return await ctx.write({ tenantId }, context, async ({ sql, at, log }) => {
          const now = Date.parse(at);
          const draft: Draft =
            input.parentGrantId === undefined
              ? { owner: tenantId, access: input.access, tools: input.tools ?? null, expiresAt }
              : reshare(await parentOf(sql, tenantId, input.parentGrantId), input, expiresAt, now);
          // An expired grant still holds the one-active-grant slot until it is revoked.
          await sql.run(
            `UPDATE grants SET revoked_at = $4 WHERE owner_tenant_id = $1 AND server = $2 AND grantee_tenant_id = $3
               AND revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= $4`,
            [draft.owner, input.server, input.granteeTenantId, at],
          );
          const [row] = await sql.rows(INSERT, [
            id,
            draft.owner,
            input.server,
            input.granteeTenantId,
            tenantId,
            input.parentGrantId ?? null,
            draft.access,
            draft.tools === null ? null : json(draft.tools),
            draft.expiresAt,
            input.allowResharing ?? false,
            at,
          ]);
          const grant = grantFromRow(row as Row);
          const { createdAt: _c, revokedAt: _r, id: _i, ...details } = grant;
          await log(tenantId, { action: 'grant.create', target: `grant:${id}`, details });
          return grant;
        });
      } catch (error) {
        const kind = ctx.db.constraintKind(error);
        if (kind === 'unique')
          throw new GatewayError('CONFLICT', 'an active grant of this server to that tenant exists');
        if (kind === 'foreign-key') throw new GatewayError('NOT_FOUND', 'tenant not found');
        throw error;
      }
    },

    async get(tenantId, id) {
      const [row] = await ctx.read({ tenantId }, (sql) =>
        sql.rows(`SELECT * FROM grants WHERE id = $2 AND ${ANY_SIDE}`, [tenantId, id]),
      );
      return row === undefined ? undefined : grantFromRow(row);
    },

    async list(tenantId, filter = {}) {
      const side = filter.as === undefined ? ANY_SIDE : SIDES[filter.as];
      const all = filter.includeInactive === true;
      const rows = await ctx.read({ tenantId }, (sql) =>
        sql.rows(
          `SELECT * FROM grants WHERE ${side}${all ? '' : ` AND ${ACTIVE}`} ORDER BY created_at, id`,
          all ? [tenantId] : [tenantId, ctx.now().toISOString()],
        ),
      );
      return rows.map(grantFromRow);
    },

    page(tenantId, { after, limit }, filter = {}) {
      const side = filter.as === undefined ? ANY_SIDE : SIDES[filter.as];
      const all = filter.includeInactive === true;
      const where = `${side}${all ? '' : ` AND ${ACTIVE}`}`;
      const base: SqlParam[] = all ? [tenantId] : [tenantId, ctx.now().toISOString()];
      const read = (count: number) =>
        ctx.read({ tenantId }, (sql) =>
          keysetRows(sql, {
            table: 'grants',
            where,
            params: base,
            count,
            after,
            // A grant this tenant cannot see and an unknown id are refused alike.
            cursor: {
              visible: `id = $2 AND ${ANY_SIDE}`,
              params: (id) => [tenantId, id],
              refusal: 'cursor is not one of these grants; start again without it',
            },
          }),
        );
      return readPage(limit, read, grantFromRow);
    },

    // Platform scope: the revocation cascades into reshares the acting tenant cannot see.
    async revoke(tenantId, id, context) {
      return ctx.write('platform', context, async ({ sql, at, log }) => {
        const [row] = await sql.rows(
          'SELECT * FROM grants WHERE id = $1 AND (owner_tenant_id = $2 OR granted_by_tenant_id = $2)',
          [id, tenantId],
        );
        if (!row) throw new GatewayError('NOT_FOUND', 'grant not found');
        if (grantFromRow(row).revokedAt !== null) return grantFromRow(row);
        const revoked = await sql.run(REVOKE_TREE, [id, at]);
        await log(tenantId, {
          action: 'grant.revoke',
          target: `grant:${id}`,
          details: { alsoRevoked: revoked - 1 },
        });
        const [after] = await sql.rows('SELECT * FROM grants WHERE id = $1', [id]);
        return grantFromRow(after as Row);
      });
    },

    async listActive() {
      const rows = await ctx.read('platform', (sql) =>
        sql.rows(
          'SELECT * FROM grants WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1) ORDER BY created_at, id',
          [ctx.now().toISOString()],
        ),
      );
      return rows.map(grantFromRow);
    },
  };
}
