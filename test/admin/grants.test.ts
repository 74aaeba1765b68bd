/**
 * Sharing between tenants (seed 000) in the data plane, over real HTTP with real fixture
 * processes, on both store backends: a grant lets the grantee use the owner's own instance of a
 * tenant-mode server, name-spaced by the owner, until it is revoked or expires.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditSchema } from '../../src/audit/audit-schema.ts';
import { openAuditLog } from '../../src/audit/open-audit-log.ts';
import { silentLogger } from '../../src/log.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { eventually, fixtureServer, textJson } from '../support/harness.ts';
import { adminClient, platformKey, postgresBackend, sqliteBackend, type Backend } from './admin-harness.ts';

const META = 'dev.mcplane';

/** A config-managed tenant with no servers of its own: all it reaches is what is shared with it. */
const ACME_KEY = newApiKey();

const CONFIG = {
  servers: {
    // One process per tenant pool, so a pid tells whose pool served a call.
    kb: fixtureServer({
      mode: 'tenant',
      pool: { min: 1, max: 1, maxInflight: 8 },
      env: { FIXTURE_READ_ONLY_TOOLS: 'echo,pid' },
    }),
  },
  tenants: { acme: { name: 'Acme (from the config)', servers: [], apiKeys: [ACME_KEY.entry] } },
};

type Api = ReturnType<typeof adminClient>;
type Tenant = { admin: Api; key: string; keyId: string };
type Echo = { meta: Record<string, unknown>; pid: number };

