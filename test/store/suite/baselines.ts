import { describe, expect, it } from 'vitest';
import { ACTOR, refusal, tenantId, testClock, type StoreHarness } from '../store-harness.ts';

const doc = (calls: number) => ({
  v: 1,
  calls,
  tools: { counts: { 'tools/call fs read_file': calls }, other: 0 },
});

export function baselineTests(harness: () => StoreHarness): void {
  describe('anomaly baselines', () => {
    it('a saved batch loads back, and saving again replaces each baseline', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [a, b] = [tenantId('a'), tenantId('b')];
      await store.baselines.save([
        { tenantId: a, principal: 'key:alice', baseline: doc(1) },
        { tenantId: a, principal: '*', baseline: doc(2) },
        { tenantId: b, principal: 'key:bob', baseline: doc(3) },
      ]);
      clock.advance(30);
      await store.baselines.save([{ tenantId: a, principal: 'key:alice', baseline: doc(10) }]);
      expect(await store.baselines.load(a)).toEqual([
        { tenantId: a, principal: '*', baseline: doc(2), updatedAt: '2026-11-01T00:00:00.000Z' },
        { tenantId: a, principal: 'key:alice', baseline: doc(10), updatedAt: '2026-11-01T00:00:30.000Z' },
      ]);
      const all = await store.baselines.load();
      expect(all.map((row) => [row.tenantId, row.principal])).toEqual(
        [
          [a, '*'],
          [a, 'key:alice'],
          [b, 'key:bob'],
        ].sort((x, y) => (x.join(' ') < y.join(' ') ? -1 : 1)),
      );
      expect(await store.baselines.load(a, 'key:alice')).toHaveLength(1);
      expect(await store.baselines.load(b, 'key:alice')).toEqual([]);
    });

    it('baselines are not admin changes: saving leaves the version and the change log alone', async () => {
      const store = await harness().open();
      const a = tenantId('a');
      await store.tenants.create({ id: a, name: 'A' }, ACTOR);
      const version = await store.version();
      await store.baselines.save([{ tenantId: a, principal: 'key:alice', baseline: doc(1) }]);
      await store.baselines.save([]);
      expect(await store.version()).toBe(version);
      expect((await store.changes.list(a)).map((change) => change.action)).toEqual(['tenant.create']);
    });

    it('a tenant of the config file, with no row in the store, has baselines too', async () => {
      const store = await harness().open();
      await store.baselines.save([{ tenantId: 'acme', principal: 'local', baseline: doc(1) }]);
      expect(await store.baselines.load('acme')).toHaveLength(1);
    });

    it('bad baselines are refused, and nothing of the batch is written', async () => {
      const store = await harness().open();
      const a = tenantId('a');
      const good = { tenantId: a, principal: 'key:alice', baseline: doc(1) };
      await refusal(store.baselines.save([good, { ...good, tenantId: 'Not A Tenant' }]), 'INVALID_PARAMS');
      await refusal(store.baselines.save([good, { ...good, principal: '' }]), 'INVALID_PARAMS');
      await refusal(store.baselines.save([{ ...good, baseline: [1, 2] as never }]), 'INVALID_PARAMS');
      await refusal(
        store.baselines.save([{ ...good, baseline: { big: 'x'.repeat(70_000) } }]),
        'INVALID_PARAMS',
      );
      await refusal(store.baselines.load(undefined, 'key:alice'), 'INVALID_PARAMS');
      expect(await store.baselines.load(a)).toEqual([]);
    });
  });
}
