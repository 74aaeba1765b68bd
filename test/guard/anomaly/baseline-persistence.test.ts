import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.ts';
import { AnomalyDetector } from '../../../src/guard/anomaly/anomaly-detector.ts';
import { BaselinePersistence } from '../../../src/guard/anomaly/baseline-persistence.ts';
import { silentLogger } from '../../../src/log.ts';
import type { BaselineRecord, StoredBaseline } from '../../../src/store/records.ts';
import type { Baselines } from '../../../src/store/store.ts';
import { call, steppedClock, usualCall } from './history.ts';

/** An in-memory stand-in for the store's baselines group that can be told to fail. */
function memoryBaselines() {
  const rows = new Map<string, StoredBaseline>();
  const state = { failing: false, saves: 0 };
  const baselines: Baselines = {
    async load() {
      return [...rows.values()];
    },
    async save(batch: readonly BaselineRecord[]) {
      state.saves += 1;
      if (state.failing) throw new Error('disk full');
      // As the real store: a principal it cannot take refuses the whole batch.
      if (batch.some((row) => row.principal.length > 300))
        throw new GatewayError('INVALID_PARAMS', 'principal');
      for (const row of batch) {
        rows.set(`${row.tenantId} ${row.principal}`, { ...row, updatedAt: new Date().toISOString() });
      }
    },
  };
  return { baselines, rows, state };
}

const alice = { tenantId: 'acme', principal: 'key:alice' };

describe('saving baselines', () => {
  it('a failed save is retried with the next batch, and close saves what is left', async () => {
    const clock = steppedClock();
    const detector = new AnomalyDetector({ warmup: 5, maxPrincipals: 10, now: clock.now });
    const memory = memoryBaselines();
    const persistence = new BaselinePersistence(detector, memory.baselines, silentLogger(), 3_600_000);
    await persistence.start();
    call(detector, alice, usualCall(1));
    memory.state.failing = true;
    await persistence.save();
    expect(memory.rows.size).toBe(0);
    memory.state.failing = false;
    await persistence.save();
    expect([...memory.rows.keys()].sort()).toEqual(['acme *', 'acme key:alice']);
    await persistence.save();
    expect(memory.state.saves).toBe(2);
    call(detector, alice, usualCall(2));
    await persistence.close();
    expect(memory.rows.get('acme key:alice')?.baseline).toMatchObject({ calls: 2 });
  });

  it('start loads every saved baseline into the detector', async () => {
    const memory = memoryBaselines();
    const first = new AnomalyDetector({ warmup: 5, maxPrincipals: 10 });
    for (let n = 0; n < 7; n++) call(first, alice, usualCall(n));
    await memory.baselines.save(first.takeDirty());
    const second = new AnomalyDetector({ warmup: 5, maxPrincipals: 10 });
    const persistence = new BaselinePersistence(second, memory.baselines, silentLogger());
    await persistence.start();
    await persistence.close();
    expect(second.baseline('acme', 'key:alice')?.calls).toBe(7);
  });

  it('a baseline the store refuses does not hold back the others, and is not retried', async () => {
    const detector = new AnomalyDetector({ warmup: 5, maxPrincipals: 10 });
    const memory = memoryBaselines();
    const persistence = new BaselinePersistence(detector, memory.baselines, silentLogger(), 3_600_000);
    await persistence.start();
    call(detector, { tenantId: 'acme', principal: `jwt:${'x'.repeat(400)}` }, usualCall(1));
    call(detector, alice, usualCall(1));
    await persistence.save();
    expect([...memory.rows.keys()].sort()).toEqual(['acme *', 'acme key:alice']);
    const saves = memory.state.saves;
    await persistence.close();
    expect(memory.state.saves).toBe(saves);
  });
});
