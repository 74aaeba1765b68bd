import { describe, expect, it } from 'vitest';
import { TierSchema } from '../../src/config/tiers-schema.ts';
import { keyLimits, overridesByTenant, tenantLimits } from '../../src/limits/effective-limits.ts';
import { monthEnd, resetDay } from '../../src/limits/quota-period.ts';

const tier = TierSchema.parse({
  rateLimits: { perKey: { perMinute: 60, perDay: 10_000 }, perTenant: { perMinute: 300 } },
  quota: { monthlyCalls: 1000, monthlyCallsPerKey: 100 },
});

describe('effective limits', () => {
  it("without overrides a key gets its tier's limits", () => {
    const limits = keyLimits(tenantLimits(tier, undefined), undefined, 'k1');
    expect(limits).toEqual({
      perKey: { perMinute: 60, perDay: 10_000 },
      perTenant: { perMinute: 300 },
      quota: { tenant: 1000, key: 100 },
    });
  });

  it("an override part replaces the tier's part whole, and a key's own override beats the tenant's", () => {
    const overrides = overridesByTenant([
      {
        tenantId: 'acme',
        subject: '*',
        rateLimits: { perKey: { perSecond: 5 }, perTool: { perMinute: 10 } },
        updatedAt: '2026-11-01T00:00:00.000Z',
      },
      {
        tenantId: 'acme',
        subject: 'k2',
        rateLimits: { perKey: { perHour: 7 } },
        quota: { monthlyCalls: 3 },
        updatedAt: '2026-11-01T00:00:00.000Z',
      },
    ]).get('acme');
    const tenant = tenantLimits(tier, overrides);
    expect(tenant.rateLimits).toEqual({
      perKey: { perSecond: 5 },
      perTenant: { perMinute: 300 },
      perTool: { perMinute: 10 },
    });
    expect(keyLimits(tenant, overrides, 'k1')).toMatchObject({
      perKey: { perSecond: 5 },
      quota: { tenant: 1000, key: 100 },
    });
    expect(keyLimits(tenant, overrides, 'k2')).toMatchObject({
      perKey: { perHour: 7 },
      quota: { tenant: 1000, key: 3 },
    });
  });

  it('a principal that is not an API key has no key quota', () => {
    expect(keyLimits(tenantLimits(tier, undefined), undefined, undefined).quota).toEqual({ tenant: 1000 });
  });
});

describe('quota periods', () => {
  it('a month ends at the first instant of the next, in UTC, across a year', () => {
    expect(monthEnd(new Date('2026-11-30T23:59:59.999Z'))).toBe('2026-12-01T00:00:00.000Z');
    expect(monthEnd(new Date('2026-12-01T00:00:00.000Z'))).toBe('2027-01-01T00:00:00.000Z');
    expect(monthEnd(new Date('2028-02-29T12:00:00.000+05:00'))).toBe('2028-03-01T00:00:00.000Z');
    expect(resetDay('2027-01-01T00:00:00.000Z')).toBe('2027-01-01');
  });
});
