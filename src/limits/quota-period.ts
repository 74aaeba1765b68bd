/** Quotas run per calendar month in UTC: a month's count resets at the first instant of the next. */

/** The first instant of the month after `now`'s, as ISO. */
export function monthEnd(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

/** `2026-12-01` for `2026-12-01T00:00:00.000Z`: the day a quota resets, as its message says. */
export function resetDay(resetAt: string): string {
  return resetAt.slice(0, 10);
}
