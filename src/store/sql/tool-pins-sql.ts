/**
 * Tool-definition pins and the changes waiting for review (issue 8). The scope is a tenant id
 * or `null` (global); every query names it, null-safely, and runs in that scope's transaction,
 * so on PostgreSQL row-level security checks it again.
 */
import { randomUUID } from 'node:crypto';
import { GatewayError } from '../../errors.ts';
import type {
  ToolChange,
  ToolChangeKind,
  ToolChangeStatus,
  ToolDefinitionRecord,
  ToolFinding,
  ToolPin,
} from '../records.ts';
import type { NewToolChange, ToolChangeFilter, ToolPins } from '../store.ts';
import { checkId, checkOneOf, checkServerName, checkTenantId, checkText, invalid } from '../validate.ts';
import { json, type Row, type Sql, type SqlParam } from './database.ts';
import { jsonOrNull, text, textOrNull, time, timeOrNull } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

const HASH = /^[0-9a-f]{64}$/;
const KINDS: readonly ToolChangeKind[] = ['added', 'changed', 'removed'];
const STATUSES: readonly ToolChangeStatus[] = ['pending', 'approved', 'rejected'];
/** MCP suggests 1-128 characters for a tool name; servers exceed it, so the bound is generous. */
const MAX_TOOL_NAME = 1000;
const MAX_FINDINGS = 200;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const SCOPE = 'tenant_id IS NOT DISTINCT FROM $1';

export function toolPinFromRow(row: Row): ToolPin {
  return {
    tenantId: textOrNull(row, 'tenant_id'),
    server: text(row, 'server'),
    tool: text(row, 'tool'),
    hash: text(row, 'hash'),
    definition: definitionOrNull(row, 'definition') ?? {},
    approvedAt: time(row, 'approved_at'),
    approvedBy: text(row, 'approved_by'),
  };
}

export function toolChangeFromRow(row: Row): ToolChange {
  const findings = jsonOrNull(row, 'findings');
  return {
    id: text(row, 'id'),
    tenantId: textOrNull(row, 'tenant_id'),
    server: text(row, 'server'),
    tool: text(row, 'tool'),
    kind: text(row, 'kind') as ToolChangeKind,
    oldHash: textOrNull(row, 'old_hash'),
    newHash: textOrNull(row, 'new_hash'),
    oldDefinition: definitionOrNull(row, 'old_definition'),
    newDefinition: definitionOrNull(row, 'new_definition'),
    findings: Array.isArray(findings) ? (findings as ToolFinding[]) : [],
    status: text(row, 'status') as ToolChangeStatus,
    createdAt: time(row, 'created_at'),
    decidedAt: timeOrNull(row, 'decided_at'),
    decidedBy: textOrNull(row, 'decided_by'),
  };
}

function definitionOrNull(row: Row, column: string): ToolDefinitionRecord | null {
  const value = jsonOrNull(row, column);
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new TypeError(`column ${column} is not an object`);
  return value as ToolDefinitionRecord;
}

function checkScope(tenantId: string | null, server: string): void {
  if (tenantId !== null) checkTenantId(tenantId);
  checkServerName(server);
}

function checkTool(name: string): void {
  if (typeof name !== 'string' || name === '' || name.length > MAX_TOOL_NAME) {
    throw invalid(`tool name must be 1-${MAX_TOOL_NAME} characters`);
  }
}

function checkHash(value: string | null, field: string): void {
  if (value !== null && (typeof value !== 'string' || !HASH.test(value))) {
    throw invalid(`${field} must be a SHA-256 hex digest`);
  }
}

function checkDefinition(value: ToolDefinitionRecord | null, field: string): void {
  if (value !== null && (typeof value !== 'object' || Array.isArray(value))) {
    throw invalid(`${field} must be an object`);
  }
}

function checkFindings(findings: readonly ToolFinding[]): void {
  if (!Array.isArray(findings) || findings.length > MAX_FINDINGS) {
    throw invalid(`findings must be a list of at most ${MAX_FINDINGS}`);
  }
  for (const finding of findings) {
    const { detector, action, where, detail } = finding as Partial<ToolFinding>;
    if (![detector, action, where].every((value) => typeof value === 'string' && value !== '')) {
      throw invalid('each finding needs a detector, an action and a where');
    }
    if (detail !== undefined && typeof detail !== 'string') throw invalid('a finding detail must be text');
  }
}

/** The shape each kind must have: an addition has no old definition, a removal no new one. */
function checkChange(change: NewToolChange): ToolChangeStatus {
  checkTool(change.tool);
  checkOneOf(change.kind, KINDS, 'kind');
  checkHash(change.oldHash, 'oldHash');
  checkHash(change.newHash, 'newHash');
  checkDefinition(change.oldDefinition, 'oldDefinition');
  checkDefinition(change.newDefinition, 'newDefinition');
  checkFindings(change.findings);
  const hasOld = change.oldHash !== null && change.oldDefinition !== null;
  const hasNew = change.newHash !== null && change.newDefinition !== null;
  if (hasOld !== (change.kind !== 'added')) throw invalid('only an added tool has no old definition');
  if (hasNew !== (change.kind !== 'removed')) throw invalid('only a removed tool has no new definition');
  const status = change.status ?? (change.kind === 'removed' ? 'approved' : 'pending');
  checkOneOf(status, ['pending', 'approved'], 'status');
  if (change.kind === 'removed' && status !== 'approved') throw invalid('a removal is never pending');
  return status;
}

