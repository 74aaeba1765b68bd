/** Billing periods are calendar months in UTC, written `YYYY-MM`. */
import { GatewayError } from '../errors.ts';

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;

export type BillingPeriod = { readonly period: string; readonly since: string; readonly until: string };

export function parsePeriod(text: string): BillingPeriod {
  const match = PERIOD.exec(text);
  if (!match) {
    throw new GatewayError('INVALID_PARAMS', 'period must be a month, YYYY-MM (e.g. 2026-11)');
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  return {
    period: text,
    since: new Date(Date.UTC(year, month - 1, 1)).toISOString(),
    until: new Date(Date.UTC(year, month, 1)).toISOString(),
  };
}

/** The month `at` falls in. */
export function periodOf(at: Date): BillingPeriod {
  return parsePeriod(at.toISOString().slice(0, 7));
}
