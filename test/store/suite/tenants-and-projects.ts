import { describe, expect, it } from 'vitest';
import { ACTOR, refusal, tenantId, testClock, pagesOf, type StoreHarness } from '../store-harness.ts';

export function tenantAndProjectTests(harness: () => StoreHarness): void {
  describe('tenants', () => {
    it('a created tenant reads back, is listed, and updates', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const id = tenantId('acme');
      const created = await store.tenants.create({ id, name: 'Acme', tier: 'team' }, ACTOR);
      expect(created).toEqual({
        id,
        name: 'Acme',
        tier: 'team',
        status: 'active',
        createdAt: clock.iso(),
        updatedAt: clock.iso(),
      });
      expect(await store.tenants.get(id)).toEqual(created);
      expect(await store.tenants.list()).toEqual([created]);
      clock.advance(5);
      const updated = await store.tenants.update(id, { status: 'suspended', name: 'Acme Inc' }, ACTOR);
      expect(updated).toMatchObject({
        status: 'suspended',
        name: 'Acme Inc',
        tier: 'team',
        updatedAt: clock.iso(),
      });
      expect(await store.tenants.get(id)).toEqual(updated);
    });

    it('pages the tenants that are not deleted, in id order', async () => {
      const store = await harness().open();
      const ids = ['pa', 'pb', 'pc', 'pd', 'pe'].map((label) => tenantId(label));
      for (const id of ids) await store.tenants.create({ id, name: id }, ACTOR);
      await store.tenants.update(ids[2] as string, { status: 'deleted' }, ACTOR);
      const pages = await pagesOf((request) => store.tenants.page(request), { maxPages: 100 });
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(2);
      const seen = pages.flat().map((tenant) => tenant.id);
      // In byte order, whatever the database's collation (the admin API merges config tenants so).
      const live = (await store.tenants.list()).filter((tenant) => tenant.status !== 'deleted');
      expect(seen).toEqual(live.map((tenant) => tenant.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
      expect(seen).toEqual(expect.arrayContaining([ids[0], ids[1], ids[3], ids[4]]));
      expect(seen).not.toContain(ids[2]);
      // Any id is a place to start from, known or not.
      const from = await store.tenants.page({ after: ids[3], limit: 1000 });
      expect(from.items.every((tenant) => tenant.id > (ids[3] as string))).toBe(true);
      await refusal(store.tenants.page({ limit: 0 }), 'INVALID_PARAMS');
      await refusal(store.tenants.page({ limit: 1.5 }), 'INVALID_PARAMS');
    });

    it('a tenant defaults to the standard tier', async () => {
      const store = await harness().open();
      expect((await store.tenants.create({ id: tenantId('t'), name: 'T' }, ACTOR)).tier).toBe('standard');
    });

    it('a duplicate tenant id is a conflict, and a malformed one is refused', async () => {
      const store = await harness().open();
      const id = tenantId('acme');
      await store.tenants.create({ id, name: 'Acme' }, ACTOR);
      await refusal(store.tenants.create({ id, name: 'Again' }, ACTOR), 'CONFLICT');
      await refusal(store.tenants.create({ id: 'Bad Id', name: 'x' }, ACTOR), 'INVALID_PARAMS');
      await refusal(store.tenants.create({ id: tenantId('x'), name: ' ' }, ACTOR), 'INVALID_PARAMS');
      expect(await store.tenants.list()).toHaveLength(1);
    });

    it('a deleted tenant cannot be made active again', async () => {
      const store = await harness().open();
      const id = tenantId('gone');
      await store.tenants.create({ id, name: 'Gone' }, ACTOR);
      await store.tenants.update(id, { status: 'deleted' }, ACTOR);
      await refusal(store.tenants.update(id, { status: 'active' }, ACTOR), 'CONFLICT');
      await refusal(store.tenants.update(id, { status: 'bogus' as never }, ACTOR), 'INVALID_PARAMS');
    });

    it('an unknown tenant reads as undefined and updates as not found', async () => {
      const store = await harness().open();
      expect(await store.tenants.get('nobody')).toBeUndefined();
      await refusal(store.tenants.update('nobody', { name: 'x' }, ACTOR), 'NOT_FOUND');
    });
  });

  describe('projects', () => {
    it('a project is created, read and listed under its own tenant only', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const a = tenantId('a');
      const b = tenantId('b');
      await store.tenants.create({ id: a, name: 'A' }, ACTOR);
      await store.tenants.create({ id: b, name: 'B' }, ACTOR);
      const project = await store.projects.create(a, { name: 'Search' }, ACTOR);
      clock.advance(1);
      const named = await store.projects.create(a, { id: 'kb', name: 'Knowledge base' }, ACTOR);
      expect(project).toMatchObject({ tenantId: a, name: 'Search' });
      expect(await store.projects.get(a, project.id)).toEqual(project);
      expect(await store.projects.list(a)).toEqual([project, named]);
      expect(await store.projects.list(b)).toEqual([]);
      expect(await store.projects.get(b, project.id)).toBeUndefined();
      await refusal(store.projects.create(b, { id: 'kb', name: 'Taken' }, ACTOR), 'CONFLICT');
    });

    it("projects page in the order they were made, and a cursor from another tenant's list is refused", async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [a, b] = [tenantId('a'), tenantId('b')];
      await store.tenants.create({ id: a, name: 'A' }, ACTOR);
      await store.tenants.create({ id: b, name: 'B' }, ACTOR);
      // Ids against the order they were made, so a page by id would be told apart.
      for (const id of ['p5', 'p4', 'p3', 'p2', 'p1']) {
        await store.projects.create(a, { id: `${a}-${id}`, name: id }, ACTOR);
        clock.advance(1);
      }
      const foreign = await store.projects.create(b, { name: 'theirs' }, ACTOR);
      const pages = (await pagesOf((request) => store.projects.page(a, request))).map((items) =>
        items.map((project) => project.name),
      );
      expect(pages).toEqual([['p5', 'p4'], ['p3', 'p2'], ['p1']]);
      expect((await store.projects.page(a, { limit: 5 })).next).toBeUndefined();
      expect((await store.projects.page(b, { limit: 5 })).items).toEqual([foreign]);
      const refusals = await Promise.all([
        refusal(store.projects.page(a, { after: foreign.id, limit: 2 }), 'INVALID_PARAMS'),
        refusal(store.projects.page(a, { after: 'no-such-project', limit: 2 }), 'INVALID_PARAMS'),
      ]);
      expect(refusals[0].message).toBe(refusals[1].message);
      await refusal(store.projects.page(a, { limit: 0 }), 'INVALID_PARAMS');
    });

    it('a project for an unknown tenant is not found', async () => {
      const store = await harness().open();
      await refusal(store.projects.create('nobody', { name: 'x' }, ACTOR), 'NOT_FOUND');
    });
  });
}