function checkFilter(filter: ToolChangeFilter): number {
  if (filter.status !== undefined) checkOneOf(filter.status, STATUSES, 'status');
  if (filter.server !== undefined) checkServerName(filter.server);
  const limit = filter.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
    throw invalid(`limit must be 1-${MAX_LIMIT}`);
  return limit;
}

/** `WHERE` clauses for a filter, numbered after the `taken` parameters already used. */
function filterClauses(filter: ToolChangeFilter, taken: number): { where: string; params: SqlParam[] } {
  const clauses: string[] = [];
  const params: SqlParam[] = [];
  if (filter.status !== undefined) {
    params.push(filter.status);
    clauses.push(`status = $${taken + params.length}`);
  }
  if (filter.server !== undefined) {
    params.push(filter.server);
    clauses.push(`server = $${taken + params.length}`);
  }
  return { where: clauses.map((clause) => ` AND ${clause}`).join(''), params };
}

const INSERT_CHANGE = `INSERT INTO tool_changes (id, tenant_id, server, tool, kind, old_hash, new_hash,
    old_definition, new_definition, findings, status, created_at, decided_at, decided_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
  ON CONFLICT DO NOTHING RETURNING *`;

const INSERT_PIN = `INSERT INTO tool_pins (tenant_id, server, tool, hash, definition, approved_at, approved_by)
  VALUES ($1, $2, $3, $4, $5, $6, $7)`;

async function pinsOf(sql: Sql, tenantId: string | null, server: string): Promise<ToolPin[]> {
  const rows = await sql.rows(`SELECT * FROM tool_pins WHERE ${SCOPE} AND server = $2 ORDER BY tool`, [
    tenantId,
    server,
  ]);
  return rows.map(toolPinFromRow);
}

/** An equal change already recorded: the open one for a pending change, else the same decided one. */
async function sameChange(
  sql: Sql,
  tenantId: string | null,
  server: string,
  change: NewToolChange,
  status: ToolChangeStatus,
): Promise<ToolChange | undefined> {
  const [row] =
    status === 'pending'
      ? await sql.rows(
          `SELECT * FROM tool_changes WHERE ${SCOPE} AND server = $2 AND tool = $3 AND new_hash = $4
             AND status IN ('pending', 'rejected')`,
          [tenantId, server, change.tool, change.newHash],
        )
      : await sql.rows(
          `SELECT * FROM tool_changes WHERE ${SCOPE} AND server = $2 AND tool = $3 AND kind = $4
             AND old_hash IS NOT DISTINCT FROM $5 AND new_hash IS NOT DISTINCT FROM $6 AND status = 'approved'
           ORDER BY created_at, id LIMIT 1`,
          [tenantId, server, change.tool, change.kind, change.oldHash, change.newHash],
        );
  return row === undefined ? undefined : toolChangeFromRow(row);
}

