/**
 * Usage events and their hourly and daily rollups (migration 005). The gateway writes them in
 * batches off its hot path: one platform transaction per batch, since a batch spans tenants (like
 * `apiKeys.recordUse`), on the store's connection or, for a SQLite file, on a thread of its own
 * (sqlite/usage-writer.ts). Not admin changes: writing neither logs nor bumps the version. Reads
 * are in the tenant's own scope.
 */
import type {
  CostCharge,
  StoredUsageEvent,
  UsageEvent,
  UsageGroupBy,
  UsageRow,
  UsageTotals,
} from '../usage-records.ts';
import { USAGE_GROUPINGS } from '../usage-records.ts';
import { checkOneOf, checkTenantId, checkTime, invalid } from '../validate.ts';
import type { Row } from './database.ts';
import { integer, text, time } from './rows.ts';
import type { StoreContext } from './store-context.ts';
import { checkUsageBatch, writeUsageBatch } from './usage-write.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type Usage = {
  /** Appends the events and adds them and the charges to the rollups, in one transaction. */
  record(events: readonly UsageEvent[], charges?: readonly CostCharge[]): Promise<void>;
  /**
   * A tenant's usage in [since, until), grouped. Day-aligned bounds read the daily rollup (kept
   * for billing); others read the hourly one, to the hour.
   */
  summarize(tenantId: string, query: UsageQuery): Promise<UsageRow[]>;
  /** Platform-wide: each tenant's totals over whole days in [since, until), for billing. */
  totals(since: string, until: string): Promise<UsageTotals[]>;
  /** One tenant's raw events in [since, until), oldest first, at most `limit`. */
  events(tenantId: string, since: string, until: string, limit?: number): Promise<StoredUsageEvent[]>;
};

export type UsageQuery = { readonly since: string; readonly until: string; readonly groupBy: UsageGroupBy };

function floorTo(iso: string, unit: number): string {
  const ms = Date.parse(iso);
  return new Date(ms - (ms % unit)).toISOString();
}

function real(row: Row, column: string): number {
  const value = Number(row[column] ?? 0);
  if (!Number.isFinite(value)) throw new TypeError(`column ${column} is not a number`);
  return value;
}

function sums(row: Row): Omit<UsageRow, 'group'> {
  return {
    calls: integer(row, 'calls'),
    errors: integer(row, 'errors'),
    bytesIn: integer(row, 'bytes_in'),
    bytesOut: integer(row, 'bytes_out'),
    cpuSeconds: integer(row, 'cpu_us') / 1e6,
    wallSeconds: integer(row, 'wall_us') / 1e6,
    cost: real(row, 'cost'),
  };
}

const SUMS = `COALESCE(SUM(calls), 0) AS calls, COALESCE(SUM(errors), 0) AS errors,
  COALESCE(SUM(bytes_in), 0) AS bytes_in, COALESCE(SUM(bytes_out), 0) AS bytes_out,
  COALESCE(SUM(cpu_us), 0) AS cpu_us, COALESCE(SUM(wall_us), 0) AS wall_us, COALESCE(SUM(cost), 0) AS cost`;

const GROUP_COLUMN: Record<Exclude<UsageGroupBy, 'day'>, string> = {
  tool: 'tool',
  key: 'api_key_id',
  project: 'project_id',
  server: 'server',
};

function checkRange(since: string, until: string): { since: string; until: string } {
  const from = checkTime(since, 'since');
  const to = checkTime(until, 'until');
  if (Date.parse(to) <= Date.parse(from)) throw invalid('until must be after since');
  return { since: from, until: to };
}

function dayAligned(iso: string): boolean {
  return Date.parse(iso) % DAY_MS === 0;
}

function add(into: Map<string, Omit<UsageRow, 'group'>>, group: string, row: Omit<UsageRow, 'group'>) {
  const seen = into.get(group);
  if (!seen) {
    into.set(group, row);
    return;
  }
  into.set(group, {
    calls: seen.calls + row.calls,
    errors: seen.errors + row.errors,
    bytesIn: seen.bytesIn + row.bytesIn,
    bytesOut: seen.bytesOut + row.bytesOut,
    cpuSeconds: seen.cpuSeconds + row.cpuSeconds,
    wallSeconds: seen.wallSeconds + row.wallSeconds,
    cost: seen.cost + row.cost,
  });
}

/** Writes a checked, non-empty batch in a transaction of its own, elsewhere than `ctx` (a thread). */
export type UsageWriter = (events: readonly UsageEvent[], charges: readonly CostCharge[]) => Promise<void>;

