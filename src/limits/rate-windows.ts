/** The windows a rate in the `tiers:` table may name, and their length in seconds. */
import type { Rate } from '../config/tiers-schema.ts';

export const WINDOWS = { perSecond: 1, perMinute: 60, perHour: 3_600, perDay: 86_400 } as const;

export type WindowName = keyof typeof WINDOWS;

/** What a limit applies to. `ip` counts failed authentications only. */
export type LimitScope = 'key' | 'tenant' | 'tool' | 'ip';

/** The windows a rate sets, with their budgets. */
export function windowsOf(rate: Rate | undefined): [WindowName, number][] {
  if (!rate) return [];
  return (Object.keys(WINDOWS) as WindowName[]).flatMap((name) => {
    const points = rate[name];
    return points === undefined ? [] : [[name, points] as [WindowName, number]];
  });
}