/** How a call was refused (the SDK client rejects with the JSON-RPC error). */
async function refusal(call: Promise<unknown>): Promise<{ code: unknown; message: string }> {
  try {
    await call;
  } catch (error) {
    return { code: (error as { code?: unknown }).code, message: (error as Error).message };
  }
  throw new Error('expected the call to be refused');
}

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`grants in the data plane on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    /** A gateway on a fresh store, and store tenants with a tenant-admin key each. */
    async function started<const Id extends string>(
      ...ids: Id[]
    ): Promise<
      { http: HttpGateway; root: Api; audited: () => Record<string, unknown>[] } & Record<Id, Tenant>
    > {
      const store = await backend.open();
      const rootKey = await platformKey(store);
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-grants-audit-'));
      const audit = await openAuditLog(AuditSchema.parse({ enabled: true, dir, sync: false, flushMs: 10 }), {
        env: {},
        log: silentLogger(),
      });
      const http = await startHttpGateway(CONFIG, { store, audit });
      const root = adminClient(http.origin, rootKey);
      const tenants: Record<string, Tenant> = {};
      for (const id of ids) {
        expect((await root('POST', '/tenants', { id, name: id.toUpperCase() })).status).toBe(201);
        const created = await root('POST', `/tenants/${id}/api-keys`, {
          name: 'admin',
          role: 'tenant-admin',
        });
        expect(created.status).toBe(201);
        const key = created.body.key as string;
        tenants[id] = { admin: adminClient(http.origin, key), key, keyId: created.body.id as string };
      }
      const audited = () =>
        readdirSync(dir)
          .filter((file) => file.endsWith('.jsonl'))
          .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Record<string, unknown>);
      return { http, root, audited, ...(tenants as Record<Id, Tenant>) };
    }

    async function client(http: HttpGateway, tenant: Tenant): Promise<Client> {
      return (await connectHttpClient(http, bearer(tenant.key))).client;
    }

    async function toolNames(client: Client): Promise<string[]> {
      return (await client.listTools()).tools.map((tool) => tool.name);
    }

    async function grant(owner: Tenant, ownerId: string, body: Record<string, unknown>): Promise<string> {
      const made = await owner.admin('POST', `/tenants/${ownerId}/grants`, { server: 'kb', ...body });
      expect(made.status).toBe(201);
      return made.body.id as string;
    }

    it("lists a tenant's grants a page at a time; another tenant's grant is no cursor, and another tenant's list is 404", async () => {
      const { red, blue } = await started('red', 'blue', 'green', 'gold');
      for (const grantee of ['blue', 'green', 'gold'])
        await grant(red, 'red', { granteeTenant: grantee, access: 'read' });
      const theirs = await grant(blue, 'blue', { granteeTenant: 'green', access: 'read' });
      const first = await red.admin('GET', '/tenants/red/grants?limit=2');
      expect(first.status).toBe(200);
      expect((first.body.grants as { granteeTenantId: string }[]).map((g) => g.granteeTenantId)).toEqual([
        'blue',
        'green',
      ]);
      const second = await red.admin(
        'GET',
        `/tenants/red/grants?limit=2&cursor=${first.body.nextCursor as string}`,
      );
      expect((second.body.grants as { granteeTenantId: string }[]).map((g) => g.granteeTenantId)).toEqual([
        'gold',
      ]);
      expect(second.body.nextCursor).toBeUndefined();
      const viaForeign = await red.admin('GET', `/tenants/red/grants?cursor=${theirs}`);
      const viaUnknown = await red.admin('GET', '/tenants/red/grants?cursor=no-such-grant');
      expect(viaForeign.status).toBe(400);
      expect(viaForeign.body.detail).toBe(viaUnknown.body.detail);
      expect((await red.admin('GET', '/tenants/blue/grants')).status).toBe(404);
      expect((await red.admin('GET', '/tenants/red/grants?limit=0')).status).toBe(400);
    });

    it('a read grant shares only the read-only tools, and the prompts and resources, of the owner, named by the owner', async () => {
      const { http, red, blue, green } = await started('red', 'blue', 'green');
      await grant(red, 'red', { granteeTenant: 'blue', access: 'read' });
      const blueClient = await client(http, blue);
      const tools = await toolNames(blueClient);
      expect(tools.filter((name) => name.startsWith('red.')).sort()).toEqual(['red.kb__echo', 'red.kb__pid']);
      // The grantee keeps its own instance of the server, whole.
      expect(tools).toContain('kb__env');
      expect(tools).toContain('kb__echo');
      const prompts = (await blueClient.listPrompts()).prompts.map((prompt) => prompt.name);
      expect(prompts).toContain('red.kb__greet');
      const greeting = await blueClient.getPrompt({ name: 'red.kb__greet', arguments: { name: 'ann' } });
      expect(JSON.stringify(greeting.messages)).toContain('Hello, ann!');

      // A tool the grant does not share is unknown, exactly as one that does not exist.
      const hidden = await refusal(
        blueClient.callTool({ name: 'red.kb__env', arguments: { names: ['PATH'] } }),
      );
      expect(hidden.message).toContain('Unknown tool');
      expect(await refusal(blueClient.callTool({ name: 'red.kb__nosuch', arguments: {} }))).toEqual(hidden);

      // A third tenant sees nothing of the grant, and cannot call through it.
      const greenClient = await client(http, green);
      expect((await toolNames(greenClient)).some((name) => name.startsWith('red.'))).toBe(false);
      expect(
        (await refusal(greenClient.callTool({ name: 'red.kb__echo', arguments: {} }))).message,
      ).toContain('Unknown tool');
    });

    it("calls run on the owner's pool with the owner's config, carrying the grantee's identity, and a full grant shares every tool", async () => {
      const { http, red, blue, audited } = await started('red', 'blue');
      const stored = await red.admin('PUT', '/tenants/red/servers/kb', { env: { OWNER_MARK: 'red-value' } });
      expect(stored.status).toBe(200);
      await grant(red, 'red', { granteeTenant: 'blue', access: 'full' });
      const blueClient = await client(http, blue);
      const redClient = await client(http, red);
      const tools = await toolNames(blueClient);
      const shared = tools.filter((name) => name.startsWith('red.kb__'));
      expect(shared.map((name) => name.slice('red.kb__'.length)).sort()).toEqual(
        tools
          .filter((name) => name.startsWith('kb__'))
          .map((name) => name.slice('kb__'.length))
          .sort(),
      );

      const env = (client: Client, name: string) =>
        client
          .callTool({ name, arguments: { names: ['OWNER_MARK'] } })
          .then((result) => textJson<{ values: Record<string, string | null> }>(result).values.OWNER_MARK);
      expect(await env(blueClient, 'red.kb__env')).toBe('red-value');
      expect(await env(blueClient, 'kb__env')).toBeNull();

      const echo = (client: Client, name: string) =>
        client.callTool({ name, arguments: { text: 'hi' } }).then((result) => textJson<Echo>(result));
      const viaGrant = await echo(blueClient, 'red.kb__echo');
      const ownerOwn = await echo(redClient, 'kb__echo');
      const granteeOwn = await echo(blueClient, 'kb__echo');
      expect(viaGrant.pid).toBe(ownerOwn.pid);
      expect(viaGrant.pid).not.toBe(granteeOwn.pid);
      // The session is the grantee's, and so is the identity the owner's server is told.
      expect(viaGrant.meta[`${META}/tenant`]).toBe('blue');
      expect(viaGrant.meta[`${META}/principal`]).toBe(`key:${blue.keyId}`);
      expect(viaGrant.meta[`${META}/session`]).toBe(granteeOwn.meta[`${META}/session`]);
      expect(ownerOwn.meta[`${META}/tenant`]).toBe('red');
      // Audited as the grantee's call, to the real server, naming the owner whose instance served it.
      const viaShare = () => audited().filter((record) => record.tool === 'red.kb__echo');
      await eventually(() => viaShare().length === 1);
      expect(viaShare()[0]).toMatchObject({
        tenant: 'blue',
        server: 'kb',
        serverOwner: 'red',
        outcome: 'ok',
      });
      const own = audited().find((record) => record.tool === 'kb__echo' && record.tenant === 'red');
      expect(own?.serverOwner).toBeUndefined();
    });

    it('revoking a grant removes its tools live with list_changed, while a call in flight finishes', async () => {
      const { http, red, blue } = await started('red', 'blue');
      const grantId = await grant(red, 'red', { granteeTenant: 'blue', access: 'full' });
      const blueClient = await client(http, blue);
      let heard = 0;
      blueClient.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
      expect(await toolNames(blueClient)).toContain('red.kb__slow');

      const inFlight = blueClient.callTool({ name: 'red.kb__slow', arguments: { ms: 1_500 } });
      // The call is on the owner's process before the grant goes.
      await eventually(() => http.gateway.inflight() === 1);
      heard = 0;
      const revoked = await red.admin('DELETE', `/tenants/red/grants/${grantId}`);
      expect(revoked.status).toBe(200);
      await eventually(() => heard > 0);
      expect((await toolNames(blueClient)).some((name) => name.startsWith('red.'))).toBe(false);
      expect((await refusal(blueClient.callTool({ name: 'red.kb__echo', arguments: {} }))).message).toContain(
        'Unknown tool',
      );
      expect(JSON.stringify(await inFlight)).toContain('done');
    });

    it('a grant that expires disappears live with list_changed, with no store change to announce it', async () => {
      const { http, red, blue } = await started('red', 'blue');
      const blueClient = await client(http, blue);
      let heard = 0;
      blueClient.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
      // Generous, so that a loaded machine still lists it before it expires.
      const expiresAt = new Date(Date.now() + 4_000).toISOString();
      await grant(red, 'red', { granteeTenant: 'blue', access: 'read', expiresAt });
      expect(await toolNames(blueClient)).toContain('red.kb__echo');
      await eventually(() => heard > 0);
      heard = 0;
      await eventually(() => heard > 0);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(expiresAt));
      expect((await toolNames(blueClient)).some((name) => name.startsWith('red.'))).toBe(false);
      expect((await refusal(blueClient.callTool({ name: 'red.kb__echo', arguments: {} }))).message).toContain(
        'Unknown tool',
      );
    });

    it('a grantee cannot reshare without allowResharing; with it, a reshare serves the owner instance and ends with its grant', async () => {
      const { http, red, blue, green } = await started('red', 'blue', 'green');
      const closed = await grant(red, 'red', { granteeTenant: 'blue', access: 'read' });
      const refused = await blue.admin('POST', '/tenants/blue/grants', {
        server: 'kb',
        granteeTenant: 'green',
        access: 'read',
        parentGrantId: closed,
      });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('RESHARE_FORBIDDEN');
      const greenClient = await client(http, green);
      expect((await toolNames(greenClient)).some((name) => name.includes('.'))).toBe(false);

      expect((await red.admin('DELETE', `/tenants/red/grants/${closed}`)).status).toBe(200);
      const open = await grant(red, 'red', { granteeTenant: 'blue', access: 'read', allowResharing: true });
      // Before the reshare: the API answers once the change is applied, and so announced.
      let heard = 0;
      greenClient.setNotificationHandler(ToolListChangedNotificationSchema, () => void heard++);
      const reshared = await blue.admin('POST', '/tenants/blue/grants', {
        server: 'kb',
        granteeTenant: 'green',
        access: 'read',
        parentGrantId: open,
      });
      expect(reshared.status).toBe(201);
      expect(reshared.body.ownerTenantId).toBe('red');
      await eventually(() => heard > 0);
      expect((await toolNames(greenClient)).filter((name) => name.includes('.')).sort()).toEqual([
        'red.kb__echo',
        'red.kb__pid',
      ]);
      const redPid = textJson<Echo>(
        await (await client(http, red)).callTool({ name: 'kb__echo', arguments: {} }),
      ).pid;
      const viaReshare = textJson<Echo>(await greenClient.callTool({ name: 'red.kb__echo', arguments: {} }));
      expect(viaReshare.pid).toBe(redPid);
      expect(viaReshare.meta[`${META}/tenant`]).toBe('green');

      heard = 0;
      expect((await red.admin('DELETE', `/tenants/red/grants/${open}`)).status).toBe(200);
      await eventually(() => heard > 0);
      expect((await toolNames(greenClient)).some((name) => name.includes('.'))).toBe(false);
    });

    it("a config-managed tenant can be a grantee; its subscriptions on the owner's pool end with the grant", async () => {
      const { http, red } = await started('red');
      const grantId = await grant(red, 'red', { granteeTenant: 'acme', access: 'full' });
      const acme = (await connectHttpClient(http, bearer(ACME_KEY.key))).client;
      expect((await toolNames(acme)).every((name) => name.startsWith('red.kb__'))).toBe(true);
      const uri = 'fixture://static/1';
      await acme.subscribeResource({ uri });
      // Subscriptions are per process: the owner's own process now holds one.
      const redClient = await client(http, red);
      const touched = async () =>
        textJson<{ subscribed: boolean }>(await redClient.callTool({ name: 'kb__touch', arguments: { uri } }))
          .subscribed;
      expect(await touched()).toBe(true);
      expect((await red.admin('DELETE', `/tenants/red/grants/${grantId}`)).status).toBe(200);
      await eventually(async () => !(await touched()));
      expect(await toolNames(acme)).toEqual([]);
    });

    it('an explicit tool list in a read grant shares exactly those tools', async () => {
      const { http, red, blue } = await started('red', 'blue');
      await grant(red, 'red', { granteeTenant: 'blue', access: 'read', tools: ['env'] });
      const blueClient = await client(http, blue);
      expect((await toolNames(blueClient)).filter((name) => name.startsWith('red.'))).toEqual([
        'red.kb__env',
      ]);
      expect((await refusal(blueClient.callTool({ name: 'red.kb__echo', arguments: {} }))).message).toContain(
        'Unknown tool',
      );
    });

    it("the owner's change log shows a grant's creation, its first use of the day once, and its revocation", async () => {
      const { http, red, blue } = await started('red', 'blue');
      const grantId = await grant(red, 'red', { granteeTenant: 'blue', access: 'read' });
      const blueClient = await client(http, blue);
      // Lists are no use of the grant; calls are, and only the first is written.
      await blueClient.listTools();
      await blueClient.callTool({ name: 'red.kb__echo', arguments: {} });
      await blueClient.callTool({ name: 'red.kb__pid', arguments: {} });
      const actions = async () =>
        ((await red.admin('GET', '/changes?tenant=red')).body.changes as { action: string; target: string }[])
          .filter((change) => change.target === `grant:${grantId}`)
          .map((change) => change.action);
      await eventually(async () => (await actions()).includes('grant.use'));
      expect((await red.admin('DELETE', `/tenants/red/grants/${grantId}`)).status).toBe(200);
      expect(await actions()).toEqual(['grant.create', 'grant.use', 'grant.revoke']);
      const use = (
        (await red.admin('GET', '/changes?tenant=red')).body.changes as Record<string, unknown>[]
      ).find((change) => change.action === 'grant.use');
      expect(use).toMatchObject({
        actor: `key:${blue.keyId}`,
        details: { server: 'kb', granteeTenantId: 'blue' },
      });
    });
  });
}
