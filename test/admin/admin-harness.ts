/**
 * The admin API over real HTTP, on a real store of either backend: SQLite in a temporary file,
 * or PostgreSQL in a schema of its own (dropped afterwards, with the run's role).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from '../../src/identity/api-key-format.ts';
import { hashApiKey } from '../../src/identity/api-key-hash.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { startPostgresRun, type PostgresRun } from '../store/postgres-harness.ts';
import { masterKeys } from '../store/store-harness.ts';

export type Backend = {
  readonly name: 'sqlite' | 'postgres';
  /** A fresh, empty store with a master key; closed and removed by `cleanup`. */
  open(): Promise<Store>;
  cleanup(): Promise<void>;
};

export function sqliteBackend(): Backend {
  const stores: Store[] = [];
  return {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-admin-'));
      const store = await openStore(`sqlite:${join(dir, 'mcplane.db')}`, { masterKeys: masterKeys() });
      stores.push(store);
      return store;
    },
    async cleanup() {
      await Promise.allSettled(stores.splice(0).map((store) => store.close()));
    },
  };
}

export function postgresBackend(): Backend {
  let run: PostgresRun | undefined;
  const cleanups: (() => Promise<void>)[] = [];
  return {
    name: 'postgres',
    async open() {
      run ??= await startPostgresRun();
      const harness = await run.harness();
      cleanups.push(() => harness.cleanup());
      return harness.open({ masterKeys: masterKeys(), pollIntervalMs: 100 });
    },
    async cleanup() {
      for (const cleanup of cleanups.splice(0)) await cleanup();
      await run?.end();
      run = undefined;
    },
  };
}

/** A platform admin key put straight into the store, as `mcplane admin create-key` does. */
export async function platformKey(store: Store, pepper?: string): Promise<string> {
  const { key, id } = generateApiKey();
  await store.apiKeys.create(
    null,
    { id, hash: hashApiKey(key, pepper), name: 'root', role: 'platform-admin' },
    { actor: 'test' },
  );
  return key;
}

/** A small client for the admin API: JSON in, status and JSON (or problem) out. */
export function adminClient(origin: string, key: string | undefined) {
  return async (
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown>; type: string | null }> => {
    const headers: Record<string, string> = {};
    if (key !== undefined) headers.authorization = `Bearer ${key}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(new URL(`/admin/v1${path}`, origin), {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
      type: response.headers.get('content-type'),
    };
  };
}
