/**
 * API keys: the key's hash and lifecycle (rotation with grace, suspension, revocation, expiry,
 * last use). The store never sees a key itself, only the id and hash the identity layer made.
 */
import { GatewayError } from '../../errors.ts';
import { apiKeyState } from '../api-key-state.ts';
import type { ApiKey, ApiKeyCredential, ApiKeyRole, ApiKeyStatus } from '../records.ts';
import type { ApiKeys, KeyRotation, NewApiKey } from '../store.ts';
import { checkId, checkList, checkOneOf, checkTenantId, checkText, checkTime, invalid } from '../validate.ts';
import { json, type Row } from './database.ts';
import { keysetRows, readPage, stringList, text, textOrNull, time, timeOrNull } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

const ROLES: readonly ApiKeyRole[] = ['platform-admin', 'tenant-admin', 'member'];
const STATUSES: readonly ApiKeyStatus[] = ['active', 'suspended', 'revoked'];
const HASH = /^[a-z0-9-]+:[A-Za-z0-9_-]+$/;
const MAX_GRACE_SECONDS = 90 * 24 * 3600;
/** Null-safe: `null` matches exactly the platform's keys. */
const BY_OWNER = 'tenant_id IS NOT DISTINCT FROM $2';
const VERB: Record<ApiKeyStatus, string> = { active: 'resume', suspended: 'suspend', revoked: 'revoke' };

export function apiKeyFromRow(row: Row): ApiKey {
  return {
    id: text(row, 'id'),
    tenantId: textOrNull(row, 'tenant_id'),
    projectId: textOrNull(row, 'project_id'),
    name: text(row, 'name'),
    role: text(row, 'role') as ApiKeyRole,
    scopes: stringList(row, 'scopes') ?? [],
    status: text(row, 'status') as ApiKeyStatus,
    expiresAt: timeOrNull(row, 'expires_at'),
    lastUsedAt: timeOrNull(row, 'last_used_at'),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
    rotatedFrom: textOrNull(row, 'rotated_from'),
    replacedBy: textOrNull(row, 'replaced_by'),
    graceUntil: timeOrNull(row, 'grace_until'),
  };
}

function credentialFromRow(row: Row): ApiKeyCredential {
  return { ...apiKeyFromRow(row), hash: text(row, 'hash') };
}

function checkNewKey(owner: string | null, input: NewApiKey, now: number): string | null {
  if (owner !== null) checkTenantId(owner);
  checkId(input.id, 'key id');
  if (!HASH.test(input.hash)) throw invalid('hash must be "<algorithm>:<digest>" as hashApiKey makes it');
  checkText(input.name, 'name');
  checkOneOf(input.role, ROLES, 'role');
  if ((input.role === 'platform-admin') !== (owner === null)) {
    throw invalid('platform-admin keys belong to no tenant, and every other key to one');
  }
  if (input.projectId !== undefined) checkId(input.projectId, 'project id');
  if (input.scopes !== undefined) checkList(input.scopes, 'scopes');
  if (input.expiresAt === undefined) return null;
  const expiresAt = checkTime(input.expiresAt, 'expiresAt');
  if (Date.parse(expiresAt) <= now) throw invalid('expiresAt is in the past');
  return expiresAt;
}

const INSERT = `INSERT INTO api_keys (id, tenant_id, project_id, name, role, scopes, hash, status, expires_at,
    created_at, updated_at, rotated_from)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9, $9, $10) RETURNING *`;

