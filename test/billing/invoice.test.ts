import { describe, expect, it } from 'vitest';
import { BillingSchema } from '../../src/billing/billing-schema.ts';
import { parsePeriod } from '../../src/billing/billing-period.ts';
import { invoiceCsv, invoiceLine } from '../../src/billing/invoice.ts';

const billing = BillingSchema.parse({});
const totals = (calls: number, errors = 0) => ({
  tenantId: 'acme',
  calls,
  errors,
  bytesIn: 1,
  bytesOut: 2,
  cpuSeconds: 0.5,
  wallSeconds: 1,
  cost: 0.25,
});

describe('invoices', () => {
  it("seed 004's plans are the defaults: starter, team and enterprise with included calls and an overage price", () => {
    expect(Object.keys(billing.plans)).toEqual(['starter', 'team', 'enterprise']);
    expect(billing.defaultPlan).toBe('starter');
  });

  it('bills the successful calls past the included ones at the price per 1,000, pro rata, to the cent', () => {
    const line = invoiceLine(billing, {
      tenant: 'acme',
      period: '2026-11',
      plan: 'team',
      totals: totals(100_501 + 7, 7),
    });
    expect(line).toMatchObject({
      plan: 'team',
      billableCalls: 100_501,
      includedCalls: 100_000,
      overageCalls: 501,
      overagePer1000: 1.5,
      amount: 0.75,
      currency: 'usd',
    });
  });

  it('a tenant within its plan owes nothing, and one with no usage has an all-zero line', () => {
    expect(
      invoiceLine(billing, { tenant: 'a', period: '2026-11', plan: 'starter', totals: totals(10) }),
    ).toMatchObject({
      includedCalls: 10,
      overageCalls: 0,
      amount: 0,
    });
    expect(
      invoiceLine(billing, { tenant: 'a', period: '2026-11', plan: undefined, totals: undefined }),
    ).toMatchObject({
      plan: 'starter',
      calls: 0,
      amount: 0,
    });
  });

  it('a stored plan the config no longer has falls back to the default plan', () => {
    expect(
      invoiceLine(billing, { tenant: 'a', period: '2026-11', plan: 'gone', totals: totals(1) }).plan,
    ).toBe('starter');
  });

  it('a month period is [first day, first day of the next month) in UTC; anything else is refused', () => {
    expect(parsePeriod('2026-12')).toEqual({
      period: '2026-12',
      since: '2026-12-01T00:00:00.000Z',
      until: '2027-01-01T00:00:00.000Z',
    });
    for (const bad of ['2026-13', '2026-1', 'november', '2026-11-01'])
      expect(() => parsePeriod(bad)).toThrow(/YYYY-MM/);
  });

  it('the CSV has a header and one line per tenant, and neutralises formula-like cells', () => {
    const csv = invoiceCsv([
      invoiceLine(billing, { tenant: 'acme', period: '2026-11', plan: 'starter', totals: totals(10_010) }),
      invoiceLine(billing, { tenant: '=cmd', period: '2026-11', plan: 'starter', totals: undefined }),
    ]);
    const [header, acme, evil] = csv.split('\r\n');
    expect(header).toBe(
      'tenant,period,plan,currency,calls,errors,billableCalls,includedCalls,overageCalls,overagePer1000,amount,bytesIn,bytesOut,cpuSeconds,wallSeconds,cost',
    );
    expect(acme).toBe('acme,2026-11,starter,usd,10010,0,10010,10000,10,2,0.02,1,2,0.5,1,0.25');
    expect(evil?.startsWith(`"'=cmd"`)).toBe(true);
  });
});
