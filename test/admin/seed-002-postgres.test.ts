/**
 * Seed 002 for real: the published `@modelcontextprotocol/server-postgres`, run in `mode: tenant`
 * in front of the PostgreSQL at 127.0.0.1:5432. Three databases of the test's own (random names,
 * dropped afterwards): one the config's global URL points at, and one per store tenant, each
 * holding rows that name their owner. The tenants register their URLs through the admin API;
 * the store keeps them encrypted in a SQLite file; each tenant's queries reach only its own
 * database; deleting a tenant's config falls back to the global one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { DATABASE_URL } from '../store/postgres-harness.ts';
import { masterKeys } from '../store/store-harness.ts';
import { eventually, textJson } from '../support/harness.ts';
import { adminClient, platformKey } from './admin-harness.ts';

/** The published server's bin: `mcp-server-postgres <database URL>`. */
const SERVER_POSTGRES = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-postgres/dist/index.js',
);

const RUN = randomBytes(5).toString('hex');
/** Owner label → database name. */
const DATABASES = {
  global: `mcplane_t_${RUN}_global`,
  alpha: `mcplane_t_${RUN}_alpha`,
  beta: `mcplane_t_${RUN}_beta`,
} as const;

/**
 * DATABASE_URL pointed at another database. The server trusts local connections, so the
 * password is never checked; it is there because a real tenant's URL carries one, which is
 * what makes the store treat the argument as a secret (src/store/secrets/secret-names.ts).
 */
