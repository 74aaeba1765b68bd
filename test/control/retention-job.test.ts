import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RetentionJob, type RetentionSettings } from '../../src/control/retention-job.ts';
import { silentLogger } from '../../src/log.ts';
import { openStore } from '../../src/store/open-store.ts';
import type { Store } from '../../src/store/store.ts';
import { ACTOR, testClock } from '../store/store-harness.ts';
import { eventually } from '../support/harness.ts';
import { killServes, runServe, writeServeConfig } from '../support/serve-cli.ts';

const DAY = 86_400_000;
const SETTINGS: RetentionSettings = {
  every: 3_600_000,
  tiers: { free: 7 * DAY, pro: 30 * DAY },
  default: 90 * DAY,
};

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  killServes();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A real SQLite store in a temporary file, on a clock the test moves. */
async function openTestStore(): Promise<{ store: Store; clock: ReturnType<typeof testClock> }> {
  const dir = mkdtempSync(join(tmpdir(), 'mcplane-retention-'));
  const clock = testClock();
  const store = await openStore(`sqlite:${join(dir, 'mcplane.db')}`, { now: clock.now });
  cleanups.push(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, clock };
}

/**
 * Tenants free, pro and plain (tier standard, not listed), each with change-log entries made at
 * day 0 (the tenant's creation), 40, 80 and 95; the platform too (an entry at day 0 of its own). Returns the clock at day 100.
 */
async function populated(): Promise<{ store: Store; clock: ReturnType<typeof testClock> }> {
  const { store, clock } = await openTestStore();
  for (const [id, tier] of [
    ['free', 'free'],
    ['pro', 'pro'],
    ['plain', 'standard'],
  ] as const)
    await store.tenants.create({ id, name: id, tier }, ACTOR);
  await store.changes.record(null, { action: 'test.made', target: 'day:0' }, ACTOR);
  let day = 0;
  for (const at of [40, 80, 95]) {
    clock.advance((at - day) * 86_400);
    day = at;
    for (const tenant of ['free', 'pro', 'plain', null])
      await store.changes.record(tenant, { action: 'test.made', target: `day:${at}` }, ACTOR);
  }
  clock.advance((100 - day) * 86_400);
  return { store, clock };
}

/** The days of the entries left for a tenant (`null`: the platform), creation as day 0. */
async function daysLeft(store: Store, tenant: string | null): Promise<number[]> {
  const entries = await store.changes.list(tenant);
  return entries.map((entry) => (entry.action === 'tenant.create' ? 0 : Number(entry.target.slice(4))));
}

function job(store: Store, settings: () => RetentionSettings = () => SETTINGS, extra = {}): RetentionJob {
  const retention = new RetentionJob({ store, settings, log: silentLogger(), ...extra });
  cleanups.push(() => retention.stop());
  return retention;
}

