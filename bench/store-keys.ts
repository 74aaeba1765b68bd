/**
 * The store's side of authentication with many keys (`node bench/store-keys.ts`): with 10,000
 * API keys stored, how long one `apiKeys.find(id)` takes, how long loading them all for a cache
 * takes (`listCredentials`), and what one `version()` poll costs. SQLite always; PostgreSQL when
 * DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test) answers, in a throwaway schema.
 * Prints numbers, asserts nothing. The per-request figure the gateway must meet is for its
 * in-memory cache in front of this; these numbers are what a cache miss and a refresh cost.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { generateApiKey } from '../src/identity/api-key-format.ts';
import { hashApiKey } from '../src/identity/api-key-hash.ts';
import { openStore } from '../src/store/open-store.ts';
import type { Store } from '../src/store/store.ts';
import { LatencySamples, micros, millis, since } from './lib/stats.ts';

const KEYS = 10_000;
const TENANTS = 100;
const LOOKUPS = 2_000;
const ACTOR = { actor: 'bench' };

async function seed(store: Store): Promise<string[]> {
  const ids: string[] = [];
  for (let t = 0; t < TENANTS; t++) await store.tenants.create({ id: `t${t}`, name: `Tenant ${t}` }, ACTOR);
  for (let k = 0; k < KEYS; k++) {
    const { key, id } = generateApiKey();
    await store.apiKeys.create(
      `t${k % TENANTS}`,
      { id, hash: hashApiKey(key, 'p'.repeat(32)), name: 'k', role: 'member' },
      ACTOR,
    );
    ids.push(id);
  }
  return ids;
}

async function measure(label: string, store: Store): Promise<void> {
  const seedStart = process.hrtime.bigint();
  const ids = await seed(store);
  const seeded = since(seedStart);
  const finds = new LatencySamples();
  for (let i = 0; i < LOOKUPS; i++) {
    const start = process.hrtime.bigint();
    await store.apiKeys.find(ids[(i * 7919) % ids.length] as string);
    finds.add(since(start));
  }
  const polls = new LatencySamples();
  for (let i = 0; i < 200; i++) {
    const start = process.hrtime.bigint();
    await store.version();
    polls.add(since(start));
  }
  const listStart = process.hrtime.bigint();
  const all = await store.apiKeys.listCredentials();
  const listed = since(listStart);
  const [p50, p99] = finds.percentiles(50, 99);
  const [v50] = polls.percentiles(50);
  console.log(
    `${label}: seed ${KEYS} keys ${millis(seeded)} ms | find p50 ${micros(p50 ?? NaN)} µs p99 ${micros(p99 ?? NaN)} µs | ` +
      `listCredentials (${all.length}) ${millis(listed)} ms | version() p50 ${micros(v50 ?? NaN)} µs`,
  );
}

async function sqlite(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mcplane-bench-'));
  const store = await openStore(`sqlite:${join(dir, 'bench.db')}`);
  try {
    await measure('sqlite (file, WAL)', store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function pg(): Promise<void> {
  const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = postgres(url, { onnotice: () => {}, max: 1, connect_timeout: 3 });
  const schema = `mcplane_bench_${randomBytes(4).toString('hex')}`;
  try {
    await admin`SELECT 1`;
  } catch {
    console.log('postgres: not reachable, skipped');
    await admin.end();
    return;
  }
  const store = await openStore(url, { schema });
  try {
    await measure('postgres (localhost)', store);
  } finally {
    await store.close();
    await admin.unsafe(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}

await sqlite();
await pg();
