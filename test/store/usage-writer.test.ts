import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.ts';
import { SqliteUsageWriter } from '../../src/store/sqlite/usage-writer.ts';
import type { Store } from '../../src/store/store.ts';
import type { UsageEvent } from '../../src/store/usage-records.ts';

const DAY = { since: '2026-11-01T00:00:00.000Z', until: '2026-11-02T00:00:00.000Z' };

function event(n: number, tool = 'search'): UsageEvent {
  return {
    ts: `2026-11-01T10:00:${String(n % 60).padStart(2, '0')}.000Z`,
    tenantId: 'acme',
    apiKeyId: 'k1',
    principal: 'key:k1',
    server: 'kb',
    kind: 'tool-call',
    tool,
    latencyMs: 1.5,
    status: 'ok',
    statusCode: 200,
    bytesIn: 10,
    bytesOut: 20,
    cost: 0.5,
  };
}

describe('usage writes of a SQLite file store, on the writer thread', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    await Promise.allSettled(stores.splice(0).map((store) => store.close()));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  async function open(): Promise<{ store: Store; path: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-usage-writer-'));
    dirs.push(dir);
    const path = join(dir, 'mcplane.db');
    const store = await openStore(`sqlite:${path}`);
    stores.push(store);
    return { store, path };
  }

  it('a batch is readable, events and both rollups, as soon as record resolves', async () => {
    const { store } = await open();
    await store.usage.record(
      [event(1), event(2), event(3, 'fetch')],
      [
        {
          at: '2026-11-01T10:00:05.000Z',
          tenantId: 'acme',
          server: 'kb',
          tool: 'search',
          cpuUs: 2_000,
          wallUs: 3_000,
          cost: 0.25,
        },
      ],
    );
    expect(await store.usage.events('acme', DAY.since, DAY.until)).toHaveLength(3);
    const byTool = await store.usage.summarize('acme', { ...DAY, groupBy: 'tool' });
    expect(byTool).toEqual([
      {
        group: 'fetch',
        calls: 1,
        errors: 0,
        bytesIn: 10,
        bytesOut: 20,
        cpuSeconds: 0,
        wallSeconds: 0,
        cost: 0.5,
      },
      {
        group: 'search',
        calls: 2,
        errors: 0,
        bytesIn: 20,
        bytesOut: 40,
        cpuSeconds: 0.002,
        wallSeconds: 0.003,
        cost: 1.25,
      },
    ]);
    const hourly = await store.usage.summarize('acme', {
      since: '2026-11-01T10:00:00.000Z',
      until: '2026-11-01T11:00:00.000Z',
      groupBy: 'server',
    });
    expect(hourly).toEqual([expect.objectContaining({ group: 'kb', calls: 3, cpuSeconds: 0.002 })]);
  });

  it('a bad record is refused before anything is written', async () => {
    const { store } = await open();
    await expect(store.usage.record([event(1), { ...event(2), bytesIn: -1 }])).rejects.toThrow(
      /bytesIn must be a non-negative number/,
    );
    expect(await store.usage.events('acme', DAY.since, DAY.until)).toEqual([]);
  });

  it('a batch the thread cannot write is refused whole (no event without its rollup), and the next one after the fault is written', async () => {
    const { store, path } = await open();
    await store.usage.record([event(1)]);
    const raw = new DatabaseSync(path);
    try {
      raw.exec('ALTER TABLE usage_daily RENAME TO usage_daily_away');
      await expect(store.usage.record([event(2), event(3)])).rejects.toThrow(/usage_daily/);
      expect(await store.usage.events('acme', DAY.since, DAY.until)).toHaveLength(1);
      raw.exec('ALTER TABLE usage_daily_away RENAME TO usage_daily');
    } finally {
      raw.close();
    }
    await store.usage.record([event(2), event(3)]);
    expect(await store.usage.events('acme', DAY.since, DAY.until)).toHaveLength(3);
    const [day] = await store.usage.summarize('acme', { ...DAY, groupBy: 'day' });
    expect(day).toEqual(expect.objectContaining({ group: '2026-11-01', calls: 3 }));
  });

  it('close waits for the batches still out, so a graceful stop loses none; after close a batch is refused', async () => {
    const { store, path } = await open();
    const writes = Array.from({ length: 5 }, (_, batch) =>
      store.usage.record(Array.from({ length: 200 }, (__, n) => event(batch * 200 + n))),
    );
    await store.close();
    await Promise.all(writes);
    await expect(store.usage.record([event(1)])).rejects.toThrow(/closed/);
    const reopened = await openStore(`sqlite:${path}`);
    stores.push(reopened);
    const [day] = await reopened.usage.summarize('acme', { ...DAY, groupBy: 'day' });
    expect(day).toEqual(expect.objectContaining({ calls: 1_000 }));
    expect(await reopened.usage.events('acme', DAY.since, DAY.until, 10_000)).toHaveLength(1_000);
  });

  it('a file the thread cannot open fails each batch with the reason, and the thread keeps answering', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-usage-writer-'));
    dirs.push(dir);
    // A directory cannot be made under a plain file, whoever runs the test.
    writeFileSync(join(dir, 'not-a-dir'), '');
    const writer = new SqliteUsageWriter(join(dir, 'not-a-dir', 'mcplane.db'), 'sqlite:test');
    try {
      await expect(writer.write([event(1)], [])).rejects.toThrow(
        /cannot open the SQLite store at sqlite:test/,
      );
      await expect(writer.write([event(2)], [])).rejects.toThrow(/cannot open the SQLite store/);
    } finally {
      await writer.close();
    }
    await expect(writer.write([event(3)], [])).rejects.toThrow(/closed/);
  });

  it('a batch that cannot be copied to the thread fails alone, and the next one is written', async () => {
    const { store } = await open();
    const odd = { ...event(1), tool: 'search', status: 'ok', extra: () => 'not data' } as UsageEvent;
    await expect(store.usage.record([odd])).rejects.toThrow(/could not be cloned/);
    await store.usage.record([event(2)]);
    expect(await store.usage.events('acme', DAY.since, DAY.until)).toHaveLength(1);
  });
});
