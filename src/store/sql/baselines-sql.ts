/**
 * Anomaly baselines: opaque JSON documents per tenant and principal, written in batches by the
 * gateway off its hot path. Not admin changes: saving neither logs nor bumps the version.
 */
import type { StoredBaseline } from '../records.ts';
import type { Baselines } from '../store.ts';
import { checkTenantId, checkText, invalid } from '../validate.ts';
import { json, type Row } from './database.ts';
import { record, text, time } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

/** Largest baseline document, serialized; the gateway's are a few KB. */
const MAX_BASELINE_BYTES = 64 * 1024;
/** Most baselines in one save. */
const MAX_BATCH = 10_000;

export function baselineFromRow(row: Row): StoredBaseline {
  return {
    tenantId: text(row, 'tenant_id'),
    principal: text(row, 'principal'),
    baseline: record(row, 'baseline'),
    updatedAt: time(row, 'updated_at'),
  };
}

const UPSERT = `INSERT INTO anomaly_baselines (tenant_id, principal, baseline, updated_at)
  VALUES ($1, $2, $3, $4)
  ON CONFLICT (tenant_id, principal) DO UPDATE SET baseline = excluded.baseline, updated_at = excluded.updated_at`;

export function createBaselines(ctx: StoreContext): Baselines {
  return {
    async load(tenantId, principal) {
      if (tenantId === undefined && principal !== undefined) throw invalid('a principal needs its tenant');
      if (tenantId !== undefined) checkTenantId(tenantId);
      if (principal !== undefined) checkText(principal, 'principal', 300);
      const where = [
        ...(tenantId === undefined ? [] : ['tenant_id = $1']),
        ...(principal === undefined ? [] : ['principal = $2']),
      ];
      const params = [tenantId, principal].filter((value) => value !== undefined);
      const rows = await ctx.read(scopeOf(tenantId ?? null), (sql) =>
        sql.rows(
          `SELECT * FROM anomaly_baselines${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
           ORDER BY tenant_id, principal`,
          params,
        ),
      );
      return rows.map(baselineFromRow);
    },

    async save(batch) {
      if (batch.length > MAX_BATCH) {
        throw invalid(`a batch holds at most ${MAX_BATCH} baselines`);
      }
      for (const item of batch) {
        checkTenantId(item.tenantId);
        checkText(item.principal, 'principal', 300);
        const { baseline } = item;
        if (typeof baseline !== 'object' || baseline === null || Array.isArray(baseline)) {
          throw invalid('a baseline must be a JSON object');
        }
        if (Buffer.byteLength(JSON.stringify(baseline)) > MAX_BASELINE_BYTES) {
          throw invalid(`a baseline must serialize to at most ${MAX_BASELINE_BYTES} bytes`);
        }
      }
      if (batch.length === 0) return;
      const at = ctx.now().toISOString();
      // One platform transaction for the whole batch: it spans tenants, like recordUse.
      await ctx.read('platform', async (sql) => {
        for (const item of batch) {
          await sql.run(UPSERT, [item.tenantId, item.principal, json(item.baseline), at]);
        }
      });
    },
  };
}
