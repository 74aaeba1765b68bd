/** RateLeases against a counting store in memory (a unit: the Redis side is leases.test.ts). */
import { describe, expect, it } from 'vitest';
import { leaseSize, MAX_LEASE, RateLeases, type LeaseStore } from '../../src/limits/rate-leases.ts';
import type { RateCheck } from '../../src/limits/rate-counters.ts';

const check: RateCheck = { scope: 'key', subject: 'acme:key:k1', window: 'perMinute', points: 10 };

/** A window of `check.points`, counted like Redis: every take counts, even past the budget. */
function store(options: { fail?: () => boolean } = {}): LeaseStore & { count: number; takes: number } {
  const state = {
    count: 0,
    takes: 0,
    async take(_check: RateCheck, points: number) {
      state.takes += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (options.fail?.()) throw new Error('Redis is down');
      state.count += points;
      return { consumed: state.count, msBeforeNext: 60_000 };
    },
    async giveBack(_check: RateCheck, points: number) {
      state.count -= points;
    },
  };
  return state;
}

describe('rate leases', () => {
  it('sizes a block as a share of the budget, at least 1 and at most MAX_LEASE', () => {
    expect(leaseSize(60, 0.01)).toBe(1);
    expect(leaseSize(1_000, 0.01)).toBe(10);
    expect(leaseSize(10_000_000, 0.01)).toBe(MAX_LEASE);
    expect(leaseSize(1_000, 0)).toBe(1);
  });

  it('spends a block from memory, takes a partial block at the end of the budget and then refuses', async () => {
    const counts = store();
    const leases = new RateLeases(counts);
    const outcomes: (number | undefined)[] = [];
    for (let index = 0; index < 12; index++) outcomes.push(await leases.spend('id', check, 4));
    // Blocks of 4, 4 and the 2 left of the budget: ten calls pass, in three requests.
    expect(outcomes.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => undefined));
    expect(outcomes[10]).toBeGreaterThan(59_000);
    expect(outcomes[11]).toBeGreaterThan(59_000);
    // What was taken past the budget was given back.
    expect(counts.count).toBe(10);
  });

  it('concurrent calls that find the block spent wait for one request', async () => {
    const counts = store();
    const leases = new RateLeases(counts);
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => leases.spend('id', check, 4)));
    expect(outcomes).toEqual([undefined, undefined, undefined, undefined]);
    expect(counts.takes).toBe(1);
    expect(counts.count).toBe(4);
  });

  it('a failed request rejects the call and leaves nothing held; the next call asks again', async () => {
    let down = true;
    const counts = store({ fail: () => down });
    const leases = new RateLeases(counts);
    await expect(leases.spend('id', check, 4)).rejects.toThrow('Redis is down');
    down = false;
    expect(await leases.spend('id', check, 4)).toBeUndefined();
    expect(counts.count).toBe(4);
  });

  it('release gives the unspent points back', async () => {
    const counts = store();
    const leases = new RateLeases(counts);
    await leases.spend('id', check, 4);
    await leases.release();
    expect(counts.count).toBe(1);
  });
});
