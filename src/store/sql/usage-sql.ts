/**
 * Usage events and their hourly and daily rollups (migration 005). The gateway writes them in
 * batches off its hot path: one platform transaction per batch, since a batch spans tenants (like
 * `apiKeys.recordUse`). Not admin changes: writing neither logs nor bumps the version. Reads are
 * in the tenant's own scope.
 */
import type {
  CostCharge,
  StoredUsageEvent,
  UsageEvent,
  UsageGroupBy,
  UsageRow,
  UsageTotals,
} from '../usage-records.ts';
import { USAGE_GROUPINGS, USAGE_KINDS } from '../usage-records.ts';
import { checkOneOf, checkTenantId, checkTime, invalid } from '../validate.ts';
import type { Row, Sql, SqlParam } from './database.ts';
import { integer, text, time } from './rows.ts';
import type { StoreContext } from './store-context.ts';

/** Most events and charges in one write; the gateway's batches are far smaller. */
const MAX_BATCH = 10_000;
const MAX_TEXT = 512;
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

type Bucket = {
  tenantId: string;
  at: string;
  server: string;
  tool: string;
  key: string;
  project: string;
  calls: number;
  errors: number;
  bytesIn: number;
  bytesOut: number;
  latencyUs: number;
  cpuUs: number;
  wallUs: number;
  cost: number;
};

function floorTo(iso: string, unit: number, memo?: Map<number, string>): string {
  const ms = Date.parse(iso);
  const floor = ms - (ms % unit);
  let text = memo?.get(floor);
  if (text === undefined) {
    text = new Date(floor).toISOString();
    memo?.set(floor, text);
  }
  return text;
}

function clip(value: string | undefined): string {
  return value === undefined ? '' : value.slice(0, MAX_TEXT);
}

/** What `toISOString` writes; anything else goes through the full check (and is normalised). */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function checkEvent(event: UsageEvent): void {
  checkTenantId(event.tenantId);
  checkOneOf(event.kind, USAGE_KINDS, 'kind');
  if (!CANONICAL.test(event.ts) || Number.isNaN(Date.parse(event.ts)))
    throw invalid('ts must be an ISO 8601 time in UTC');
  for (const [field, value] of [
    ['latencyMs', event.latencyMs],
    ['bytesIn', event.bytesIn],
    ['bytesOut', event.bytesOut],
    ['cost', event.cost],
  ] as const) {
    if (!Number.isFinite(value) || value < 0) throw invalid(`${field} must be a non-negative number`);
  }
}

function checkCharge(charge: CostCharge): void {
  checkTenantId(charge.tenantId);
  checkTime(charge.at, 'at');
  for (const value of [charge.cpuUs, charge.wallUs, charge.cost]) {
    if (!Number.isFinite(value) || value < 0) throw invalid('a charge must be non-negative');
  }
}

/** Adds one contribution to the buckets of its hour and its day. */
function addTo(
  buckets: Map<string, Bucket>,
  unit: number,
  base: Omit<Bucket, 'at'> & { ts: string },
  memo: Map<number, string>,
): void {
  const at = floorTo(base.ts, unit, memo);
  const id = `${base.tenantId}\u0000${at}\u0000${base.server}\u0000${base.tool}\u0000${base.key}\u0000${base.project}`;
  const bucket = buckets.get(id);
  if (!bucket) {
    const { ts: _, ...rest } = base;
    buckets.set(id, { ...rest, at });
    return;
  }
  bucket.calls += base.calls;
  bucket.errors += base.errors;
  bucket.bytesIn += base.bytesIn;
  bucket.bytesOut += base.bytesOut;
  bucket.latencyUs += base.latencyUs;
  bucket.cpuUs += base.cpuUs;
  bucket.wallUs += base.wallUs;
  bucket.cost += base.cost;
}

