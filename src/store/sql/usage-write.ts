/**
 * Writing a batch of usage: the checks (on the caller's side, so a bad record is refused as it
 * always was), then the events appended and every event and charge added to its hour's and its
 * day's rollup, all inside one transaction the caller opens. Shared by the store's own
 * connection and the SQLite usage writer's thread (sqlite/usage-writer-thread.ts).
 */
import type { CostCharge, UsageEvent } from '../usage-records.ts';
import { USAGE_KINDS } from '../usage-records.ts';
import { checkOneOf, checkTenantId, checkTime, invalid } from '../validate.ts';
import type { Sql } from './database.ts';

/** Most events and charges in one write; the gateway's batches are far smaller. */
export const MAX_BATCH = 10_000;
const MAX_TEXT = 512;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

export type Bucket = {
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

/** One event's or charge's share of a bucket. */
type Contribution = Omit<Bucket, 'at' | 'tenantId' | 'server' | 'tool' | 'key' | 'project'>;

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
  // One check per field, not a list of pairs per event: the gateway checks every event it writes.
  checkAmount('latencyMs', event.latencyMs);
  checkAmount('bytesIn', event.bytesIn);
  checkAmount('bytesOut', event.bytesOut);
  checkAmount('cost', event.cost);
}

function checkAmount(field: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw invalid(`${field} must be a non-negative number`);
}

function checkCharge(charge: CostCharge): void {
  checkTenantId(charge.tenantId);
  checkTime(charge.at, 'at');
  for (const value of [charge.cpuUs, charge.wallUs, charge.cost]) {
    if (!Number.isFinite(value) || value < 0) throw invalid('a charge must be non-negative');
  }
}

/** Refuses a batch that is too large or holds a bad record (INVALID_PARAMS); writes nothing. */
export function checkUsageBatch(events: readonly UsageEvent[], charges: readonly CostCharge[]): void {
  if (events.length + charges.length > MAX_BATCH) throw invalid(`a batch holds at most ${MAX_BATCH} records`);
  events.forEach(checkEvent);
  charges.forEach(checkCharge);
}

/**
 * The hourly and daily buckets of a batch. Each record's time is parsed once and its
 * (tenant, server, tool, key, project) named once; a batch spans a few hours at most, so each
 * bucket's time is formatted once.
 */
export class Rollups {
  readonly hourly = new Map<string, Bucket>();
  readonly daily = new Map<string, Bucket>();
  readonly #times = new Map<number, string>();

  add(
    ts: string,
    who: { tenantId: string; server?: string; tool?: string; apiKeyId?: string; projectId?: string },
    part: Contribution,
  ): void {
    const ms = Date.parse(ts);
    const names = {
      tenantId: who.tenantId,
      server: clip(who.server),
      tool: clip(who.tool),
      key: clip(who.apiKeyId),
      project: clip(who.projectId),
    };
    const id = `${names.tenantId}\u0000${names.server}\u0000${names.tool}\u0000${names.key}\u0000${names.project}`;
    this.#into(this.hourly, ms - (ms % HOUR_MS), id, names, part);
    this.#into(this.daily, ms - (ms % DAY_MS), id, names, part);
  }

  #into(
    buckets: Map<string, Bucket>,
    floor: number,
    who: string,
    names: Pick<Bucket, 'tenantId' | 'server' | 'tool' | 'key' | 'project'>,
    part: Contribution,
  ): void {
    let at = this.#times.get(floor);
    if (at === undefined) {
      at = new Date(floor).toISOString();
      this.#times.set(floor, at);
    }
    const id = `${at}\u0000${who}`;
    const bucket = buckets.get(id);
    if (!bucket) {
      buckets.set(id, { ...names, at, ...part });
      return;
    }
    bucket.calls += part.calls;
    bucket.errors += part.errors;
    bucket.bytesIn += part.bytesIn;
    bucket.bytesOut += part.bytesOut;
    bucket.latencyUs += part.latencyUs;
    bucket.cpuUs += part.cpuUs;
    bucket.wallUs += part.wallUs;
    bucket.cost += part.cost;
  }
}

/** The hourly and daily buckets of a batch. */
export function rollupsOf(events: readonly UsageEvent[], charges: readonly CostCharge[]): Rollups {
  const rollups = new Rollups();
  for (const event of events) {
    rollups.add(event.ts, event, {
      calls: 1,
      errors: event.statusCode >= 400 || event.status === 'tool-error' ? 1 : 0,
      bytesIn: event.bytesIn,
      bytesOut: event.bytesOut,
      latencyUs: event.latencyMs * 1000,
      cpuUs: 0,
      wallUs: 0,
      cost: event.cost,
    });
  }
  for (const charge of charges) {
    rollups.add(charge.at, charge, {
      calls: 0,
      errors: 0,
      bytesIn: 0,
      bytesOut: 0,
      latencyUs: 0,
      cpuUs: charge.cpuUs,
      wallUs: charge.wallUs,
      cost: charge.cost,
    });
  }
  return rollups;
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
export const UPSERT_HOURLY = upsert('usage_hourly');
export const UPSERT_DAILY = upsert('usage_daily');

/** One statement per row: prepared once, it is cheaper in node:sqlite than one long multi-row INSERT. */
export const INSERT_EVENT = `INSERT INTO usage_events (ts, tenant_id, project_id, api_key_id, principal, server,
    kind, tool_name, latency_ms, status, status_code, bytes_in, bytes_out)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`;

/** An event's row; plain strings, numbers and nulls, which every driver takes as they are. */
export function eventParams(e: UsageEvent): PlainValue[] {
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

/** The values of a batch's rows (no JSON, no booleans). */
export type PlainValue = string | number | null;

/** A bucket's values, in the order of the rollup upserts. */
export function bucketParams(b: Bucket): PlainValue[] {
  return [
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
  ];
}

async function writeBuckets(sql: Sql, statement: string, buckets: Map<string, Bucket>): Promise<void> {
  for (const b of buckets.values()) await sql.run(statement, bucketParams(b));
}

/** Appends a checked batch's events and adds it to the rollups, in the caller's transaction. */
export async function writeUsageBatch(
  sql: Sql,
  events: readonly UsageEvent[],
  charges: readonly CostCharge[],
): Promise<void> {
  const rollups = rollupsOf(events, charges);
  for (const event of events) await sql.run(INSERT_EVENT, eventParams(event));
  await writeBuckets(sql, UPSERT_HOURLY, rollups.hourly);
  await writeBuckets(sql, UPSERT_DAILY, rollups.daily);
}