export function createApiKeys(ctx: StoreContext): ApiKeys {
  async function create(owner: string | null, input: NewApiKey, context: { actor: string }): Promise<ApiKey> {
    const expiresAt = checkNewKey(owner, input, ctx.now().getTime());
    const scopes = input.scopes ?? ['*'];
    try {
      return await ctx.write(scopeOf(owner), context, async ({ sql, at, log }) => {
        const [row] = await sql.rows(INSERT, [
          input.id,
          owner,
          input.projectId ?? null,
          input.name,
          input.role,
          json(scopes),
          input.hash,
          expiresAt,
          at,
          null,
        ]);
        const details = {
          name: input.name,
          role: input.role,
          scopes,
          projectId: input.projectId ?? null,
          expiresAt,
        };
        await log(owner, { action: 'api_key.create', target: `api_key:${input.id}`, details });
        return apiKeyFromRow(row as Row);
      });
    } catch (error) {
      const kind = ctx.db.constraintKind(error);
      if (kind === 'unique') throw new GatewayError('CONFLICT', `key id ${input.id} is taken`);
      if (kind === 'foreign-key') {
        throw input.projectId === undefined
          ? new GatewayError('NOT_FOUND', 'tenant not found')
          : invalid('projectId names no project of this tenant');
      }
      throw error;
    }
  }

  async function rotate(owner: string | null, id: string, rotation: KeyRotation, context: { actor: string }) {
    checkId(rotation.newId, 'new key id');
    if (!HASH.test(rotation.newHash)) throw invalid('newHash must be "<algorithm>:<digest>"');
    const grace = rotation.graceSeconds;
    if (!Number.isInteger(grace) || grace < 0 || grace > MAX_GRACE_SECONDS) {
      throw invalid(`graceSeconds must be an integer from 0 to ${MAX_GRACE_SECONDS}`);
    }
    try {
      return await ctx.write(scopeOf(owner), context, async ({ sql, at, log }) => {
        const [row] = await sql.rows(`SELECT * FROM api_keys WHERE id = $1 AND ${BY_OWNER}`, [id, owner]);
        if (!row) throw new GatewayError('NOT_FOUND', 'api key not found');
        const old = apiKeyFromRow(row);
        const state = apiKeyState(old, Date.parse(at));
        if (state !== 'active')
          throw new GatewayError('CONFLICT', `api key ${id} is ${state}; only an active key rotates`);
        if (old.replacedBy !== null) {
          throw new GatewayError(
            'CONFLICT',
            `api key ${id} was already rotated; rotate ${old.replacedBy} instead`,
          );
        }
        const graceUntil = new Date(Date.parse(at) + grace * 1000).toISOString();
        const [inserted] = await sql.rows(INSERT, [
          rotation.newId,
          old.tenantId,
          old.projectId,
          old.name,
          old.role,
          json(old.scopes),
          rotation.newHash,
          old.expiresAt,
          at,
          old.id,
        ]);
        const [updated] = await sql.rows(
          `UPDATE api_keys SET replaced_by = $3, grace_until = $4, updated_at = $5 WHERE id = $1 AND ${BY_OWNER} RETURNING *`,
          [id, owner, rotation.newId, graceUntil, at],
        );
        await log(owner, {
          action: 'api_key.rotate',
          target: `api_key:${id}`,
          details: { newKeyId: rotation.newId, graceUntil },
        });
        return { previous: apiKeyFromRow(updated as Row), current: apiKeyFromRow(inserted as Row) };
      });
    } catch (error) {
      if (ctx.db.constraintKind(error) === 'unique')
        throw new GatewayError('CONFLICT', `key id ${rotation.newId} is taken`);
      throw error;
    }
  }

  return {
    create,
    rotate,

    async get(owner, id) {
      const [row] = await ctx.read(scopeOf(owner), (sql) =>
        sql.rows(`SELECT * FROM api_keys WHERE id = $1 AND ${BY_OWNER}`, [id, owner]),
      );
      return row === undefined ? undefined : apiKeyFromRow(row);
    },

    async list(owner) {
      const rows = await ctx.read(scopeOf(owner), (sql) =>
        sql.rows('SELECT * FROM api_keys WHERE tenant_id IS NOT DISTINCT FROM $1 ORDER BY created_at, id', [
          owner,
        ]),
      );
      return rows.map(apiKeyFromRow);
    },

    page(owner, { after, limit }) {
      const read = (count: number) =>
        ctx.read(scopeOf(owner), (sql) =>
          keysetRows(sql, {
            table: 'api_keys',
            where: 'tenant_id IS NOT DISTINCT FROM $1',
            params: [owner],
            count,
            after,
            cursor: {
              visible: `id = $1 AND ${BY_OWNER}`,
              params: (id) => [id, owner],
              refusal: 'cursor is not one of these keys; start again without it',
            },
          }),
        );
      return readPage(limit, read, apiKeyFromRow);
    },

    async setStatus(owner, id, status, context) {
      checkOneOf(status, STATUSES, 'status');
      return ctx.write(scopeOf(owner), context, async ({ sql, at, log }) => {
        const [row] = await sql.rows(`SELECT * FROM api_keys WHERE id = $1 AND ${BY_OWNER}`, [id, owner]);
        if (!row) throw new GatewayError('NOT_FOUND', 'api key not found');
        const current = apiKeyFromRow(row);
        if (current.status === status) return current;
        if (current.status === 'revoked')
          throw new GatewayError('CONFLICT', `api key ${id} is revoked for good`);
        const [updated] = await sql.rows(
          `UPDATE api_keys SET status = $3, updated_at = $4 WHERE id = $1 AND ${BY_OWNER} RETURNING *`,
          [id, owner, status, at],
        );
        await log(owner, {
          action: `api_key.${VERB[status]}`,
          target: `api_key:${id}`,
          details: { from: current.status },
        });
        return apiKeyFromRow(updated as Row);
      });
    },

    async find(id) {
      const [row] = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM api_keys WHERE id = $1', [id]),
      );
      return row === undefined ? undefined : credentialFromRow(row);
    },

    async listCredentials() {
      const rows = await ctx.read('platform', (sql) =>
        sql.rows(`SELECT * FROM api_keys WHERE status <> 'revoked' ORDER BY id`),
      );
      return rows.map(credentialFromRow);
    },

    async recordUse(uses) {
      const checked = uses.map((use) => ({ id: use.id, at: checkTime(use.at, 'at') }));
      if (checked.length === 0) return;
      await ctx.read('platform', async (sql) => {
        for (const use of checked) {
          await sql.run(
            'UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)',
            [use.id, use.at],
          );
        }
      });
    },
  };
}
