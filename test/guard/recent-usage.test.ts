import { describe, expect, it } from 'vitest';
import { RecentUsage } from '../../src/guard/recent-usage.ts';

describe('RecentUsage', () => {
  it('counts calls per principal in the last minute and hour, and forgets old minutes', () => {
    let now = 10 * 60_000;
    const usage = new RecentUsage({ now: () => now });
    for (let index = 0; index < 30; index += 1) usage.record('key:a');
    usage.record('key:b');
    expect(usage.usage('key:a')).toEqual({ callsLastMinute: 30, callsLastHour: 30 });
    expect(usage.usage('key:b').callsLastMinute).toBe(1);
    now += 120_000; // two minutes later: that minute is out of the window, not out of the hour
    expect(usage.usage('key:a')).toEqual({ callsLastMinute: 0, callsLastHour: 30 });
    now += 60 * 60_000;
    usage.record('key:a');
    expect(usage.usage('key:a')).toEqual({ callsLastMinute: 1, callsLastHour: 1 });
    expect(usage.usage('key:unknown')).toEqual({ callsLastMinute: 0, callsLastHour: 0 });
  });

  it('the hour is a sliding sum of the last 60 minutes, read or written, and a clock stepping back loses nothing', () => {
    let now = 0;
    const usage = new RecentUsage({ now: () => now });
    // One call in minute m for every m of 0..89: the hour ending in minute 89 holds minutes 30..89.
    for (let minute = 0; minute < 90; minute += 1) {
      now = minute * 60_000 + 1_000;
      for (let call = 0; call <= minute % 3; call += 1) usage.record('key:a');
      const expected = Array.from(
        { length: Math.min(minute + 1, 60) },
        (_, back) => ((minute - back) % 3) + 1,
      );
      expect(usage.usage('key:a').callsLastHour).toBe(expected.reduce((sum, count) => sum + count, 0));
    }
    now -= 5 * 60_000;
    expect(usage.usage('key:a').callsLastHour).toBe(120);
    now += 30 * 60_000;
    usage.record('key:a');
    // Minute 114: minutes 55..89 (71 calls) are still inside the hour, with the new one.
    expect(usage.usage('key:a').callsLastHour).toBe(72);
  });

  it('reading usage does not keep a principal from being forgotten', () => {
    const usage = new RecentUsage({ maxPrincipals: 2 });
    usage.record('a');
    usage.record('b');
    usage.usage('a');
    usage.record('c');
    expect(usage.usage('a').callsLastHour).toBe(0);
    expect(usage.usage('b').callsLastHour).toBe(1);
  });

  it('holds at most maxPrincipals, forgetting the one seen longest ago', () => {
    const usage = new RecentUsage({ maxPrincipals: 2 });
    usage.record('a');
    usage.record('b');
    usage.record('a');
    usage.record('c');
    expect(usage.usage('b').callsLastHour).toBe(0);
    expect(usage.usage('a').callsLastHour).toBe(2);
  });

  it('a principal calling again and again keeps its place as the one seen last', () => {
    const usage = new RecentUsage({ maxPrincipals: 2 });
    usage.record('a');
    usage.record('b');
    usage.record('b');
    usage.record('a');
    usage.record('a');
    usage.record('c');
    expect(usage.usage('b').callsLastHour).toBe(0);
    expect(usage.usage('a').callsLastHour).toBe(3);
    usage.record('c');
    usage.record('d');
    expect(usage.usage('a').callsLastHour).toBe(0);
    expect(usage.usage('c').callsLastHour).toBe(2);
  });
});
