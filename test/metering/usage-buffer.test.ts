import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog } from '../support/captured-log.ts';
import { UsageBuffer } from '../../src/metering/usage-buffer.ts';
import type { CostCharge, UsageEvent } from '../../src/store/usage-records.ts';

function event(n: number): UsageEvent {
  return {
    ts: new Date().toISOString(),
    tenantId: 'acme',
    principal: 'local',
    kind: 'tool-call',
    tool: `t${n}`,
    latencyMs: 1,
    status: 'ok',
    statusCode: 200,
    bytesIn: 1,
    bytesOut: 1,
    cost: 0,
  };
}

const buffers: UsageBuffer[] = [];
afterEach(async () => {
  for (const buffer of buffers.splice(0)) await buffer.close();
});

function store() {
  const batches: { events: readonly UsageEvent[]; charges: readonly CostCharge[] }[] = [];
  let down = false;
  return {
    batches,
    setDown(value: boolean) {
      down = value;
    },
    write: async (events: readonly UsageEvent[], charges: readonly CostCharge[]) => {
      if (down) throw new Error('store down');
      batches.push({ events, charges });
    },
  };
}

describe('the usage buffer', () => {
  it('writes a full batch at once, and the rest at the next interval', async () => {
    const target = store();
    const { log } = capturedLog();
    const buffer = new UsageBuffer(target.write, { batchSize: 3, flushInterval: 100, bufferLimit: 100 }, log);
    buffers.push(buffer);
    for (let n = 0; n < 4; n++) buffer.add(event(n));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(target.batches.map((batch) => batch.events.length)).toEqual([3]);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(target.batches.map((batch) => batch.events.length)).toEqual([3, 1]);
    expect(buffer.stats()).toMatchObject({ buffered: 0, written: 4, dropped: 0 });
  });

  it('while the store is down it keeps at most bufferLimit records, counts and logs the rest as dropped, and writes what it kept once the store is back', async () => {
    const target = store();
    target.setDown(true);
    const captured = capturedLog();
    const { log } = captured;
    const buffer = new UsageBuffer(
      target.write,
      { batchSize: 5, flushInterval: 60_000, bufferLimit: 10 },
      log,
    );
    buffers.push(buffer);
    for (let n = 0; n < 25; n++) buffer.add(event(n));
    await buffer.flush();
    expect(buffer.stats()).toMatchObject({ buffered: 10, dropped: 15 });
    expect(buffer.stats().failedWrites).toBeGreaterThan(0);
    expect(captured.lines().some((line) => /usage records dropped/.test(String(line.msg)))).toBe(true);
    target.setDown(false);
    await buffer.flush();
    await buffer.flush();
    expect(buffer.stats()).toMatchObject({ buffered: 0, written: 10, dropped: 15 });
    // Each kept record is written once.
    const written = target.batches.flatMap((batch) => batch.events.map((e) => e.tool));
    expect(new Set(written).size).toBe(10);
  });

  it('close writes everything queued; what a down store cannot take at close is counted as dropped', async () => {
    const target = store();
    const { log } = capturedLog();
    const buffer = new UsageBuffer(
      target.write,
      { batchSize: 2, flushInterval: 60_000, bufferLimit: 100 },
      log,
    );
    buffer.add(event(1));
    buffer.charge([
      { at: new Date().toISOString(), tenantId: 'acme', server: 'kb', cpuUs: 5, wallUs: 5, cost: 0 },
    ]);
    await buffer.close();
    expect(target.batches.flatMap((batch) => [...batch.events, ...batch.charges])).toHaveLength(2);

    const down = store();
    down.setDown(true);
    const lost = new UsageBuffer(down.write, { batchSize: 2, flushInterval: 60_000, bufferLimit: 100 }, log);
    lost.add(event(1));
    await lost.close();
    expect(lost.stats()).toMatchObject({ buffered: 0, dropped: 1 });
  });
});