/** The usage queries; `writer`, when given, writes the batches `record` has checked. */
export function createUsage(ctx: StoreContext, writer?: UsageWriter): Usage {
  return {
    async record(events, charges = []) {
      checkUsageBatch(events, charges);
      if (events.length + charges.length === 0) return;
      if (writer) return writer(events, charges);
      await ctx.read('platform', (sql) => writeUsageBatch(sql, events, charges));
    },

    async summarize(tenantId, query) {
      checkTenantId(tenantId);
      checkOneOf(query.groupBy, USAGE_GROUPINGS, 'groupBy');
      const { since, until } = checkRange(query.since, query.until);
      const daily = dayAligned(since) && dayAligned(until);
      const table = daily ? 'usage_daily' : 'usage_hourly';
      const bucket = daily ? 'day' : 'hour';
      // Partial hours round out to whole ones: the hourly rollup is as fine as usage goes.
      const from = floorTo(since, daily ? DAY_MS : HOUR_MS);
      const column = query.groupBy === 'day' ? bucket : GROUP_COLUMN[query.groupBy];
      const rows = await ctx.read({ tenantId }, (sql) =>
        sql.rows(
          `SELECT ${column} AS grp, ${SUMS} FROM ${table}
           WHERE tenant_id = $1 AND ${bucket} >= $2 AND ${bucket} < $3
           GROUP BY ${column} ORDER BY ${column}`,
          [tenantId, from, until],
        ),
      );
      const grouped = new Map<string, Omit<UsageRow, 'group'>>();
      for (const row of rows) {
        const group = query.groupBy === 'day' ? time(row, 'grp').slice(0, 10) : text(row, 'grp');
        add(grouped, group, sums(row));
      }
      return [...grouped].map(([group, row]) => ({ group, ...row }));
    },

    async totals(since, until) {
      const range = checkRange(since, until);
      if (!dayAligned(range.since) || !dayAligned(range.until))
        throw invalid('a billing range is whole days');
      const rows = await ctx.read('platform', (sql) =>
        sql.rows(
          `SELECT tenant_id, ${SUMS} FROM usage_daily WHERE day >= $1 AND day < $2
           GROUP BY tenant_id ORDER BY tenant_id`,
          [range.since, range.until],
        ),
      );
      return rows.map((row) => ({ tenantId: text(row, 'tenant_id'), ...sums(row) }));
    },

    async events(tenantId, since, until, limit = 1000) {
      checkTenantId(tenantId);
      const range = checkRange(since, until);
      const rows = await ctx.read({ tenantId }, (sql) =>
        sql.rows(
          `SELECT * FROM usage_events WHERE tenant_id = $1 AND ts >= $2 AND ts < $3 ORDER BY ts, id LIMIT $4`,
          [tenantId, range.since, range.until, Math.max(1, Math.min(limit, 10_000))],
        ),
      );
      return rows.map(usageEventFromRow);
    },
  };
}

function optional(row: Row, column: string): string | undefined {
  const value = row[column];
  return typeof value === 'string' ? value : undefined;
}

export function usageEventFromRow(row: Row): StoredUsageEvent {
  const projectId = optional(row, 'project_id');
  const apiKeyId = optional(row, 'api_key_id');
  const server = optional(row, 'server');
  const tool = optional(row, 'tool_name');
  return {
    ts: time(row, 'ts'),
    tenantId: text(row, 'tenant_id'),
    ...(projectId === undefined ? {} : { projectId }),
    ...(apiKeyId === undefined ? {} : { apiKeyId }),
    principal: text(row, 'principal'),
    ...(server === undefined ? {} : { server }),
    kind: text(row, 'kind') as UsageEvent['kind'],
    ...(tool === undefined ? {} : { tool }),
    latencyMs: real(row, 'latency_ms'),
    status: text(row, 'status'),
    statusCode: integer(row, 'status_code'),
    bytesIn: integer(row, 'bytes_in'),
    bytesOut: integer(row, 'bytes_out'),
  };
}

/** A rollup row as a tenant export shows it. */
export function rollupFromRow(row: Row, bucket: 'hour' | 'day'): Record<string, unknown> {
  return {
    [bucket]: time(row, bucket),
    server: text(row, 'server'),
    tool: text(row, 'tool'),
    apiKeyId: text(row, 'api_key_id'),
    projectId: text(row, 'project_id'),
    ...sums(row),
  };
}
