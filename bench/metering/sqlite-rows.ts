/**
 * What one usage event row costs the SQLite usage writer's thread, by schema version: the
 * writer's own statements (src/store/sqlite/usage-batch-statements.ts) writing batches of 500
 * events into a file store (WAL, `synchronous = NORMAL`) migrated to each version, in
 * alternating rounds. Version 7 rebuilds version 6's `usage_events` with its kinds checked by
 * `=` and `OR` instead of `IN (…)` and its id without AUTOINCREMENT
 * (src/store/migrations/007-usage-event-inserts.ts). Prints ns a row; never asserts.
 *
 *   node bench/metering/sqlite-rows.ts [rounds]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIGRATIONS } from '../../src/store/migrations/migrations.ts';
import { migrate } from '../../src/store/migrations/migrator.ts';
import { openSqliteConnection, openSqliteDatabase } from '../../src/store/sqlite/sqlite-database.ts';
import { UsageBatchStatements } from '../../src/store/sqlite/usage-batch-statements.ts';
import type { UsageEvent } from '../../src/store/usage-records.ts';
import { machineFacts } from '../lib/report.ts';
import { fixed, median, table } from '../lib/stats.ts';

const ROUNDS = Math.max(1, Math.min(20, Number(process.argv[2] ?? 5)));
const BATCH = 500;
const BATCHES_PER_ROUND = 40;
const VERSIONS = [6, MIGRATIONS.at(-1)?.version ?? 0];

const dir = mkdtempSync(join(tmpdir(), 'mcplane-bench-sqlite-rows-'));
let clock = Date.parse('2026-12-01T00:00:00.000Z');

function batch(): UsageEvent[] {
  return Array.from({ length: BATCH }, (_, index) => ({
    ts: new Date((clock += 1)).toISOString(),
    tenantId: `t${index % 10}`,
    principal: `key:k${index % 50}`,
    apiKeyId: `k${index % 50}`,
    kind: 'tool-call',
    server: 'echo',
    tool: 'echo',
    latencyMs: 0.25,
    status: 'ok',
    statusCode: 200,
    bytesIn: 40,
    bytesOut: 80,
    cost: 0.001,
  }));
}

async function writerAt(version: number): Promise<UsageBatchStatements> {
  const path = join(dir, `v${version}.db`);
  const db = openSqliteDatabase(path, path);
  await migrate(
    db,
    MIGRATIONS.filter((migration) => migration.version <= version),
    { apply: true, now: () => new Date() },
  );
  await db.close();
  return new UsageBatchStatements(openSqliteConnection(path, path));
}

try {
  console.log('SQLite usage rows by schema version');
  console.log(machineFacts([`store: a file in ${tmpdir()} (WAL, synchronous = NORMAL)`]));
  const writers = await Promise.all(VERSIONS.map(writerAt));
  const rounds: number[][] = VERSIONS.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (const at of order) {
      const batches = Array.from({ length: BATCHES_PER_ROUND }, batch);
      const start = process.hrtime.bigint();
      for (const events of batches) writers[at]?.write(events, []);
      rounds[at]?.push(Number(process.hrtime.bigint() - start) / (BATCH * BATCHES_PER_ROUND));
    }
  }
  for (const writer of writers) writer.close();
  console.log(
    `\n${ROUNDS} alternating rounds of ${BATCHES_PER_ROUND} batches of ${BATCH} events (the rollups too)`,
  );
  console.log(
    table([
      ['schema version', 'median ns/row', 'rounds ns/row'],
      ...VERSIONS.map((version, at) => [
        String(version),
        fixed(median(rounds[at] ?? []), 0),
        (rounds[at] ?? []).map((ns) => fixed(ns, 0)).join(' / '),
      ]),
    ]),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