describe('retention job', () => {
  it("deletes each tenant's records older than its tier's retention, and the platform's older than the default", async () => {
    const { store, clock } = await populated();
    expect(await daysLeft(store, 'free')).toEqual([0, 40, 80, 95]);
    expect(await daysLeft(store, null)).toEqual([0, 40, 80, 95]);

    const report = await job(store).runOnce(clock.now());

    expect(await daysLeft(store, 'free')).toEqual([95]); // 7 days
    expect(await daysLeft(store, 'pro')).toEqual([80, 95]); // 30 days
    expect(await daysLeft(store, 'plain')).toEqual([40, 80, 95]); // the default, 90 days
    expect(await daysLeft(store, null)).toEqual([40, 80, 95]);
    expect(report.deleted).toBe(3 + 2 + 1 + 1);
    expect(report.failed).toBe(0);
    expect(report.cuts).toContainEqual({
      tenantId: 'free',
      table: 'admin_changes',
      cutoff: new Date(clock.now().getTime() - 7 * DAY).toISOString(),
      deleted: 3,
    });
    // Every table the store retains, for every tenant and the platform.
    expect(report.cuts).toHaveLength(store.retention.tables.length * 4);
  });

  it('cuts the tenants of the config file by their own tier', async () => {
    const { store, clock } = await populated();
    for (const at of [1, 2])
      await store.changes.record('from-config', { action: 'test.made', target: `day:${at}` }, ACTOR);
    const retention = job(store, () => SETTINGS, {
      configTenants: () => [{ id: 'from-config', tier: 'free' }],
    });
    clock.advance(8 * 86_400);
    await retention.runOnce(clock.now());
    expect(await daysLeft(store, 'from-config')).toEqual([]);
  });

  it('a changed setting applies at the next run', async () => {
    const { store, clock } = await populated();
    let settings: RetentionSettings = { ...SETTINGS, default: 365 * DAY };
    const retention = job(store, () => settings);
    await retention.runOnce(clock.now());
    expect(await daysLeft(store, 'plain')).toEqual([0, 40, 80, 95]);
    settings = { ...settings, tiers: { ...settings.tiers, standard: 10 * DAY } };
    await retention.runOnce(clock.now());
    expect(await daysLeft(store, 'plain')).toEqual([95]);
    expect(await daysLeft(store, null)).toEqual([0, 40, 80, 95]);
  });

  it('a failed delete for one tenant is logged and counted, and the others are still cut', async () => {
    const { store, clock } = await populated();
    const failing: Store = {
      ...store,
      retention: {
        tables: store.retention.tables,
        deleteBefore: (tenant, table, cutoff) =>
          tenant === 'free'
            ? Promise.reject(new Error('disk on fire'))
            : store.retention.deleteBefore(tenant, table, cutoff),
      },
    };
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(line) });
    const report = await job(failing, () => SETTINGS, { log }).runOnce(clock.now());
    // One failure per retained table of the tenant (the change log and the usage tables).
    expect(report.failed).toBe(store.retention.tables.length);
    expect(await daysLeft(store, 'free')).toEqual([0, 40, 80, 95]);
    expect(await daysLeft(store, 'pro')).toEqual([80, 95]);
    expect(lines.join('')).toContain('disk on fire');
    expect(lines.join('')).toContain('"tenant":"free"');
  });

  it('started, it runs at once and then every `every` after each run, and after stop() no more', async () => {
    const { store, clock } = await openTestStore();
    await store.tenants.create({ id: 'free', name: 'free', tier: 'free' }, ACTOR);
    let runs = 0;
    const counting: Store = {
      ...store,
      tenants: {
        ...store.tenants,
        list: () => {
          runs += 1;
          return store.tenants.list();
        },
      },
    };
    // Scheduled runs read the job's clock: 8 days on, the creation entry is past 7 days.
    clock.advance(8 * 86_400);
    const retention = job(counting, () => ({ ...SETTINGS, every: 20 }), { now: clock.now });
    retention.start();
    await eventually(async () => (await daysLeft(store, 'free')).length === 0);
    await eventually(() => runs >= 3);
    await retention.stop();
    const stoppedAt = runs;
    await store.changes.record('free', { action: 'test.made', target: 'day:0' }, ACTOR);
    clock.advance(8 * 86_400);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(runs).toBe(stoppedAt);
    expect(await daysLeft(store, 'free')).toEqual([0]);
  });

  it('stop() resolves only once the run in progress has finished, so the store can close after it', async () => {
    const { store, clock } = await populated();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered = false;
    const slow: Store = {
      ...store,
      retention: {
        tables: store.retention.tables,
        deleteBefore: async (tenant, table, cutoff) => {
          entered = true;
          await gate;
          return store.retention.deleteBefore(tenant, table, cutoff);
        },
      },
    };
    const retention = job(slow, () => SETTINGS, { now: clock.now });
    retention.start();
    await eventually(() => entered);
    let stopped = false;
    const stopping = retention.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(await daysLeft(store, 'free')).toEqual([95]);
  });
});

describe('mcplane serve', () => {
  it("runs the retention job on its store: at start, old records go by the config's tiers and recent ones stay", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-retention-serve-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const url = `sqlite:${join(dir, 'mcplane.db')}`;
    const past = await openStore(url, { now: () => new Date(Date.now() - 10 * DAY) });
    await past.tenants.create({ id: 'free', name: 'Free', tier: 'free' }, ACTOR);
    await past.tenants.create({ id: 'gold', name: 'Gold', tier: 'gold' }, ACTOR);
    await past.changes.record(null, { action: 'test.made', target: 'day:-10' }, ACTOR);
    await past.close();
    const store = await openStore(url);
    cleanups.push(() => store.close());
    await store.changes.record('free', { action: 'test.made', target: 'day:0' }, ACTOR);

    const config = writeServeConfig(
      ['gateway:', '  retention: { tiers: { free: 7d, gold: 30d }, default: 5d }', 'servers: {}', ''].join(
        '\n',
      ),
    );
    const serve = runServe(['--config', config, '--port', '0'], { MCPLANE_STORE_URL: url });
    await eventually(() => serve.stdout().includes('mcplane is serving MCP'));
    await eventually(async () => (await store.changes.list('free')).length === 1);
    expect((await store.changes.list('free')).map((entry) => entry.target)).toEqual(['day:0']);
    expect((await store.changes.list('gold')).map((entry) => entry.action)).toEqual(['tenant.create']);
    expect(await store.changes.list(null)).toEqual([]);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
  });
});
