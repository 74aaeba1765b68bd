import { describe, expect, it } from 'vitest';
import { AnomalyDetector, TENANT_BASELINE } from '../../../src/guard/anomaly/anomaly-detector.ts';
import { call, history, steppedClock, toolCall, usualCall } from './history.ts';

const alice = { tenantId: 'acme', principal: 'key:alice' };
const bob = { tenantId: 'acme', principal: 'key:bob' };
const WARMUP = 20;

function setUp(options: { warmup?: number; maxPrincipals?: number } = {}) {
  const clock = steppedClock();
  const detector = new AnomalyDetector({
    warmup: options.warmup ?? WARMUP,
    maxPrincipals: options.maxPrincipals ?? 100,
    now: clock.now,
  });
  return { clock, detector };
}

/** Alice's usual ten minutes: 5 calls a minute of reads and lists below /data/acme. */
function warmAlice() {
  const setup = setUp();
  history(setup.detector, alice, setup.clock, { minutes: 10, perMinute: 5 });
  return setup;
}

describe('the anomaly detector', () => {
  it('after a scripted history the usual calls score 0, and an outlier is flagged the first time', () => {
    const { detector } = warmAlice();
    for (let n = 0; n < 5; n++) expect(call(detector, alice, usualCall(n)).score).toBe(0);
    const outlier = call(detector, alice, toolCall('read_file', { path: '/etc/shadow' }));
    expect(outlier.score).toBe(1);
    expect(outlier.components).toEqual({ rate: 0, tool: 0, prefix: 1, size: 0 });
    expect(outlier.against).toBe('principal');
  });

  it('nothing is flagged while a baseline is warming up', () => {
    const { detector, clock } = setUp();
    const scores = history(detector, alice, clock, { minutes: 3, perMinute: 6 });
    expect(scores.every((score) => score.score === 0)).toBe(true);
    expect(detector.score(alice, toolCall('delete_file', { path: '/etc/shadow' })).score).toBe(0);
  });

  it('the baseline is updated after scoring: an outlier learnt is usual the next time', () => {
    const { detector } = warmAlice();
    const odd = toolCall('read_file', { path: '/srv/shared/readme.md' });
    expect(call(detector, alice, odd).components.prefix).toBe(1);
    expect(call(detector, alice, odd).score).toBe(0);
  });

  it('a call only scored, not learnt (refused), stays unusual', () => {
    const { detector } = warmAlice();
    const odd = toolCall('read_file', { path: '/etc/shadow' });
    for (let attempt = 0; attempt < 50; attempt++) expect(detector.score(alice, odd).score).toBe(1);
  });

  describe('each component on its own', () => {
    it('rate: a burst far above the usual calls per minute', () => {
      const { detector, clock } = warmAlice();
      const burst = [];
      for (let n = 0; n < 80; n++) {
        burst.push(call(detector, alice, usualCall(n)));
        clock.advance(250);
      }
      expect(burst.slice(0, 5).every((score) => score.score === 0)).toBe(true);
      const last = burst.at(-1);
      expect(last?.components).toEqual({ rate: 1, tool: 0, prefix: 0, size: 0 });
      expect(last?.reasons.rate).toMatch(
        /calls in the last minute; this (principal|tenant) usually makes 5\.0/,
      );
      // The same pace as usual, a minute later, is not.
      clock.advance(120_000);
      expect(call(detector, alice, usualCall(1)).score).toBe(0);
    });

    it('tool: a tool this principal has never used', () => {
      const { detector } = warmAlice();
      const score = detector.score(alice, toolCall('delete_file', { path: '/data/acme/reports/1.txt' }));
      expect(score.components).toEqual({ rate: 0, tool: 1, prefix: 0, size: 0 });
      expect(score.reasons.tool).toBe('a tool this principal has never used');
    });

    it('prefix: a first-time path outside the usual prefixes, and a URL to a new host', () => {
      const { detector } = warmAlice();
      expect(detector.score(alice, toolCall('read_file', { path: '/data/globex/x.txt' })).components).toEqual(
        {
          rate: 0,
          tool: 0,
          prefix: 1,
          size: 0,
        },
      );
      expect(detector.score(alice, toolCall('read_file', { path: '/data/acme/2025/x.txt' })).score).toBe(0);
      expect(
        detector.score(
          alice,
          toolCall('read_file', { path: '/data/acme/reports/x', to: 'https://evil.io/up' }),
        ).components.prefix,
      ).toBe(1);
    });

    it('size: arguments far larger than usual', () => {
      const { detector } = warmAlice();
      const big = toolCall('read_file', { path: '/data/acme/reports/1.txt', note: 'x'.repeat(10_000) });
      const score = detector.score(alice, big);
      expect(score.components).toEqual({ rate: 0, tool: 0, prefix: 0, size: 1 });
      expect(score.reasons.size).toMatch(/^arguments of 10\d{3} bytes, usually \d+ ± \d+/);
      const slightly = toolCall('read_file', { path: '/data/acme/reports/1.txt', note: 'x'.repeat(40) });
      expect(detector.score(alice, slightly).score).toBe(0);
    });
  });

  it('components combine as a noisy OR', () => {
    const { detector, clock } = warmAlice();
    // Bob knows only read_file; list_directory he never used, but his tenant has: half.
    history(detector, bob, clock, {
      minutes: 6,
      perMinute: 5,
      calls: (n) => toolCall('read_file', { path: `/data/acme/reports/${n % 3}.txt` }),
    });
    const half = detector.score(bob, toolCall('list_directory', { path: '/data/acme/reports' }));
    expect(half.components.tool).toBe(0.5);
    expect(half.reasons.tool).toBe('a tool this principal has never used (its tenant has)');
    expect(half.score).toBe(0.5);
    const both = detector.score(
      bob,
      toolCall('list_directory', { path: '/data/acme/reports', x: 'x'.repeat(8_000) }),
    );
    expect(both.components.size).toBe(1);
    expect(both.score).toBe(1);
  });

  it("a principal still warming up is judged against its warm tenant's baseline", () => {
    const { detector } = warmAlice();
    const fresh = { tenantId: 'acme', principal: 'key:new' };
    expect(detector.score(fresh, usualCall(0)).score).toBe(0);
    const score = detector.score(fresh, toolCall('read_file', { path: '/etc/shadow' }));
    expect(score.against).toBe('tenant');
    expect(score.components.prefix).toBe(1);
    // Another tenant's baseline is never used.
    expect(
      detector.score(
        { tenantId: 'globex', principal: 'key:alice' },
        toolCall('read_file', { path: '/etc/shadow' }),
      ).score,
    ).toBe(0);
  });

  it('a principal that keeps trying new tools is less surprised by one more', () => {
    const { detector, clock } = setUp();
    history(detector, alice, clock, {
      minutes: 10,
      perMinute: 10,
      calls: (n) => toolCall(`tool_${n}`, {}),
    });
    const baseline = detector.baseline('acme', 'key:alice');
    expect(baseline?.tools.toJSON()).toMatchObject({ other: 100 - 32 });
    expect(Object.keys(baseline?.tools.toJSON().counts ?? {})).toHaveLength(32);
    expect(detector.score(alice, toolCall('tool_new', {})).components.tool).toBe(0);
  });

  it('baselines saved and restored score the same', () => {
    const { detector, clock } = warmAlice();
    const rows = detector.takeDirty();
    expect(rows.map((row) => row.principal).sort()).toEqual([TENANT_BASELINE, 'key:alice']);
    expect(detector.takeDirty()).toEqual([]);
    const restored = new AnomalyDetector({ warmup: WARMUP, maxPrincipals: 100, now: clock.now });
    expect(
      restored.restore(rows.map((row) => ({ ...row, updatedAt: new Date(clock.now()).toISOString() }))),
    ).toBe(2);
    const outlier = toolCall('read_file', { path: '/etc/shadow' });
    expect(restored.score(alice, outlier)).toEqual(detector.score(alice, outlier));
    expect(restored.score(alice, usualCall(1)).score).toBe(0);
  });

  it('a saved baseline in an unknown format is skipped, not trusted', () => {
    const { detector } = setUp();
    const at = new Date().toISOString();
    expect(
      detector.restore([
        { tenantId: 'acme', principal: 'key:a', baseline: { v: 99 }, updatedAt: at },
        { tenantId: 'acme', principal: 'key:b', baseline: { v: 1, calls: -1 }, updatedAt: at },
      ]),
    ).toBe(0);
  });

  it('memory is bounded by maxPrincipals; a forgotten dirty baseline is still saved', () => {
    const { detector } = setUp({ maxPrincipals: 3 });
    for (let i = 0; i < 10; i++) call(detector, { tenantId: 'acme', principal: `key:p${i}` }, usualCall(i));
    expect(detector.baseline('acme', 'key:p0')).toBeUndefined();
    expect(detector.baseline('acme', 'key:p9')).toBeDefined();
    const saved = detector.takeDirty().map((row) => row.principal);
    expect(saved).toHaveLength(11);
    expect(new Set(saved).size).toBe(11);
  });

  it('flags are counted by component', () => {
    const { detector } = warmAlice();
    const score = detector.score(alice, toolCall('delete_file', { path: '/etc/shadow' }));
    detector.countFlag(score);
    expect(detector.flags()).toEqual({ calls: 1, byComponent: { rate: 0, tool: 1, prefix: 1, size: 0 } });
  });
});
