/**
 * The SQLite backup and restore of docs/operations.md, done as written: an online backup while
 * the store is open (VACUUM INTO with the Node.js of the image, and sqlite3's .backup where the
 * tool is installed) restores every change, where a copy of the .db file alone does not.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';

const ACTOR = { actor: 'cli' };
const sqlite3 = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' }).status === 0;

const stores: Store[] = [];

afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function open(path: string): Promise<Store> {
  const store = await openStore(`sqlite:${path}`);
  stores.push(store);
  return store;
}

/** A live store (kept open, as by a running gateway) with two tenants, the last just written. */
async function liveStore(): Promise<{ dir: string; path: string; store: Store }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcplane-backup-'));
  const path = join(dir, 'mcplane.db');
  const store = await open(path);
  await store.tenants.create({ id: 'acme', name: 'Acme' }, ACTOR);
  await store.tenants.create({ id: 'globex', name: 'Globex', tier: 'pro' }, ACTOR);
  return { dir, path, store };
}

/** Restores as the runbook says: nothing open, old files moved aside (no stale -wal), copy in. */
async function restore(backup: string, into: string): Promise<Store> {
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${into}${suffix}`, { force: true });
  copyFileSync(backup, into);
  return open(into);
}

const ids = async (store: Store): Promise<string[]> =>
  (await store.tenants.list()).map((tenant) => tenant.id).sort();

describe('backing up and restoring the SQLite store', () => {
  it("an online backup with the image's Node.js (VACUUM INTO) while the store is open restores every tenant", async () => {
    const { dir, path, store } = await liveStore();
    const backup = join(dir, 'backup.db');
    execFileSync(process.execPath, [
      '-e',
      `new (require('node:sqlite').DatabaseSync)(${JSON.stringify(path)}).exec(${JSON.stringify(`VACUUM INTO '${backup}'`)})`,
    ]);
    await store.close();
    stores.splice(stores.indexOf(store), 1);
    const restored = await restore(backup, join(dir, 'restored.db'));
    expect(await ids(restored)).toEqual(['acme', 'globex']);
    expect((await restored.tenants.get('globex'))?.tier).toBe('pro');
  });

  it.skipIf(!sqlite3)(
    "an online backup with sqlite3's .backup while the store is open restores every tenant",
    async () => {
      const { dir, path } = await liveStore();
      const backup = join(dir, 'backup.db');
      execFileSync('sqlite3', [path, `.backup '${backup}'`]);
      const restored = await restore(backup, join(dir, 'restored.db'));
      expect(await ids(restored)).toEqual(['acme', 'globex']);
    },
  );

  it('a copy of the .db file alone, taken while the store is open, misses what is still in the WAL', async () => {
    const { dir, path } = await liveStore();
    expect(existsSync(`${path}-wal`)).toBe(true);
    const copy = join(dir, 'copy.db');
    copyFileSync(path, copy);
    const restored = await restore(copy, join(dir, 'restored.db'));
    expect(await ids(restored)).not.toEqual(['acme', 'globex']);
  });
});
