import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.ts';
import { ACTOR, masterKeys, mentions, refusal, tenantId, type StoreHarness } from '../store-harness.ts';

const CANARY = 'canary-7f3a9c-secret-value';

async function withTenant(store: Store, label = 'acme'): Promise<string> {
  const id = tenantId(label);
  await store.tenants.create({ id, name: label }, ACTOR);
  return id;
}

export function serverConfigTests(harness: () => StoreHarness): void {
  describe('tenant server configs', () => {
    it('a registered config reads back with secrets masked, and resolves to the values', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const tenant = await withTenant(store);
      await store.serverConfigs.put(
        tenant,
        'postgres',
        {
          env: { DATABASE_URL: CANARY, LOG_LEVEL: 'debug', REGION: { secret: 'eu-west-secret' } },
          args: ['--read-only', `postgres://app:${CANARY}@db.example/app`],
        },
        ACTOR,
      );
      const view = await store.serverConfigs.get(tenant, 'postgres');
      expect(view).toMatchObject({
        tenantId: tenant,
        server: 'postgres',
        env: {
          DATABASE_URL: { set: true, fingerprint: expect.stringMatching(/^[0-9a-f]{8}$/) as unknown },
          LOG_LEVEL: 'debug',
          REGION: { set: true },
        },
        args: ['--read-only', { set: true }],
      });
      expect(JSON.stringify(view)).not.toContain(CANARY);
      expect(JSON.stringify(view)).not.toContain('eu-west-secret');
      expect(JSON.stringify(await store.serverConfigs.list(tenant))).not.toContain(CANARY);
      expect(await store.serverConfigs.resolve(tenant, 'postgres')).toMatchObject({
        env: { DATABASE_URL: { secret: CANARY }, LOG_LEVEL: 'debug', REGION: { secret: 'eu-west-secret' } },
        args: ['--read-only', { secret: `postgres://app:${CANARY}@db.example/app` }],
      });
    });

    it('a fingerprint is the same for the same value and differs for another', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const tenant = await withTenant(store);
      await store.serverConfigs.put(
        tenant,
        'one',
        { env: { API_TOKEN: 'same', OTHER_TOKEN: 'different' } },
        ACTOR,
      );
      await store.serverConfigs.put(tenant, 'two', { env: { API_TOKEN: 'same' } }, ACTOR);
      const one = (await store.serverConfigs.get(tenant, 'one'))?.env;
      const two = (await store.serverConfigs.get(tenant, 'two'))?.env;
      expect(one?.['API_TOKEN']).toEqual(two?.['API_TOKEN']);
      expect(one?.['API_TOKEN']).not.toEqual(one?.['OTHER_TOKEN']);
    });

    it('a patch changes only the names given, removes names set to null, and keeps other secrets', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const tenant = await withTenant(store);
      await store.serverConfigs.put(
        tenant,
        'pg',
        { env: { DATABASE_URL: CANARY, MODE: 'a', OLD: 'x' }, args: ['--flag'] },
        ACTOR,
      );
      const before = await store.serverConfigs.get(tenant, 'pg');
      await store.serverConfigs.patch(tenant, 'pg', { env: { MODE: 'b', OLD: null, API_KEY: 'k-1' } }, ACTOR);
      const after = await store.serverConfigs.get(tenant, 'pg');
      expect(after?.env).toEqual({
        DATABASE_URL: before?.env['DATABASE_URL'],
        MODE: 'b',
        API_KEY: { set: true, fingerprint: expect.any(String) as unknown },
      });
      expect(after?.args).toEqual(['--flag']);
      expect((await store.serverConfigs.resolve(tenant, 'pg'))?.env['DATABASE_URL']).toEqual({
        secret: CANARY,
      });
      await store.serverConfigs.patch(tenant, 'pg', { args: null }, ACTOR);
      expect((await store.serverConfigs.get(tenant, 'pg'))?.args).toBeNull();
      await refusal(store.serverConfigs.patch(tenant, 'absent', { env: { A: 'b' } }, ACTOR), 'NOT_FOUND');
    });

    it('a put replaces the whole config, and a delete falls back with a report of whether there was one', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const tenant = await withTenant(store);
      await store.serverConfigs.put(tenant, 'pg', { env: { A: '1', B: '2' } }, ACTOR);
      await store.serverConfigs.put(tenant, 'pg', { env: { C: '3' } }, ACTOR);
      expect((await store.serverConfigs.get(tenant, 'pg'))?.env).toEqual({ C: '3' });
      expect(await store.serverConfigs.delete(tenant, 'pg', ACTOR)).toBe(true);
      expect(await store.serverConfigs.delete(tenant, 'pg', ACTOR)).toBe(false);
      expect(await store.serverConfigs.get(tenant, 'pg')).toBeUndefined();
      expect(await store.serverConfigs.resolve(tenant, 'pg')).toBeUndefined();
    });

    it('without a master key a secret is refused and nothing is stored, while plain values are', async () => {
      const h = harness();
      const store = await h.open();
      const tenant = await withTenant(store);
      const error = await refusal(
        store.serverConfigs.put(tenant, 'pg', { env: { DATABASE_URL: CANARY, PLAIN: 'ok' } }, ACTOR),
        'MASTER_KEY_MISSING',
      );
      expect(error.message).toContain('DATABASE_URL');
      expect(error.message).toContain('MCPLANE_MASTER_KEY');
      expect(`${error.message} ${JSON.stringify(error.detail ?? {})}`).not.toContain(CANARY);
      await refusal(
        store.serverConfigs.put(tenant, 'pg', { args: [{ secret: CANARY }] }, ACTOR),
        'MASTER_KEY_MISSING',
      );
      expect(await store.serverConfigs.get(tenant, 'pg')).toBeUndefined();
      expect(mentions(await h.rows('tenant_server_configs'), CANARY)).toBe(false);
      expect(mentions(await h.rows('admin_changes'), CANARY)).toBe(false);
      await store.serverConfigs.put(tenant, 'pg', { env: { LOG_LEVEL: 'info' }, args: ['--verbose'] }, ACTOR);
      expect((await store.serverConfigs.resolve(tenant, 'pg'))?.env).toEqual({ LOG_LEVEL: 'info' });
    });

    it('malformed env names and values are refused', async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const tenant = await withTenant(store);
      await refusal(
        store.serverConfigs.put(tenant, 'pg', { env: { 'NOT A NAME': 'x' } }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(
        store.serverConfigs.put(tenant, 'pg', { env: { A: 5 as never } }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(
        store.serverConfigs.put(tenant, 'pg', { env: { A: null as never } }, ACTOR),
        'INVALID_PARAMS',
      );
      await refusal(store.serverConfigs.put(tenant, 'Bad_Server', {}, ACTOR), 'INVALID_PARAMS');
      await refusal(store.serverConfigs.put('nobody', 'pg', {}, ACTOR), 'NOT_FOUND');
    });

    it("a ciphertext copied into another tenant's row does not decrypt there", async () => {
      const h = harness();
      const store = await h.open({ masterKeys: masterKeys() });
      const a = await withTenant(store, 'a');
      const b = await withTenant(store, 'b');
      await store.serverConfigs.put(a, 'pg', { env: { DATABASE_URL: CANARY } }, ACTOR);
      await store.serverConfigs.put(b, 'pg', { env: { DATABASE_URL: 'b-own-url' } }, ACTOR);
      await h.exec(
        `UPDATE tenant_server_configs SET env = (SELECT env FROM tenant_server_configs WHERE tenant_id = $1)
         WHERE tenant_id = $2`,
        [a, b],
      );
      await refusal(store.serverConfigs.resolve(b, 'pg'), 'SECRET_UNREADABLE');
    });

    it("resolveAll returns every tenant's configs decrypted", async () => {
      const store = await harness().open({ masterKeys: masterKeys() });
      const a = await withTenant(store, 'a');
      const b = await withTenant(store, 'b');
      await store.serverConfigs.put(a, 'pg', { env: { DATABASE_URL: 'a-url' } }, ACTOR);
      await store.serverConfigs.put(b, 'pg', { env: { DATABASE_URL: 'b-url' } }, ACTOR);
      const all = await store.serverConfigs.resolveAll();
      expect(all.map((config) => [config.tenantId, config.env['DATABASE_URL']])).toEqual(
        [
          [a, { secret: 'a-url' }],
          [b, { secret: 'b-url' }],
        ].sort(([x], [y]) => (x as string).localeCompare(y as string)),
      );
    });
  });
}
