/** The (server, tenant) breakers as a unit: what counts, bounds, and the pool's backoff clock. */
import { afterEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.ts';
import { BreakerBoard } from '../../src/resilience/breakers.ts';
import { RetryBudget, fullJitterDelay } from '../../src/resilience/retry-budget.ts';
import { StaleCache } from '../../src/resilience/stale-cache.ts';
import { RemoteError } from '../../src/upstream/session-link.ts';

const SETTINGS = {
  enabled: true,
  window: 10_000,
  volumeThreshold: 2,
  errorThresholdPercentage: 50,
  resetTimeout: 1_000,
};
const boards: BreakerBoard[] = [];
afterEach(() => {
  for (const board of boards.splice(0)) board.close();
});

function board(options: ConstructorParameters<typeof BreakerBoard>[0] = {}): BreakerBoard {
  const made = new BreakerBoard(options);
  boards.push(made);
  return made;
}

const fail = (code: 'UPSTREAM_EXITED' | 'UNKNOWN_TOOL') => async () => {
  throw new GatewayError(code);
};

describe('breaker board', () => {
  it('counts only gateway-side failures: upstream errors and other refusals leave it closed', async () => {
    const breakers = board();
    for (let call = 0; call < 10; call++) {
      await expect(
        breakers.run(
          's',
          't',
          SETTINGS,
          () => undefined,
          async () => {
            throw new RemoteError({ code: -32602, message: 'bad' });
          },
        ),
      ).rejects.toBeInstanceOf(RemoteError);
      await expect(breakers.run('s', 't', SETTINGS, () => undefined, fail('UNKNOWN_TOOL'))).rejects.toThrow();
    }
    expect(breakers.stateOf('s', 't')).toBe('closed');
    // The same number of gateway-side failures opens a breaker (another tenant's, fresh).
    for (let call = 0; call < 2; call++) {
      await expect(
        breakers.run('s', 'u', SETTINGS, () => undefined, fail('UPSTREAM_EXITED')),
      ).rejects.toThrow();
    }
    expect(breakers.stateOf('s', 'u')).toBe('open');
    expect(breakers.stateOf('s', 't')).toBe('closed');
  });

  it('stays open at least until the pool’s next start attempt', async () => {
    const breakers = board();
    const nextStartAt = Date.now() + 20_000;
    const backoff = () => ({ failures: 8, error: new GatewayError('UPSTREAM_UNAVAILABLE'), nextStartAt });
    for (let call = 0; call < 2; call++) {
      await expect(breakers.run('s', 't', SETTINGS, backoff, fail('UPSTREAM_EXITED'))).rejects.toThrow();
    }
    const [view] = breakers.viewsOf('s');
    expect(view?.state).toBe('open');
    expect(Date.parse(String(view?.retryAt))).toBeGreaterThanOrEqual(nextStartAt - 5);
    const refused = await breakers
      .run('s', 't', SETTINGS, backoff, async () => 1)
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ code: 'BREAKER_OPEN', detail: { server: 's', retryAt: view?.retryAt } });
  });

  it('keeps at most maxBreakers, dropping closed ones first, and forgets idle closed ones', async () => {
    let now = 1_000_000;
    const breakers = board({ maxBreakers: 3, idleMs: 60_000, now: () => now });
    for (let call = 0; call < 2; call++) {
      await expect(
        breakers.run('s', 'open-one', SETTINGS, () => undefined, fail('UPSTREAM_EXITED')),
      ).rejects.toThrow();
    }
    for (let tenant = 0; tenant < 50; tenant++)
      await breakers.run(
        's',
        `t${tenant}`,
        SETTINGS,
        () => undefined,
        async () => 1,
      );
    expect(breakers.size).toBeLessThanOrEqual(3);
    expect(breakers.stateOf('s', 'open-one')).toBe('open');
    now += 120_000;
    await breakers.run(
      's',
      'fresh',
      SETTINGS,
      () => undefined,
      async () => 1,
    );
    expect(
      breakers
        .viewsOf('s')
        .map((view) => view.tenant)
        .sort(),
    ).toEqual(['fresh', 'open-one']);
  });

  it('a disabled breaker only runs the call', async () => {
    const breakers = board();
    const off = { ...SETTINGS, enabled: false };
    for (let call = 0; call < 5; call++) {
      await expect(breakers.run('s', 't', off, () => undefined, fail('UPSTREAM_EXITED'))).rejects.toThrow();
    }
    expect(breakers.size).toBe(0);
  });
});

describe('retry budget, backoff and stale copies', () => {
  it('allows at most one retry per ten calls after its first token', () => {
    const budget = new RetryBudget(0.1);
    let granted = 0;
    for (let call = 0; call < 1_000; call++) {
      budget.deposit();
      if (budget.withdraw()) granted++;
    }
    expect(granted).toBeLessThanOrEqual(1 + 100);
    expect(granted).toBeGreaterThanOrEqual(100);
  });

  it('full jitter draws between zero and the capped exponential step', () => {
    expect(fullJitterDelay(1, 100, 1_000, () => 0.999)).toBe(99);
    expect(fullJitterDelay(3, 100, 1_000, () => 0.5)).toBe(200);
    expect(fullJitterDelay(10, 100, 1_000, () => 0.999)).toBe(999);
    expect(fullJitterDelay(4, 100, 1_000, () => 0)).toBe(0);
  });

  it('stale copies expire with their TTL and stay within their count and byte bounds', () => {
    let now = 0;
    const cache = new StaleCache(() => now);
    const bounds = { ttl: 1_000, maxEntries: 2, maxBytes: 200 };
    cache.store('a', { v: 'a' }, bounds);
    cache.store('b', { v: 'b' }, bounds);
    cache.store('c', { v: 'c' }, bounds);
    expect(cache.size).toBe(2);
    expect(cache.find('a', bounds.ttl)).toBeUndefined();
    cache.store('big', { v: 'x'.repeat(500) }, bounds);
    expect(cache.find('big', bounds.ttl)).toBeUndefined();
    expect(cache.bytes).toBeLessThanOrEqual(200);
    now = 2_000;
    expect(cache.find('c', bounds.ttl)).toBeUndefined();
    expect(StaleCache.keyOf('t', 'tools/call', 'x', { a: 1, b: 2 })).toBe(
      StaleCache.keyOf('t', 'tools/call', 'x', { b: 2, a: 1 }),
    );
    expect(StaleCache.keyOf('t', 'tools/call', 'x', {})).not.toBe(
      StaleCache.keyOf('u', 'tools/call', 'x', {}),
    );
  });
});