function databaseUrl(database: string, password?: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${database}`;
  if (password !== undefined) url.password = password;
  return url.toString();
}

/** A password unique to this run, so a scan for it cannot hit by accident. */
const canary = (owner: string): string => `canary${owner}${randomBytes(8).toString('hex')}`;

const admin = postgres(DATABASE_URL, { onnotice: () => {}, max: 1 });
const created: string[] = [];
const storeDir = mkdtempSync(join(tmpdir(), 'mcplane-seed002-'));
let store: Store | undefined;

beforeAll(async () => {
  for (const [owner, database] of Object.entries(DATABASES)) {
    await admin.unsafe(`CREATE DATABASE ${database}`);
    created.push(database);
    const db = postgres(databaseUrl(database), { onnotice: () => {}, max: 1 });
    try {
      await db.unsafe('CREATE TABLE notes (owner text NOT NULL, body text NOT NULL)');
      await db`INSERT INTO notes ${db([
        { owner, body: `${owner} note one` },
        { owner, body: `${owner} note two` },
      ])}`;
    } finally {
      await db.end();
    }
  }
});

afterAll(async () => {
  try {
    expect(await stopHttpGateways()).toEqual([]);
  } finally {
    await store?.close();
    rmSync(storeDir, { recursive: true, force: true });
    for (const database of created.splice(0))
      await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.end();
  }
});

type Note = { owner: string; body: string; database: string };

/** Every row any tenant's query returned, by tenant, to check afterwards that none crossed over. */
const seen: Record<string, Note[]> = { alpha: [], beta: [] };

async function notes(tenant: 'alpha' | 'beta', client: Client): Promise<Note[]> {
  const result = await client.callTool({
    name: 'postgres__query',
    arguments: { sql: 'SELECT owner, body, current_database() AS database FROM notes ORDER BY body' },
  });
  expect(result.isError).toBeFalsy();
  const rows = textJson<Note[]>(result);
  seen[tenant]?.push(...rows);
  return rows;
}

/** The owners whose rows a query returned, e.g. `['alpha']`. */
const owners = (rows: readonly Note[]): string[] => [...new Set(rows.map((row) => row.owner))];

/** Every byte the SQLite store has on disk: the database file, its WAL and shared memory. */
function storeBytes(): string {
  return readdirSync(storeDir)
    .map((name) => readFileSync(join(storeDir, name)).toString('latin1'))
    .join('\n');
}

/** Pids of live processes whose command line names this run's databases. */
function serverProcesses(): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(`mcplane_t_${RUN}_`);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe('seed 002: server-postgres per tenant, configured through the admin API', () => {
  it('each tenant queries only its own database, its URL is stored encrypted, and deleting it falls back to the global one', async () => {
    store = await openStore(`sqlite:${join(storeDir, 'mcplane.db')}`, { masterKeys: masterKeys() });
    const http = await startHttpGateway(
      {
        servers: {
          postgres: {
            command: SERVER_POSTGRES,
            args: [databaseUrl(DATABASES.global)],
            mode: 'tenant',
            pool: { min: 0, max: 1 },
            timeouts: { startup: '20s', call: '20s', shutdown: '1s' },
          },
        },
        tenants: {},
      },
      { store },
    );
    const root = adminClient(http.origin, await platformKey(store));

    // Two store tenants, each with an admin key (for its config) and a member key (for MCP).
    const tenants = {} as Record<
      'alpha' | 'beta',
      { admin: ReturnType<typeof adminClient>; client: Client; url: string; password: string }
    >;
    for (const id of ['alpha', 'beta'] as const) {
      expect((await root('POST', '/tenants', { id, name: id })).status).toBe(201);
      const adminKey = await root('POST', `/tenants/${id}/api-keys`, { name: 'admin', role: 'tenant-admin' });
      const memberKey = await root('POST', `/tenants/${id}/api-keys`, { name: 'app' });
      expect([adminKey.status, memberKey.status]).toEqual([201, 201]);
      const { client } = await connectHttpClient(http, bearer(memberKey.body.key as string));
      const password = canary(id);
      tenants[id] = {
        admin: adminClient(http.origin, adminKey.body.key as string),
        client,
        url: databaseUrl(DATABASES[id], password),
        password,
      };
    }
    const { alpha, beta } = tenants;

    // Before any tenant registers its own URL, both reach the global database.
    expect(owners(await notes('alpha', alpha.client))).toEqual(['global']);
    expect(owners(await notes('beta', beta.client))).toEqual(['global']);

    // Each tenant admin registers its own database URL; the answer shows it masked.
    for (const id of ['alpha', 'beta'] as const) {
      const { admin: api, url, password } = tenants[id];
      const stored = await api('PUT', `/tenants/${id}/servers/postgres`, { args: [url] });
      expect(stored.status).toBe(200);
      const [masked, ...more] = stored.body.args as { set?: boolean; fingerprint?: string }[];
      expect(more).toEqual([]);
      expect(masked?.set).toBe(true);
      expect(masked?.fingerprint).toMatch(/^[0-9a-f]{8}$/);
      for (const path of [
        `/tenants/${id}/servers/postgres`,
        `/tenants/${id}/export`,
        `/changes?tenant=${id}`,
      ]) {
        const body = JSON.stringify((await api('GET', path)).body);
        expect([path, body.includes(password), body.includes(DATABASES[id])]).toEqual([path, false, false]);
      }
      expect(JSON.stringify(stored.body)).not.toContain(password);
    }

    // The next calls go to a new pool per tenant, started with that tenant's own URL.
    await eventually(async () => owners(await notes('alpha', alpha.client)).join() === 'alpha');
    await eventually(async () => owners(await notes('beta', beta.client)).join() === 'beta');
    const alphaRows = await notes('alpha', alpha.client);
    expect(alphaRows).toEqual([
      { owner: 'alpha', body: 'alpha note one', database: DATABASES.alpha },
      { owner: 'alpha', body: 'alpha note two', database: DATABASES.alpha },
    ]);
    expect(owners(await notes('beta', beta.client))).toEqual(['beta']);

    // At rest the URLs are ciphertext: neither the URL, nor its password, nor even the database
    // name is anywhere in the store's files, yet the store decrypts them for spawning.
    const bytes = storeBytes();
    for (const { url, password } of [alpha, beta]) {
      expect(bytes.includes(url)).toBe(false);
      expect(bytes.includes(password)).toBe(false);
    }
    expect(bytes.includes(DATABASES.alpha) || bytes.includes(DATABASES.beta)).toBe(false);
    expect((await store.serverConfigs.resolve('alpha', 'postgres'))?.args).toEqual([{ secret: alpha.url }]);

    // Deleting alpha's config falls back to the global database; beta keeps its own.
    expect((await alpha.admin('DELETE', '/tenants/alpha/servers/postgres')).status).toBe(204);
    expect((await alpha.admin('GET', '/tenants/alpha/servers/postgres')).status).toBe(404);
    await eventually(async () => owners(await notes('alpha', alpha.client)).join() === 'global');
    expect(owners(await notes('alpha', alpha.client))).toEqual(['global']);
    expect(owners(await notes('beta', beta.client))).toEqual(['beta']);

    // Across every answer: alpha never saw beta's rows, nor beta alpha's.
    expect(owners(seen.alpha ?? []).sort()).toEqual(['alpha', 'global']);
    expect(owners(seen.beta ?? []).sort()).toEqual(['beta', 'global']);

    expect(serverProcesses().length).toBeGreaterThan(0);
    expect(await stopHttpGateways()).toEqual([]);
    // Also every process of the pools the tenants moved off (they drained): none runs any more.
    await eventually(() => serverProcesses().length === 0);
  });
});