function upsert(table: 'usage_hourly' | 'usage_daily'): string {
  const bucket = table === 'usage_hourly' ? 'hour' : 'day';
  return `INSERT INTO ${table} (tenant_id, ${bucket}, server, tool, api_key_id, project_id,
      calls, errors, bytes_in, bytes_out, latency_us, cpu_us, wall_us, cost)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
    ON CONFLICT (tenant_id, ${bucket}, server, tool, api_key_id, project_id) DO UPDATE SET
      calls = ${table}.calls + excluded.calls,
      errors = ${table}.errors + excluded.errors,
      bytes_in = ${table}.bytes_in + excluded.bytes_in,
      bytes_out = ${table}.bytes_out + excluded.bytes_out,
      latency_us = ${table}.latency_us + excluded.latency_us,
      cpu_us = ${table}.cpu_us + excluded.cpu_us,
      wall_us = ${table}.wall_us + excluded.wall_us,
      cost = ${table}.cost + excluded.cost`;
}

const EVENT_COLUMNS = `ts, tenant_id, project_id, api_key_id, principal, server,
    kind, tool_name, latency_ms, status, status_code, bytes_in, bytes_out`;
function eventParams(e: UsageEvent): SqlParam[] {
  return [
    // Checked by checkEvent already, and written by toISOString (the canonical form).
    e.ts,
    e.tenantId,
    e.projectId ?? null,
    e.apiKeyId ?? null,
    clip(e.principal),
    e.server ?? null,
    e.kind,
    e.tool === undefined ? null : clip(e.tool),
    e.latencyMs,
    clip(e.status),
    Math.trunc(e.statusCode),
    Math.trunc(e.bytesIn),
    Math.trunc(e.bytesOut),
  ];
}

/** One statement per row: prepared once, it is cheaper in node:sqlite than one long multi-row INSERT. */
async function insertEvents(sql: Sql, events: readonly UsageEvent[]): Promise<void> {
  const statement = `INSERT INTO usage_events (${EVENT_COLUMNS})
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;
  for (const event of events) await sql.run(statement, eventParams(event));
}

async function writeBuckets(sql: Sql, table: 'usage_hourly' | 'usage_daily', buckets: Map<string, Bucket>) {
  const statement = upsert(table);
  for (const b of buckets.values()) {
    await sql.run(statement, [
      b.tenantId,
      b.at,
      b.server,
      b.tool,
      b.key,
      b.project,
      b.calls,
      b.errors,
      b.bytesIn,
      b.bytesOut,
      Math.round(b.latencyUs),
      Math.round(b.cpuUs),
      Math.round(b.wallUs),
      b.cost,
    ]);
  }
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

export function createUsage(ctx: StoreContext): Usage {
  return {
    async record(events, charges = []) {
      if (events.length + charges.length > MAX_BATCH)
        throw invalid(`a batch holds at most ${MAX_BATCH} records`);
      events.forEach(checkEvent);
      charges.forEach(checkCharge);
      if (events.length + charges.length === 0) return;
      const hourly = new Map<string, Bucket>();
      const daily = new Map<string, Bucket>();
      const contributions = [
        ...events.map((event) => ({
          ts: event.ts,
          tenantId: event.tenantId,
          server: clip(event.server),
          tool: clip(event.tool),
          key: clip(event.apiKeyId),
          project: clip(event.projectId),
          calls: 1,
          errors: event.statusCode >= 400 || event.status === 'tool-error' ? 1 : 0,
          bytesIn: event.bytesIn,
          bytesOut: event.bytesOut,
          latencyUs: event.latencyMs * 1000,
          cpuUs: 0,
          wallUs: 0,
          cost: event.cost,
        })),
        ...charges.map((charge) => ({
          ts: charge.at,
          tenantId: charge.tenantId,
          server: clip(charge.server),
          tool: clip(charge.tool),
          key: clip(charge.apiKeyId),
          project: clip(charge.projectId),
          calls: 0,
          errors: 0,
          bytesIn: 0,
          bytesOut: 0,
          latencyUs: 0,
          cpuUs: charge.cpuUs,
          wallUs: charge.wallUs,
          cost: charge.cost,
        })),
      ];
      // A batch spans a few hours at most: each bucket's name is worked out once.
      const memo = new Map<number, string>();
      for (const contribution of contributions) {
        addTo(hourly, HOUR_MS, contribution, memo);
        addTo(daily, DAY_MS, contribution, memo);
      }
      await ctx.read('platform', async (sql) => {
        await insertEvents(sql, events);
        await writeBuckets(sql, 'usage_hourly', hourly);
        await writeBuckets(sql, 'usage_daily', daily);
      });
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
