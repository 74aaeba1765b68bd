/**
 * Limit overrides (admin changes: they bump the version, so every replica's live view follows)
 * and quota usage (the gateway's own bookkeeping, added to in batches like `recordUse`: no admin
 * change, no version bump).
 */
import { z } from 'zod';
import { GatewayError } from '../../errors.ts';
import { RateSchema } from '../../config/tiers-schema.ts';
import type { LimitOverride, LimitOverrideValue, QuotaUsage } from '../records.ts';
import type { Limits } from '../store.ts';
import { checkId, checkTenantId, checkTime, invalid } from '../validate.ts';
import { json, type Row } from './database.ts';
import { integer, jsonOrNull, text, time } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

/** The subject of a tenant's own override and usage row. */
export const TENANT_SUBJECT = '*';

const Count = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const TenantOverride = z
  .object({
    rateLimits: z
      .object({
        perKey: RateSchema.optional(),
        perTenant: RateSchema.optional(),
        perTool: RateSchema.optional(),
      })
      .strict()
      .optional(),
    quota: z
      .object({ monthlyCalls: Count.optional(), monthlyCallsPerKey: Count.optional() })
      .strict()
      .optional(),
  })
  .strict();

const KeyOverride = z
  .object({
    rateLimits: z.object({ perKey: RateSchema.optional() }).strict().optional(),
    quota: z.object({ monthlyCalls: Count.optional() }).strict().optional(),
  })
  .strict();

/** Most usage rows in one batch. */
const MAX_BATCH = 10_000;

export function limitOverrideFromRow(row: Row): LimitOverride {
  const rateLimits = (jsonOrNull(row, 'rate_limits') ?? {}) as LimitOverrideValue['rateLimits'];
  const monthlyCalls = row.quota_monthly_calls == null ? undefined : integer(row, 'quota_monthly_calls');
  const perKey =
    row.quota_monthly_calls_per_key == null ? undefined : integer(row, 'quota_monthly_calls_per_key');
  const quota = {
    ...(monthlyCalls === undefined ? {} : { monthlyCalls }),
    ...(perKey === undefined ? {} : { monthlyCallsPerKey: perKey }),
  };
  return {
    tenantId: text(row, 'tenant_id'),
    subject: text(row, 'subject'),
    ...(rateLimits && Object.keys(rateLimits).length > 0 ? { rateLimits } : {}),
    ...(Object.keys(quota).length > 0 ? { quota } : {}),
    updatedAt: time(row, 'updated_at'),
  };
}

export function quotaUsageFromRow(row: Row): QuotaUsage {
  return {
    tenantId: text(row, 'tenant_id'),
    subject: text(row, 'subject'),
    callsUsedMonth: integer(row, 'calls_used_month'),
    resetAt: time(row, 'reset_at'),
  };
}

function parsed(subject: string, value: unknown): LimitOverrideValue {
  const result = (subject === TENANT_SUBJECT ? TenantOverride : KeyOverride).safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    throw invalid(
      `invalid limits${first ? ` at ${first.path.join('.') || '(root)'}: ${first.message}` : ''}`,
    );
  }
  return result.data;
}

const UPSERT_OVERRIDE = `INSERT INTO limit_overrides
  (tenant_id, subject, rate_limits, quota_monthly_calls, quota_monthly_calls_per_key, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6)
  ON CONFLICT (tenant_id, subject) DO UPDATE SET rate_limits = excluded.rate_limits,
    quota_monthly_calls = excluded.quota_monthly_calls,
    quota_monthly_calls_per_key = excluded.quota_monthly_calls_per_key, updated_at = excluded.updated_at
  RETURNING *`;

// A late batch of an earlier month is dropped; a batch of a later month starts the count anew.
const ADD_USAGE = `INSERT INTO quota_usage (tenant_id, subject, calls_used_month, reset_at, updated_at)
  VALUES ($1, $2, $3, $4, $5)
  ON CONFLICT (tenant_id, subject) DO UPDATE SET
    calls_used_month = CASE
      WHEN quota_usage.reset_at = excluded.reset_at THEN quota_usage.calls_used_month + excluded.calls_used_month
      WHEN quota_usage.reset_at > excluded.reset_at THEN quota_usage.calls_used_month
      ELSE excluded.calls_used_month END,
    reset_at = CASE WHEN quota_usage.reset_at > excluded.reset_at THEN quota_usage.reset_at ELSE excluded.reset_at END,
    updated_at = excluded.updated_at`;

export function createLimits(ctx: StoreContext): Limits {
  return {
    async listOverrides() {
      const rows = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM limit_overrides ORDER BY tenant_id, subject'),
      );
      return rows.map(limitOverrideFromRow);
    },

    async overridesOf(tenantId) {
      checkTenantId(tenantId);
      const rows = await ctx.read(scopeOf(tenantId), (sql) =>
        sql.rows('SELECT * FROM limit_overrides WHERE tenant_id = $1 ORDER BY subject', [tenantId]),
      );
      return rows.map(limitOverrideFromRow);
    },

    async setOverride(tenantId, subject, value, context) {
      checkTenantId(tenantId);
      if (subject !== TENANT_SUBJECT) checkId(subject, 'key id');
      const clean = value === null ? null : parsed(subject, value);
      return ctx.write(scopeOf(tenantId), context, async ({ sql, at, log }) => {
        if (subject !== TENANT_SUBJECT) {
          const [key] = await sql.rows('SELECT id FROM api_keys WHERE tenant_id = $1 AND id = $2', [
            tenantId,
            subject,
          ]);
          if (!key) throw new GatewayError('NOT_FOUND', 'api key not found');
        }
        const target = subject === TENANT_SUBJECT ? `tenant:${tenantId}` : `api_key:${subject}`;
        if (clean === null) {
          await sql.run('DELETE FROM limit_overrides WHERE tenant_id = $1 AND subject = $2', [
            tenantId,
            subject,
          ]);
          await log(tenantId, { action: 'limits.clear', target });
          return undefined;
        }
        const [row] = await sql.rows(UPSERT_OVERRIDE, [
          tenantId,
          subject,
          json(clean.rateLimits ?? {}),
          clean.quota?.monthlyCalls ?? null,
          clean.quota?.monthlyCallsPerKey ?? null,
          at,
        ]);
        await log(tenantId, { action: 'limits.set', target, details: { ...clean } });
        return limitOverrideFromRow(row as Row);
      });
    },

    async usageOf(tenantId) {
      checkTenantId(tenantId);
      const rows = await ctx.read(scopeOf(tenantId), (sql) =>
        sql.rows('SELECT * FROM quota_usage WHERE tenant_id = $1 ORDER BY subject', [tenantId]),
      );
      return rows.map(quotaUsageFromRow);
    },

    async addUsage(batch) {
      if (batch.length > MAX_BATCH) throw invalid(`a batch holds at most ${MAX_BATCH} usage rows`);
      for (const item of batch) {
        checkTenantId(item.tenantId);
        if (item.subject !== TENANT_SUBJECT) checkId(item.subject, 'key id');
        checkTime(item.resetAt, 'resetAt');
        if (!Number.isSafeInteger(item.calls) || item.calls < 0) throw invalid('calls must be a count');
      }
      if (batch.length === 0) return;
      const at = ctx.now().toISOString();
      // One platform transaction for the whole batch: it spans tenants, like recordUse.
      await ctx.read('platform', async (sql) => {
        for (const item of batch) {
          await sql.run(ADD_USAGE, [
            item.tenantId,
            item.subject,
            item.calls,
            new Date(item.resetAt).toISOString(),
            at,
          ]);
        }
      });
    },
  };
}
