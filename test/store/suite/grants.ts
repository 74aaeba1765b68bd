import { describe, expect, it } from 'vitest';
import { grantState } from '../../../src/store/grant-state.ts';
import type { Store } from '../../../src/store/store.ts';
import { ACTOR, refusal, tenantId, testClock, pagesOf, type StoreHarness } from '../store-harness.ts';

async function tenants(store: Store, ...labels: string[]): Promise<string[]> {
  const ids = labels.map((label) => tenantId(label));
  for (const id of ids) await store.tenants.create({ id, name: id }, ACTOR);
  return ids;
}

export function grantTests(harness: () => StoreHarness): void {
  describe('grants', () => {
    it('a grant is seen by its owner and its grantee, and by no one else', async () => {
      const store = await harness().open();
      const [owner, grantee, stranger] = (await tenants(store, 'owner', 'grantee', 'stranger')) as [
        string,
        string,
        string,
      ];
      const grant = await store.grants.create(
        owner,
        {
          server: 'kb',
          granteeTenantId: grantee,
          access: 'read',
          tools: ['search'],
          expiresAt: '2099-01-01T00:00:00Z',
        },
        ACTOR,
      );
      expect(grant).toMatchObject({
        ownerTenantId: owner,
        grantedByTenantId: owner,
        granteeTenantId: grantee,
        server: 'kb',
        access: 'read',
        tools: ['search'],
        allowResharing: false,
        parentGrantId: null,
        revokedAt: null,
        expiresAt: '2099-01-01T00:00:00.000Z',
      });
      expect(await store.grants.get(owner, grant.id)).toEqual(grant);
      expect(await store.grants.get(grantee, grant.id)).toEqual(grant);
      expect(await store.grants.get(stranger, grant.id)).toBeUndefined();
      expect(await store.grants.list(owner, { as: 'owner' })).toEqual([grant]);
      expect(await store.grants.list(owner, { as: 'grantee' })).toEqual([]);
      expect(await store.grants.list(grantee)).toEqual([grant]);
      expect(await store.grants.list(stranger)).toEqual([]);
      expect(await store.grants.listActive()).toEqual([grant]);
    });

    it("grants page in the order they were made, active ones by default, and a stranger's grant is no cursor", async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [owner = '', stranger = '', ...grantees] = await tenants(
        store,
        'owner',
        'stranger',
        'g1',
        'g2',
        'g3',
        'g4',
        'g5',
      );
      const made = [];
      for (const grantee of grantees) {
        made.push(
          await store.grants.create(owner, { server: 'kb', granteeTenantId: grantee, access: 'read' }, ACTOR),
        );
        clock.advance(1);
      }
      await store.grants.revoke(owner, made[1]?.id ?? '', ACTOR);
      const elsewhere = await store.grants.create(
        stranger,
        { server: 'kb', granteeTenantId: grantees[0] ?? '', access: 'read' },
        ACTOR,
      );
      const pages = (await pagesOf((request) => store.grants.page(owner, request))).map((items) =>
        items.map((grant) => grant.granteeTenantId),
      );
      expect(pages).toEqual([
        [grantees[0], grantees[2]],
        [grantees[3], grantees[4]],
      ]);
      expect(pages.flat()).toEqual((await store.grants.list(owner)).map((grant) => grant.granteeTenantId));
      const everything = await store.grants.page(owner, { limit: 10 }, { includeInactive: true });
      expect(everything.items.map((grant) => grant.id)).toEqual(made.map((grant) => grant.id));
      const refusals = await Promise.all([
        refusal(store.grants.page(owner, { after: elsewhere.id, limit: 2 }), 'INVALID_PARAMS'),
        refusal(store.grants.page(owner, { after: 'no-such-grant', limit: 2 }), 'INVALID_PARAMS'),
      ]);
      expect(refusals[0].message).toBe(refusals[1].message);
    });

    it('a tenant cannot grant to itself, and one server has one active grant per grantee', async () => {
      const store = await harness().open();
      const [owner, grantee] = (await tenants(store, 'owner', 'grantee')) as [string, string];
      await refusal(
        store.grants.create(owner, { server: 'kb', granteeTenantId: owner, access: 'full' }, ACTOR),
        'INVALID_PARAMS',
      );
      await store.grants.create(owner, { server: 'kb', granteeTenantId: grantee, access: 'full' }, ACTOR);
      await refusal(
        store.grants.create(owner, { server: 'kb', granteeTenantId: grantee, access: 'read' }, ACTOR),
        'CONFLICT',
      );
      await refusal(
        store.grants.create(owner, { server: 'kb', granteeTenantId: grantee, access: 'all' as never }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(
        store.grants.create('nobody', { server: 'kb', granteeTenantId: grantee, access: 'read' }, ACTOR),
        'NOT_FOUND',
      );
    });

    it('a grantee reshares only with allowResharing, and never wider than its grant', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [owner, middle, last] = (await tenants(store, 'owner', 'middle', 'last')) as [
        string,
        string,
        string,
      ];
      const closed = await store.grants.create(
        owner,
        { server: 'kb', granteeTenantId: middle, access: 'read' },
        ACTOR,
      );
      await refusal(
        store.grants.create(
          middle,
          { server: 'kb', granteeTenantId: last, access: 'read', parentGrantId: closed.id },
          ACTOR,
        ),
        'RESHARE_FORBIDDEN',
      );
      await store.grants.revoke(owner, closed.id, ACTOR);
      const open = await store.grants.create(
        owner,
        {
          server: 'kb',
          granteeTenantId: middle,
          access: 'read',
          tools: ['search', 'fetch'],
          allowResharing: true,
          expiresAt: '2099-01-01T00:00:00Z',
        },
        ACTOR,
      );
      await refusal(
        store.grants.create(
          middle,
          { server: 'kb', granteeTenantId: last, access: 'full', parentGrantId: open.id },
          ACTOR,
        ),
        'RESHARE_FORBIDDEN',
      );
      await refusal(
        store.grants.create(
          middle,
          { server: 'kb', granteeTenantId: last, access: 'read', tools: ['delete'], parentGrantId: open.id },
          ACTOR,
        ),
        'RESHARE_FORBIDDEN',
      );
      await refusal(
        store.grants.create(
          middle,
          {
            server: 'kb',
            granteeTenantId: last,
            access: 'read',
            expiresAt: '2100-01-01T00:00:00Z',
            parentGrantId: open.id,
          },
          ACTOR,
        ),
        'RESHARE_FORBIDDEN',
      );
      await refusal(
        store.grants.create(
          last,
          { server: 'kb', granteeTenantId: middle, access: 'read', parentGrantId: open.id },
          ACTOR,
        ),
        'NOT_FOUND',
      );
      clock.advance(1);
      const reshare = await store.grants.create(
        middle,
        { server: 'kb', granteeTenantId: last, access: 'read', parentGrantId: open.id },
        ACTOR,
      );
      expect(reshare).toMatchObject({
        ownerTenantId: owner,
        grantedByTenantId: middle,
        granteeTenantId: last,
        parentGrantId: open.id,
        tools: ['search', 'fetch'],
        expiresAt: '2099-01-01T00:00:00.000Z',
        allowResharing: false,
      });
      expect(await store.grants.list(owner, { as: 'owner' })).toEqual([open, reshare]);
      expect(await store.grants.list(middle, { as: 'granter' })).toEqual([reshare]);
    });

    it('revoking a grant revokes the reshares made under it, and a grantee cannot revoke it', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [owner, middle, last] = (await tenants(store, 'owner', 'middle', 'last')) as [
        string,
        string,
        string,
      ];
      const grant = await store.grants.create(
        owner,
        { server: 'kb', granteeTenantId: middle, access: 'full', allowResharing: true },
        ACTOR,
      );
      const reshare = await store.grants.create(
        middle,
        {
          server: 'kb',
          granteeTenantId: last,
          access: 'full',
          allowResharing: true,
          parentGrantId: grant.id,
        },
        ACTOR,
      );
      await refusal(store.grants.revoke(middle, grant.id, ACTOR), 'NOT_FOUND');
      await refusal(store.grants.revoke(last, grant.id, ACTOR), 'NOT_FOUND');
      clock.advance(1);
      const revoked = await store.grants.revoke(owner, grant.id, ACTOR);
      expect(revoked.revokedAt).toBe(clock.iso());
      expect((await store.grants.get(last, reshare.id))?.revokedAt).toBe(clock.iso());
      expect(await store.grants.listActive()).toEqual([]);
      expect(await store.grants.list(last)).toEqual([]);
      expect(await store.grants.list(last, { includeInactive: true })).toHaveLength(1);
      expect((await store.changes.list(owner)).at(-1)).toMatchObject({
        action: 'grant.revoke',
        details: { alsoRevoked: 1 },
      });
    });

    it('an expired grant is inactive and frees its place for a new grant', async () => {
      const clock = testClock();
      const store = await harness().open({ now: clock.now });
      const [owner, grantee] = (await tenants(store, 'owner', 'grantee')) as [string, string];
      const grant = await store.grants.create(
        owner,
        { server: 'kb', granteeTenantId: grantee, access: 'read', expiresAt: '2026-11-01T00:10:00Z' },
        ACTOR,
      );
      clock.advance(600);
      expect(grantState(grant, clock.now().getTime())).toBe('expired');
      expect(await store.grants.listActive()).toEqual([]);
      expect(await store.grants.list(grantee)).toEqual([]);
      const next = await store.grants.create(
        owner,
        { server: 'kb', granteeTenantId: grantee, access: 'read' },
        ACTOR,
      );
      expect(grantState(next, clock.now().getTime())).toBe('active');
      expect((await store.grants.get(owner, grant.id))?.revokedAt).toBe(clock.iso());
      await refusal(
        store.grants.create(
          owner,
          { server: 'other', granteeTenantId: grantee, access: 'read', expiresAt: '2026-01-01T00:00:00Z' },
          ACTOR,
        ),
        'INVALID_PARAMS',
      );
    });
  });
}