export function createToolPins(ctx: StoreContext): ToolPins {
  return {
    async state(tenantId, server) {
      checkScope(tenantId, server);
      return ctx.read(scopeOf(tenantId), async (sql) => {
        const pins = await pinsOf(sql, tenantId, server);
        const open = await sql.rows(
          `SELECT * FROM tool_changes WHERE ${SCOPE} AND server = $2 AND status IN ('pending', 'rejected')
           ORDER BY created_at, id`,
          [tenantId, server],
        );
        const [any] = await sql.rows(`SELECT id FROM tool_changes WHERE ${SCOPE} AND server = $2 LIMIT 1`, [
          tenantId,
          server,
        ]);
        return { pins, open: open.map(toolChangeFromRow), seen: pins.length > 0 || any !== undefined };
      });
    },

    async pin(tenantId, server, pins) {
      checkScope(tenantId, server);
      for (const pin of pins) {
        checkTool(pin.tool);
        checkHash(pin.hash, 'hash');
        checkDefinition(pin.definition, 'definition');
        checkText(pin.approvedBy, 'approvedBy');
      }
      return ctx.read(scopeOf(tenantId), async (sql) => {
        const at = ctx.now().toISOString();
        for (const pin of pins) {
          await sql.run(`${INSERT_PIN} ON CONFLICT DO NOTHING`, [
            tenantId,
            server,
            pin.tool,
            pin.hash,
            json(pin.definition),
            at,
            pin.approvedBy,
          ]);
        }
        return pinsOf(sql, tenantId, server);
      });
    },

    async recordChange(tenantId, server, change) {
      checkScope(tenantId, server);
      const status = checkChange(change);
      return ctx.read(scopeOf(tenantId), async (sql) => {
        const existing =
          status === 'approved' ? await sameChange(sql, tenantId, server, change, status) : undefined;
        if (existing) return { change: existing, created: false };
        const at = ctx.now().toISOString();
        const decided = status === 'approved';
        const [row] = await sql.rows(INSERT_CHANGE, [
          randomUUID(),
          tenantId,
          server,
          change.tool,
          change.kind,
          change.oldHash,
          change.newHash,
          change.oldDefinition === null ? null : json(change.oldDefinition),
          change.newDefinition === null ? null : json(change.newDefinition),
          json(change.findings),
          status,
          at,
          decided ? at : null,
          decided ? 'gateway' : null,
        ]);
        if (row) return { change: toolChangeFromRow(row), created: true };
        // Another writer recorded the same open change first.
        const open = await sameChange(sql, tenantId, server, change, status);
        if (!open) throw new Error('a tool change conflicted but no open change was found');
        return { change: open, created: false };
      });
    },

    async getChange(tenantId, id) {
      if (tenantId !== null) checkTenantId(tenantId);
      checkId(id, 'id');
      const [row] = await ctx.read(scopeOf(tenantId), (sql) =>
        sql.rows(`SELECT * FROM tool_changes WHERE ${SCOPE} AND id = $2`, [tenantId, id]),
      );
      return row === undefined ? undefined : toolChangeFromRow(row);
    },

    async findChange(id) {
      checkId(id, 'id');
      const [row] = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM tool_changes WHERE id = $1', [id]),
      );
      return row === undefined ? undefined : toolChangeFromRow(row);
    },

    async listChanges(tenantId, filter = {}) {
      if (tenantId !== null) checkTenantId(tenantId);
      const limit = checkFilter(filter);
      const { where, params } = filterClauses(filter, 2);
      const rows = await ctx.read(scopeOf(tenantId), (sql) =>
        sql.rows(`SELECT * FROM tool_changes WHERE ${SCOPE}${where} ORDER BY created_at, id LIMIT $2`, [
          tenantId,
          limit,
          ...params,
        ]),
      );
      return rows.map(toolChangeFromRow);
    },

    async listAllChanges(filter = {}) {
      const limit = checkFilter(filter);
      const { where, params } = filterClauses(filter, 1);
      const rows = await ctx.read('platform', (sql) =>
        sql.rows(`SELECT * FROM tool_changes WHERE 1 = 1${where} ORDER BY created_at, id LIMIT $1`, [
          limit,
          ...params,
        ]),
      );
      return rows.map(toolChangeFromRow);
    },

    async listPins(tenantId, server) {
      if (tenantId !== null) checkTenantId(tenantId);
      if (server !== undefined) checkServerName(server);
      return ctx.read(scopeOf(tenantId), async (sql) =>
        server === undefined
          ? (await sql.rows(`SELECT * FROM tool_pins WHERE ${SCOPE} ORDER BY server, tool`, [tenantId])).map(
              toolPinFromRow,
            )
          : pinsOf(sql, tenantId, server),
      );
    },

    async decide(tenantId, id, decision, context) {
      if (tenantId !== null) checkTenantId(tenantId);
      checkId(id, 'id');
      checkOneOf(decision, ['approve', 'reject'], 'decision');
      return ctx.write(scopeOf(tenantId), context, async ({ sql, at, log }) => {
        const [row] = await sql.rows(`SELECT * FROM tool_changes WHERE ${SCOPE} AND id = $2`, [tenantId, id]);
        if (!row) throw new GatewayError('NOT_FOUND', 'tool change not found');
        const change = toolChangeFromRow(row);
        const allowed = decision === 'approve' ? ['pending', 'rejected'] : ['pending'];
        if (!allowed.includes(change.status) || change.newHash === null || change.newDefinition === null) {
          throw new GatewayError('CONFLICT', `this tool change is ${change.status} already`);
        }
        if (decision === 'approve') {
          await sql.run(`DELETE FROM tool_pins WHERE ${SCOPE} AND server = $2 AND tool = $3`, [
            tenantId,
            change.server,
            change.tool,
          ]);
          await sql.run(INSERT_PIN, [
            tenantId,
            change.server,
            change.tool,
            change.newHash,
            json(change.newDefinition),
            at,
            context.actor,
          ]);
        }
        const [after] = await sql.rows(
          `UPDATE tool_changes SET status = $2, decided_at = $3, decided_by = $4 WHERE id = $1 RETURNING *`,
          [id, decision === 'approve' ? 'approved' : 'rejected', at, context.actor],
        );
        await log(tenantId, {
          action: `tool_change.${decision}`,
          target: `tool_change:${id}`,
          details: {
            server: change.server,
            tool: change.tool,
            kind: change.kind,
            oldHash: change.oldHash,
            newHash: change.newHash,
          },
        });
        return toolChangeFromRow(after as Row);
      });
    },
  };
}
