import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/store/store.ts';
import {
  bearer,
  connectHttpClient,
  openRawSession,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { capturedLog } from '../support/captured-log.ts';
import { eventually, fixtureServer, textJson } from '../support/harness.ts';
import { adminClient, platformKey, postgresBackend, sqliteBackend, type Backend } from './admin-harness.ts';

const CONFIG = {
  servers: {
    kb: fixtureServer({ mode: 'tenant', pool: { min: 1, max: 2, maxInflight: 8 } }),
    shared: fixtureServer({ mode: 'shared', env: { FIXTURE_TOOLS_PREFIX: 's_' } }),
  },
  tenants: { acme: { name: 'Acme (from the config)' } },
};

type Api = ReturnType<typeof adminClient>;

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`admin API on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    async function started(): Promise<{ http: HttpGateway; root: Api; store: Store }> {
      const store = await backend.open();
      const rootKey = await platformKey(store);
      const http = await startHttpGateway(CONFIG, { store });
      const root = adminClient(http.origin, rootKey);
      return { http, root, store };
    }

    async function tenantWithAdmin(
      root: Api,
      http: HttpGateway,
      id: string,
    ): Promise<{ admin: Api; key: string }> {
      expect((await root('POST', '/tenants', { id, name: id.toUpperCase() })).status).toBe(201);
      const created = await root('POST', `/tenants/${id}/api-keys`, { name: 'admin', role: 'tenant-admin' });
      expect(created.status).toBe(201);
      const key = created.body.key as string;
      return { admin: adminClient(http.origin, key), key };
    }

    async function toolNames(http: HttpGateway, key: string): Promise<string[]> {
      const { client } = await connectHttpClient(http, bearer(key));
      const { tools } = await client.listTools();
      return tools.map((tool) => tool.name);
    }

    it('a new tenant and its key work on /mcp at once, and the key is shown only when created', async () => {
      const { http, root } = await started();
      const { key } = await tenantWithAdmin(root, http, 'blue');
      expect(key).toMatch(/^mcpl_/);
      expect(await toolNames(http, key)).toContain('kb__echo');
      const listed = await root('GET', '/tenants/blue/api-keys');
      expect(JSON.stringify(listed.body)).not.toContain(key);
      expect(JSON.stringify(listed.body)).not.toContain('hash');
    });

    it('the key lifecycle: rotate with grace, suspend, resume, revoke (also for an open session), expiry', async () => {
      const { http, root } = await started();
      const { key: first } = await tenantWithAdmin(root, http, 'blue');
      const keyId = (await root('GET', '/tenants/blue/api-keys')).body.apiKeys as { id: string }[];
      const firstId = keyId[0]?.id as string;

      const rotated = await root('POST', `/tenants/blue/api-keys/${firstId}/rotate`, { graceSeconds: 4 });
      expect(rotated.status).toBe(201);
      const second = (rotated.body.current as { key: string; id: string }).key;
      const secondId = (rotated.body.current as { id: string }).id;
      // Both work during the grace period; the old one fails after it.
      expect(await toolNames(http, first)).toContain('kb__echo');
      expect(await toolNames(http, second)).toContain('kb__echo');
      const graceUntil = Date.parse((rotated.body.previous as { graceUntil: string }).graceUntil);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, graceUntil - Date.now()) + 200));
      const member = adminClient(http.origin, first);
      expect((await member('GET', '/tenants/blue')).status).toBe(401);

      expect((await root('POST', `/tenants/blue/api-keys/${secondId}/suspend`)).status).toBe(200);
      expect((await adminClient(http.origin, second)('GET', '/tenants/blue')).status).toBe(401);
      expect((await root('POST', `/tenants/blue/api-keys/${secondId}/resume`)).status).toBe(200);
      const session = await openRawSession(http, bearer(second));

      const revoked = await root('DELETE', `/tenants/blue/api-keys/${secondId}`);
      expect(revoked.status).toBe(200);
      expect(revoked.body.state).toBe('revoked');
      const call = await postToSession(http, session, bearer(second), {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
      });
      expect(call.status).toBe(401);

      const expiring = await root('POST', '/tenants/blue/api-keys', {
        name: 'short',
        expiresAt: new Date(Date.now() + 3_000).toISOString(),
      });
      const short = expiring.body.key as string;
      expect(await toolNames(http, short)).toContain('kb__echo');
      await new Promise((resolve) => setTimeout(resolve, 3_200));
      const late = await fetch(http.url, {
        method: 'POST',
        headers: { ...bearer(short), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(late.status).toBe(401);
    });

    it('a tenant admin of one tenant gets 404 for every resource of another, on every endpoint; a member gets 403', async () => {
      const { http, root } = await started();
      const { admin: blue } = await tenantWithAdmin(root, http, 'blue');
      await tenantWithAdmin(root, http, 'red');
      const redKey = ((await root('GET', '/tenants/red/api-keys')).body.apiKeys as { id: string }[])[0]?.id;
      const grant = await root('POST', '/tenants/red/grants', {
        server: 'kb',
        granteeTenant: 'acme',
        access: 'read',
      });
      const grantId = grant.body.id as string;
      const member = adminClient(
        http.origin,
        (await root('POST', '/tenants/blue/api-keys', { name: 'member' })).body.key as string,
      );
      const foreign: [string, string, unknown?][] = [
        ['GET', '/tenants/red'],
        ['PATCH', '/tenants/red', { name: 'x' }],
        ['DELETE', '/tenants/red'],
        ['GET', '/tenants/red/export'],
        ['GET', '/tenants/red/projects'],
        ['POST', '/tenants/red/projects', { name: 'p' }],
        ['GET', '/tenants/red/api-keys'],
        ['POST', '/tenants/red/api-keys', { name: 'k' }],
        ['GET', `/tenants/red/api-keys/${redKey}`],
        ['POST', `/tenants/red/api-keys/${redKey}/rotate`, {}],
        ['POST', `/tenants/red/api-keys/${redKey}/suspend`],
        ['POST', `/tenants/red/api-keys/${redKey}/resume`],
        ['DELETE', `/tenants/red/api-keys/${redKey}`],
        ['GET', '/tenants/red/servers'],
        ['GET', '/tenants/red/servers/kb'],
        ['PUT', '/tenants/red/servers/kb', { env: { DATABASE_URL: 'x' } }],
        ['PATCH', '/tenants/red/servers/kb', { env: { DATABASE_URL: 'x' } }],
        ['DELETE', '/tenants/red/servers/kb'],
        ['GET', '/tenants/red/grants'],
        ['POST', '/tenants/red/grants', { server: 'kb', granteeTenant: 'blue', access: 'full' }],
        ['DELETE', `/tenants/red/grants/${grantId}`],
        ['GET', '/changes?tenant=red'],
      ];
      for (const [method, path, body] of foreign) {
        const answer = await blue(method, path, body);
        expect([method, path, answer.status]).toEqual([method, path, 404]);
        expect(answer.type).toBe('application/problem+json');
        // The same answer as for a tenant that does not exist at all.
        const missing = await blue(
          method,
          path.replace('/tenants/red', '/tenants/nosuch').replace('tenant=red', 'tenant=nosuch'),
          body,
        );
        expect(missing.status).toBe(404);
        expect(missing.body.detail).toBe(answer.body.detail);
        const asMember = await member(method, path, body);
        expect([method, path, asMember.status]).toEqual([method, path, 403]);
      }
      for (const [method, path] of [
        ['GET', '/tenants'],
        ['POST', '/tenants'],
        ['GET', '/status'],
        ['POST', '/reload'],
      ] as const) {
        expect(
          (
            await member(
              method,
              path,
              method === 'POST' && path === '/tenants' ? { id: 'x', name: 'x' } : undefined,
            )
          ).status,
        ).toBe(403);
      }
      // Nothing of red changed through those attempts.
      expect((await root('GET', '/tenants/red')).body.name).toBe('RED');
      expect((await root('GET', `/tenants/red/api-keys/${redKey}`)).body.state).toBe('active');
      // A tenant admin sees only its own tenant in the list, and cannot make tenants.
      expect(((await blue('GET', '/tenants')).body.tenants as { id: string }[]).map((t) => t.id)).toEqual([
        'blue',
      ]);
      // Paging shows it nothing more: blue alone after a cursor before its id, nothing after its own.
      for (const query of ['?limit=1000', '?cursor=a', '?cursor=blue', '?limit=1&cursor=acme'])
        expect(
          ((await blue('GET', `/tenants${query}`)).body.tenants as { id: string }[]).map((t) => t.id),
        ).toEqual(query.includes('cursor=blue') ? [] : ['blue']);
      expect((await blue('POST', '/tenants', { id: 'green', name: 'G' })).status).toBe(403);
    });

    it('lists tenants, keys and projects a page at a time, and refuses a bad page size or cursor with a 400 naming it', async () => {
      const { http, root } = await started();
      for (const id of ['pg-a', 'pg-b', 'pg-c'])
        expect((await root('POST', '/tenants', { id, name: id })).status).toBe(201);
      // Config tenants and stored ones, merged in id order, one per page.
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 20; pages++) {
        const page = await root('GET', `/tenants?limit=1${cursor === undefined ? '' : `&cursor=${cursor}`}`);
        expect(page.status).toBe(200);
        seen.push(...(page.body.tenants as { id: string }[]).map((tenant) => tenant.id));
        cursor = page.body.nextCursor as string | undefined;
        if (cursor === undefined) break;
      }
      const all = ((await root('GET', '/tenants?limit=1000')).body.tenants as { id: string }[]).map(
        (t) => t.id,
      );
      expect(seen).toEqual(all);
      expect(all).toEqual(['acme', 'pg-a', 'pg-b', 'pg-c']);
      expect((await root('GET', '/tenants?limit=2&cursor=pg-a')).body).toEqual({
        tenants: [expect.objectContaining({ id: 'pg-b' }), expect.objectContaining({ id: 'pg-c' })],
      });

      const { admin } = await tenantWithAdmin(root, http, 'pg-keys');
      for (const name of ['k1', 'k2', 'k3'])
        await root('POST', '/tenants/pg-keys/api-keys', { name, role: 'member' });
      const first = await admin('GET', '/tenants/pg-keys/api-keys?limit=2');
      expect((first.body.apiKeys as { name: string }[]).map((key) => key.name)).toEqual(['admin', 'k1']);
      const second = await admin(
        'GET',
        `/tenants/pg-keys/api-keys?limit=2&cursor=${first.body.nextCursor as string}`,
      );
      expect((second.body.apiKeys as { name: string }[]).map((key) => key.name)).toEqual(['k2', 'k3']);
      expect(second.body.nextCursor).toBeUndefined();

      // Another tenant's key as a cursor is refused exactly as a made-up one.
      const foreign = ((await root('GET', '/tenants/pg-a/api-keys')).body.apiKeys as { id: string }[]).length;
      expect(foreign).toBe(0);
      await root('POST', '/tenants/pg-a/api-keys', { name: 'theirs', role: 'member' });
      const theirs = ((await root('GET', '/tenants/pg-a/api-keys')).body.apiKeys as { id: string }[])[0]
        ?.id as string;
      const viaForeign = await admin('GET', `/tenants/pg-keys/api-keys?cursor=${theirs}`);
      const viaUnknown = await admin('GET', '/tenants/pg-keys/api-keys?cursor=unknownkey12');
      expect(viaForeign.status).toBe(400);
      expect(viaForeign.body.detail).toBe(viaUnknown.body.detail);
      // And a tenant admin cannot page another tenant's keys at all.
      expect((await admin('GET', '/tenants/pg-a/api-keys?limit=1')).status).toBe(404);

      // Projects page the same way, and refuse another tenant's project as a cursor alike.
      for (const id of ['pr-1', 'pr-2', 'pr-3'])
        expect((await admin('POST', '/tenants/pg-keys/projects', { id, name: id })).status).toBe(201);
      const projects = await admin('GET', '/tenants/pg-keys/projects?limit=2');
      expect((projects.body.projects as { id: string }[]).map((project) => project.id)).toEqual([
        'pr-1',
        'pr-2',
      ]);
      const rest = await admin(
        'GET',
        `/tenants/pg-keys/projects?limit=2&cursor=${projects.body.nextCursor as string}`,
      );
      expect((rest.body.projects as { id: string }[]).map((project) => project.id)).toEqual(['pr-3']);
      expect(rest.body.nextCursor).toBeUndefined();
      expect((await root('POST', '/tenants/pg-a/projects', { id: 'pa-theirs', name: 'x' })).status).toBe(201);
      const viaForeignProject = await admin('GET', '/tenants/pg-keys/projects?cursor=pa-theirs');
      const viaUnknownProject = await admin('GET', '/tenants/pg-keys/projects?cursor=pr-nope');
      expect(viaForeignProject.status).toBe(400);
      expect(viaForeignProject.body.detail).toBe(viaUnknownProject.body.detail);
      expect((await admin('GET', '/tenants/pg-a/projects?limit=1')).status).toBe(404);
      expect((await admin('GET', '/tenants/pg-keys/projects?limit=0')).status).toBe(400);

      for (const query of [
        'limit=0',
        'limit=1001',
        'limit=ten',
        'cursor=',
        'cursor=..%2Fx',
        `cursor=${'a'.repeat(201)}`,
      ]) {
        const refused = await root('GET', `/tenants?${query}`);
        expect(refused.status, query).toBe(400);
        const field = query.split('=')[0] as string;
        expect(
          (refused.body.errors as { path: string }[]).map((error) => error.path),
          query,
        ).toContain(field);
      }
    });

    it('tenants declared in the config file are listed but refuse changes with 409 naming the file', async () => {
      const { root } = await started();
      const listed = (await root('GET', '/tenants')).body.tenants as { id: string; managedBy: string }[];
      expect(listed).toContainEqual(expect.objectContaining({ id: 'acme', managedBy: 'config' }));
      for (const [method, path, body] of [
        ['PATCH', '/tenants/acme', { name: 'x' }],
        ['DELETE', '/tenants/acme'],
        ['POST', '/tenants/acme/api-keys', { name: 'k' }],
        ['PUT', '/tenants/acme/servers/kb', { env: {} }],
        ['POST', '/tenants', { id: 'acme', name: 'again' }],
      ] as const) {
        const answer = await root(method, path, body);
        expect([method, path, answer.status]).toEqual([method, path, 409]);
        expect(answer.body.code).toBe('CONFIG_MANAGED');
        expect(answer.body.detail).toContain('servers.config.yaml');
      }
    });

    it('bad requests get a problem naming each field, and unknown endpoints a 404 problem', async () => {
      const { root } = await started();
      const bad = await root('POST', '/tenants', { id: 'Not An Id', name: '', extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.type).toBe('application/problem+json');
      expect((bad.body.errors as { path: string }[]).map((error) => error.path).sort()).toEqual([
        '',
        'id',
        'name',
      ]);
      expect((await root('GET', '/nothing-here')).status).toBe(404);
      expect((await root('POST', '/tenants/blue/api-keys/x/rotate', { graceSeconds: -1 })).status).toBe(400);
      const unauthenticated = await adminClient(
        root.length === 0 ? '' : (await started()).http.origin,
        undefined,
      )('GET', '/tenants');
      expect(unauthenticated.status).toBe(401);
    });

    it('a tenant server config is validated by starting the server, stored encrypted, masked, and used by a new pool', async () => {
      const { http, root, store } = await started();
      const { key } = await tenantWithAdmin(root, http, 'blue');
      const canary = `canary-${Math.random().toString(36).slice(2)}`;
      const { client } = await connectHttpClient(http, bearer(key));
      const before = textJson<{ values: Record<string, string | null> }>(
        await client.callTool({ name: 'kb__env', arguments: { names: ['DATABASE_URL'] } }),
      );
      expect(before.values.DATABASE_URL).toBeNull();

      // A config that cannot start is refused with the child's error, secrets scrubbed; nothing is stored.
      const refused = await root('PUT', '/tenants/blue/servers/kb', {
        env: { FIXTURE_FAIL_STARTUP: '1', DATABASE_URL: canary },
      });
      expect(refused.status).toBe(422);
      expect(refused.body.code).toBe('SERVER_CONFIG_REJECTED');
      expect(JSON.stringify(refused.body)).not.toContain(canary);
      expect((await root('GET', '/tenants/blue/servers/kb')).status).toBe(404);

      const stored = await root('PUT', '/tenants/blue/servers/kb', {
        env: { DATABASE_URL: canary, MODE: 'plain' },
      });
      expect(stored.status).toBe(200);
      expect(stored.body.env).toMatchObject({ MODE: 'plain', DATABASE_URL: { set: true } });
      expect(JSON.stringify(stored.body)).not.toContain(canary);
      expect(JSON.stringify((await root('GET', '/tenants/blue/servers/kb')).body)).not.toContain(canary);
      expect(JSON.stringify((await root('GET', '/tenants/blue/export')).body)).not.toContain(canary);
      expect(JSON.stringify((await root('GET', '/changes?tenant=blue')).body)).not.toContain(canary);

      // New calls reach a pool started with the tenant's own value.
      await eventually(async () => {
        const after = textJson<{ values: Record<string, string | null> }>(
          await client.callTool({ name: 'kb__env', arguments: { names: ['DATABASE_URL'] } }),
        );
        return after.values.DATABASE_URL === canary;
      });
      // Another tenant's children never see it.
      const { key: redKey } = await tenantWithAdmin(root, http, 'red');
      const { client: red } = await connectHttpClient(http, bearer(redKey));
      const redEnv = await red.callTool({ name: 'kb__env', arguments: { names: ['DATABASE_URL'] } });
      expect(JSON.stringify(redEnv)).not.toContain(canary);
      expect((await store.serverConfigs.get('blue', 'kb'))?.env.DATABASE_URL).toMatchObject({ set: true });

      // Deleting it falls back to the global config.
      expect((await root('DELETE', '/tenants/blue/servers/kb')).status).toBe(204);
      await eventually(async () => {
        const after = textJson<{ values: Record<string, string | null> }>(
          await client.callTool({ name: 'kb__env', arguments: { names: ['DATABASE_URL'] } }),
        );
        return after.values.DATABASE_URL === null;
      });
      // Only tenant-mode servers take a tenant's config.
      expect((await root('PUT', '/tenants/blue/servers/shared', { env: {} })).status).toBe(400);
    });

    it('suspending a tenant closes its sessions and refuses its keys; deleting it purges every row', async () => {
      const { http, root, store } = await started();
      const { key } = await tenantWithAdmin(root, http, 'blue');
      await tenantWithAdmin(root, http, 'red');
      await root('POST', '/tenants/blue/projects', { name: 'web' });
      const session = await openRawSession(http, bearer(key));
      expect((await root('PATCH', '/tenants/blue', { status: 'suspended' })).status).toBe(200);
      const call = await postToSession(http, session, bearer(key), {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/list',
      });
      expect(call.status).toBe(401);
      expect((await root('PATCH', '/tenants/blue', { status: 'active' })).status).toBe(200);
      expect(await toolNames(http, key)).toContain('kb__echo');

      const exported = await root('GET', '/tenants/blue/export');
      expect(exported.status).toBe(200);
      expect(JSON.stringify(exported.body)).toContain('web');
      expect(JSON.stringify(exported.body)).not.toContain('"red"');

      expect((await root('DELETE', '/tenants/blue')).status).toBe(204);
      expect((await root('GET', '/tenants/blue')).status).toBe(404);
      expect(await store.tenants.export('blue')).toBeUndefined();
      expect(await store.apiKeys.list('blue')).toEqual([]);
      expect(await store.projects.list('blue')).toEqual([]);
      expect((await store.tenants.get('red'))?.status).toBe('active');
    });

    it('a secret canary reaches no log line, even from a child that prints its environment or fails with it', async () => {
      const store = await backend.open();
      const rootKey = await platformKey(store);
      const captured = capturedLog('debug');
      const http = await startHttpGateway(
        {
          ...CONFIG,
          servers: {
            ...CONFIG.servers,
            kb: fixtureServer({ mode: 'tenant', env: { FIXTURE_PRINT_ENV: '1' } }),
          },
        },
        { store, log: captured.log },
      );
      const root = adminClient(http.origin, rootKey);
      const { key } = await tenantWithAdmin(root, http, 'blue');
      const canary = `canary-${Math.random().toString(36).slice(2)}`;
      expect(
        (
          await root('PUT', '/tenants/blue/servers/kb', {
            env: { FIXTURE_FAIL_STARTUP: '1', API_TOKEN: canary },
          })
        ).status,
      ).toBe(422);
      expect((await root('PUT', '/tenants/blue/servers/kb', { env: { API_TOKEN: canary } })).status).toBe(
        200,
      );
      const { client } = await connectHttpClient(http, bearer(key));
      await eventually(async () => {
        const seen = textJson<{ values: Record<string, string | null> }>(
          await client.callTool({ name: 'kb__env', arguments: { names: ['API_TOKEN'] } }),
        );
        return seen.values.API_TOKEN === canary;
      });
      expect(captured.text()).toContain('API_TOKEN');
      expect(captured.text()).not.toContain(canary);
    });

    it('serves its OpenAPI document without a credential', async () => {
      const { http } = await started();
      const response = await fetch(new URL('/admin/v1/openapi.json', http.origin));
      expect(response.status).toBe(200);
      const document = (await response.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(document.openapi).toBe('3.1.0');
      expect(Object.keys(document.paths)).toContain('/tenants/{id}/api-keys/{keyId}/rotate');
    });
  });
}
