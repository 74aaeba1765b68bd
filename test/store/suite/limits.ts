import { describe, expect, it } from 'vitest';
import { ACTOR, newKeyMaterial, refusal, tenantId, type StoreHarness } from '../store-harness.ts';

const DECEMBER = '2026-12-01T00:00:00.000Z';
const JANUARY = '2027-01-01T00:00:00.000Z';

export function limitTests(harness: () => StoreHarness): void {
  describe('limits', () => {
    it("an override is set, replaced and removed as an admin change; another tenant's key is NOT_FOUND", async () => {
      const store = await harness().open();
      const [a, b] = [tenantId('a'), tenantId('b')];
      for (const id of [a, b]) await store.tenants.create({ id, name: id }, ACTOR);
      const key = newKeyMaterial();
      await store.apiKeys.create(a, { ...key, name: 'k', role: 'member' }, ACTOR);
      const before = await store.version();
      const set = await store.limits.setOverride(
        a,
        '*',
        { rateLimits: { perKey: { perMinute: 5 } }, quota: { monthlyCalls: 10, monthlyCallsPerKey: 3 } },
        ACTOR,
      );
      expect(set).toMatchObject({
        tenantId: a,
        subject: '*',
        rateLimits: { perKey: { perMinute: 5 } },
        quota: { monthlyCalls: 10, monthlyCallsPerKey: 3 },
      });
      await store.limits.setOverride(a, key.id, { quota: { monthlyCalls: 2 } }, ACTOR);
      await store.limits.setOverride(a, '*', { rateLimits: { perTenant: { perSecond: 1 } } }, ACTOR);
      expect(await store.version()).toBe(before + 3);
      const listed = await store.limits.overridesOf(a);
      expect(listed.map((row) => [row.subject, row.rateLimits, row.quota])).toEqual(
        [
          ['*', { perTenant: { perSecond: 1 } }, undefined],
          [key.id, undefined, { monthlyCalls: 2 }],
        ].sort((x, y) => ((x[0] as string) < (y[0] as string) ? -1 : 1)),
      );
      const log = await store.changes.list(a);
      expect(log.map((entry) => entry.action).slice(-3)).toEqual(['limits.set', 'limits.set', 'limits.set']);

      await refusal(store.limits.setOverride(b, key.id, { quota: { monthlyCalls: 1 } }, ACTOR), 'NOT_FOUND');
      await refusal(
        store.limits.setOverride(a, 'nosuchkey', { quota: { monthlyCalls: 1 } }, ACTOR),
        'NOT_FOUND',
      );
      await refusal(
        store.limits.setOverride(a, key.id, { rateLimits: { perTenant: { perMinute: 1 } } }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(
        store.limits.setOverride(a, '*', { quota: { monthlyCalls: 0 } }, ACTOR),
        'INVALID_PARAMS',
      );
      expect(await store.limits.overridesOf(b)).toEqual([]);

      expect(await store.limits.setOverride(a, '*', null, ACTOR)).toBeUndefined();
      expect((await store.limits.overridesOf(a)).map((row) => row.subject)).toEqual([key.id]);
      expect((await store.changes.list(a)).at(-1)?.action).toBe('limits.clear');
    });

    it('usage adds up within a month, a later month starts anew, and a late batch of an earlier one is dropped', async () => {
      const store = await harness().open();
      const a = tenantId('a');
      const before = await store.version();
      await store.limits.addUsage([
        { tenantId: a, subject: '*', calls: 3, resetAt: DECEMBER },
        { tenantId: a, subject: 'key1', calls: 2, resetAt: DECEMBER },
      ]);
      await store.limits.addUsage([{ tenantId: a, subject: '*', calls: 4, resetAt: DECEMBER }]);
      expect(await store.limits.usageOf(a)).toEqual([
        { tenantId: a, subject: '*', callsUsedMonth: 7, resetAt: DECEMBER },
        { tenantId: a, subject: 'key1', callsUsedMonth: 2, resetAt: DECEMBER },
      ]);
      await store.limits.addUsage([{ tenantId: a, subject: '*', calls: 1, resetAt: JANUARY }]);
      await store.limits.addUsage([{ tenantId: a, subject: '*', calls: 50, resetAt: DECEMBER }]);
      expect((await store.limits.usageOf(a))[0]).toEqual({
        tenantId: a,
        subject: '*',
        callsUsedMonth: 1,
        resetAt: JANUARY,
      });
      // Bookkeeping, not an admin change.
      expect(await store.version()).toBe(before);
      await refusal(
        store.limits.addUsage([{ tenantId: a, subject: '*', calls: -1, resetAt: JANUARY }]),
        'INVALID_PARAMS',
      );
      await refusal(
        store.limits.addUsage([{ tenantId: 'Bad Id', subject: '*', calls: 1, resetAt: JANUARY }]),
        'INVALID_PARAMS',
      );
      expect(await store.limits.usageOf(tenantId('other'))).toEqual([]);
    });
  });
}
