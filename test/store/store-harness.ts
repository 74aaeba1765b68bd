/**
 * What the shared store suite needs from a backend: a fresh database per test, a way to open
 * stores on it, and raw access behind the store's back (the catalog, every row, the bytes at
 * rest) so tests can check what is really stored.
 */
import { expect } from 'vitest';
import { GatewayError, type ErrorCode } from '../../src/errors.ts';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import type { OpenStoreOptions } from '../../src/store/open-store.ts';
import {
  generateMasterKey,
  parseMasterKey,
  type MasterKeyRing,
} from '../../src/store/secrets/master-keys.ts';
import type { Database } from '../../src/store/sql/database.ts';
import type { Page, PageRequest, Store } from '../../src/store/store.ts';

export type TableShape = { readonly name: string; readonly columns: readonly string[] };

export type StoreHarness = {
  readonly backend: 'sqlite' | 'postgres';
  /** The store URL of this test's database (what `gateway.store.url` would say). */
  readonly url: string;
  /** The backend driver on this test's database, below the Store; closed by `cleanup`. */
  database(): Promise<Database>;
  /** Opens another Store on this test's database; closed by `cleanup`. */
  open(options?: OpenStoreOptions): Promise<Store>;
  /** Every table of the store, from the database catalog, not from the store's own lists. */
  tables(): Promise<TableShape[]>;
  /** Every row of a table, read raw (no tenant scope, no row-level security). */
  rows(table: string): Promise<Record<string, unknown>[]>;
  /** Raw SQL with `$1` parameters, bypassing the store, for tampering and setup. */
  exec(sql: string, params?: readonly (string | number | null)[]): Promise<void>;
  /** The database as stored on disk (SQLite files) or dumped (pg_dump); undefined if unavailable. */
  atRest(): Promise<{ bytes: Buffer; source: string } | undefined>;
  cleanup(): Promise<void>;
};

export type HarnessFactory = () => Promise<StoreHarness>;

export const ACTOR = { actor: 'key:test-admin' } as const;

/** A controllable clock for expiry and grace. */
export function testClock(start = '2026-11-01T00:00:00.000Z') {
  let at = Date.parse(start);
  return {
    now: () => new Date(at),
    advance(seconds: number) {
      at += seconds * 1000;
    },
    iso: () => new Date(at).toISOString(),
  };
}

export function masterKeys(
  previous: readonly string[] = [],
  current = generateMasterKey(),
): MasterKeyRing & { encoded: string } {
  return {
    encoded: current,
    current: parseMasterKey(current, 'test key'),
    previous: previous.map((key) => parseMasterKey(key, 'previous test key')),
  };
}

export function newKeyMaterial() {
  const { key, id } = generateApiKey();
  return { key, id, hash: hashApiKey(key, 'p'.repeat(32)) };
}

/** The GatewayError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function refusal(promise: Promise<unknown>, code?: ErrorCode): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(GatewayError);
    if (code !== undefined) expect((error as GatewayError).code).toBe(code);
    return error as GatewayError;
  }
  throw new Error(`expected a refusal${code === undefined ? '' : ` with ${code}`}`);
}

/** A unique, greppable tenant id: raw scans for it cannot hit by accident. */
export function tenantId(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}

/** Whether any value of any raw row mentions `needle`. */
export function mentions(rows: readonly Record<string, unknown>[], needle: string): boolean {
  return rows.some((row) =>
    JSON.stringify(row, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)).includes(needle),
  );
}

/**
 * Every page of a paged list, `limit` items a page, following `next` until the last page (or
 * `maxPages`, so a cursor that never ends fails the test rather than hanging it).
 */
export async function pagesOf<T>(
  read: (request: PageRequest) => Promise<Page<T>>,
  { limit = 2, maxPages = 10 }: { limit?: number; maxPages?: number } = {},
): Promise<T[][]> {
  const pages: T[][] = [];
  let after: string | undefined;
  do {
    const page = await read({ limit, ...(after === undefined ? {} : { after }) });
    pages.push([...page.items]);
    after = page.next;
  } while (after !== undefined && pages.length < maxPages);
  return pages;
}
