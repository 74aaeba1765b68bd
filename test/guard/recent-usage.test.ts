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

  it('holds at most maxPrincipals, forgetting the one seen longest ago', () => {
    const usage = new RecentUsage({ maxPrincipals: 2 });
    usage.record('a');
    usage.record('b');
    usage.record('a');
    usage.record('c');
    expect(usage.usage('b').callsLastHour).toBe(0);
    expect(usage.usage('a').callsLastHour).toBe(2);
  });
});
