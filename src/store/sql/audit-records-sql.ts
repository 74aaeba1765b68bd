/**
 * The audit log's rows (migration 006). The gateway's audit writer appends sealed records in
 * batches off its hot path; the admin API pages through them; `audit verify` scans them in seq
 * order. Not admin changes: appending neither logs nor bumps the version (the audit log records
 * admin changes itself).
 */
import type { StoredAuditRecord } from '../records.ts';
import type { AuditQuery, AuditRecords } from '../store.ts';
import { checkTenantId, checkText, checkTime, invalid } from '../validate.ts';
import type { Row, SqlParam } from './database.ts';
import { integer, text, textOrNull, time } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

/** Most records in one append, and in one page. */
const MAX_BATCH = 10_000;
const MAX_PAGE = 10_000;
/** A record line the writer would never produce; keeps one row from filling the database. */
const MAX_LINE_BYTES = 4 * 1024 * 1024;

export function auditRecordFromRow(row: Row): StoredAuditRecord {
  return {
    seq: integer(row, 'seq'),
    tenantId: textOrNull(row, 'tenant_id'),
    time: time(row, 'time'),
    kind: text(row, 'kind'),
    tool: textOrNull(row, 'tool'),
    line: text(row, 'line'),
  };
}

// Idempotent by seq: the writer retries a batch whose write failed, and a sink written to
// twice must not keep a record twice (nor refuse the retry).
const INSERT = `INSERT INTO audit_records (seq, tenant_id, time, kind, tool, line)
  VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (seq) DO NOTHING`;

/** Checks a record; returns its time normalised, as the time column is compared as text on SQLite. */
function checkRecord(record: StoredAuditRecord): string {
  if (!Number.isSafeInteger(record.seq) || record.seq < 1) throw invalid('seq must be a positive integer');
  if (record.tenantId !== null) checkText(record.tenantId, 'tenant', 300);
  const at = checkTime(record.time, 'time');
  checkText(record.kind, 'kind', 100);
  if (record.tool !== null) checkText(record.tool, 'tool', 500);
  if (typeof record.line !== 'string' || Buffer.byteLength(record.line) > MAX_LINE_BYTES) {
    throw invalid(`a record line must be at most ${MAX_LINE_BYTES} bytes`);
  }
  return at;
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw invalid(`limit must be 1-${MAX_PAGE}`);
  }
}

export function createAuditRecords(ctx: StoreContext): AuditRecords {
  return {
    async append(records) {
      if (records.length > MAX_BATCH) throw invalid(`a batch holds at most ${MAX_BATCH} records`);
      const times = records.map(checkRecord);
      if (records.length === 0) return;
      // One platform transaction for the batch: a batch spans tenants, and it lands whole or not at all.
      await ctx.read('platform', async (sql) => {
        for (const [i, r] of records.entries()) {
          await sql.run(INSERT, [r.seq, r.tenantId, times[i] as string, r.kind, r.tool, r.line]);
        }
      });
    },

    async last() {
      const [row] = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM audit_records ORDER BY seq DESC LIMIT 1'),
      );
      return row === undefined ? undefined : auditRecordFromRow(row);
    },

    async list(query: AuditQuery) {
      checkLimit(query.limit);
      const where: string[] = [];
      const params: SqlParam[] = [];
      const add = (clause: (n: string) => string, value: SqlParam) => {
        params.push(value);
        where.push(clause(`$${params.length}`));
      };
      if (query.tenantId !== undefined) {
        checkTenantId(query.tenantId, 'tenant');
        add((n) => `tenant_id = ${n}`, query.tenantId);
      }
      if (query.afterSeq !== undefined) {
        if (!Number.isSafeInteger(query.afterSeq) || query.afterSeq < 0) throw invalid('cursor is invalid');
        add((n) => `seq > ${n}`, query.afterSeq);
      }
      if (query.since !== undefined) add((n) => `time >= ${n}`, checkTime(query.since, 'since'));
      if (query.until !== undefined) add((n) => `time < ${n}`, checkTime(query.until, 'until'));
      if (query.tool !== undefined) {
        checkText(query.tool, 'tool', 500);
        add((n) => `tool = ${n}`, query.tool);
      }
      params.push(query.limit);
      const rows = await ctx.read(scopeOf(query.tenantId ?? null), (sql) =>
        sql.rows(
          `SELECT * FROM audit_records${where.length > 0 ? ` WHERE ${where.join(' AND ')}` : ''}
           ORDER BY seq LIMIT $${params.length}`,
          params,
        ),
      );
      return rows.map(auditRecordFromRow);
    },

    async scan(afterSeq, limit) {
      checkLimit(limit);
      if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw invalid('afterSeq is invalid');
      const rows = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM audit_records WHERE seq > $1 ORDER BY seq LIMIT $2', [afterSeq, limit]),
      );
      return rows.map(auditRecordFromRow);
    },
  };
}
