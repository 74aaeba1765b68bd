/** Quotas run per calendar month in UTC: a month's count resets at the first instant of the next. */

/** The first instant of the month after `now`'s, as ISO. */
export function monthEnd(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString();
}

/** `2026-12-01` for `2026-12-01T00:00:00.000Z`: the day a quota resets, as its message says. */
export function resetDay(resetAt: string): string {
  return resetAt.slice(0, 10);
}

/** The UTC month `now` is in, as instants (ms), and the ISO reset of its end. */
export type QuotaPeriod = { readonly start: number; readonly end: number; readonly resetAt: string };

export function periodOf(now: number): QuotaPeriod {
  const date = new Date(now);
  const resetAt = monthEnd(date);
  return { start: Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1), end: Date.parse(resetAt), resetAt };
}
