/**
 * The built-in `mcplane` server over real HTTP, on both store backends: a tenant admin's session
 * manages its own tenant's server configs and keys as MCP tools, through the same operations as
 * the admin API and through the whole call pipeline (face `admin-mcp`); a member never sees them.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { AuditSchema } from '../../src/audit/audit-schema.ts';
import { openAuditLog } from '../../src/audit/open-audit-log.ts';
import { GuardProfiles } from '../../src/guard/guard-profiles.ts';
import { compilePolicies } from '../../src/guard/policy/load-policies.ts';
import { silentLogger } from '../../src/log.ts';
import {
  bearer,
  connectHttpClient,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { eventually, fixtureServer, testConfig, textJson } from '../support/harness.ts';
import { adminClient, platformKey, postgresBackend, sqliteBackend, type Backend } from './admin-harness.ts';

const CONFIG = {
  servers: { kb: fixtureServer({ mode: 'tenant', pool: { min: 1, max: 1, maxInflight: 8 } }) },
};

const TOOLS = [
  'mcplane__get_server_config',
  'mcplane__list_api_keys',
  'mcplane__register_server_config',
  'mcplane__rotate_api_key',
  'mcplane__update_server_config',
];

type Api = ReturnType<typeof adminClient>;
type Result = { isError?: boolean; structuredContent?: Record<string, unknown>; content: unknown };

function text(result: Result): string {
  return (result.content as { text: string }[]).map((item) => item.text).join('\n');
}

function records(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  describe(`the built-in mcplane server on ${backend.name}`, () => {
    afterEach(async () => {
      expect(await stopHttpGateways()).toEqual([]);
    });
    afterAll(async () => {
      await backend.cleanup();
    });

    async function started(
      input: Record<string, unknown> = CONFIG,
      options: Parameters<typeof startHttpGateway>[1] = {},
    ): Promise<{ http: HttpGateway; root: Api }> {
      const store = await backend.open();
      const rootKey = await platformKey(store);
      const http = await startHttpGateway(input, { ...options, store });
      return { http, root: adminClient(http.origin, rootKey) };
    }

    async function tenant(
      http: HttpGateway,
      root: Api,
      id: string,
    ): Promise<{ admin: Client; member: Client; adminKeyId: string; memberKey: string }> {
      expect((await root('POST', '/tenants', { id, name: id })).status).toBe(201);
      const admin = await root('POST', `/tenants/${id}/api-keys`, { name: 'admin', role: 'tenant-admin' });
      const member = await root('POST', `/tenants/${id}/api-keys`, { name: 'member' });
      return {
        admin: (await connectHttpClient(http, bearer(admin.body.key as string))).client,
        member: (await connectHttpClient(http, bearer(member.body.key as string))).client,
        adminKeyId: admin.body.id as string,
        memberKey: member.body.key as string,
      };
    }

    const call = async (client: Client, name: string, args: Record<string, unknown> = {}) =>
      (await client.callTool({ name: `mcplane__${name}`, arguments: args })) as Result;

    it("a tenant admin's session lists the mcplane tools; a member's does not, and cannot call them", async () => {
      const { http, root } = await started();
      const { admin, member } = await tenant(http, root, 'blue');
      const listed = (await admin.listTools()).tools;
      expect(
        listed
          .map((tool) => tool.name)
          .filter((name) => name.startsWith('mcplane__'))
          .sort(),
      ).toEqual(TOOLS);
      expect(listed.find((tool) => tool.name === 'mcplane__list_api_keys')?.annotations?.readOnlyHint).toBe(
        true,
      );
      const memberTools = (await member.listTools()).tools.map((tool) => tool.name);
      expect(memberTools.some((name) => name.startsWith('mcplane__'))).toBe(false);
      expect(memberTools).toContain('kb__echo');
      // Exactly as for a tool that does not exist.
      const refusal = await member
        .callTool({ name: 'mcplane__list_api_keys', arguments: {} })
        .catch((e: Error) => e);
      const unknown = await member.callTool({ name: 'kb__nosuch', arguments: {} }).catch((e: Error) => e);
      expect(refusal).toBeInstanceOf(Error);
      expect((refusal as Error).message).toBe((unknown as Error).message);
    });

    it('register, get and update a server config: validated by starting the server, secrets masked, used by new calls', async () => {
      const { http, root } = await started();
      const { admin } = await tenant(http, root, 'blue');
      const canary = `canary-${Math.random().toString(36).slice(2)}`;

      const refused = await call(admin, 'register_server_config', {
        server: 'kb',
        env: { FIXTURE_FAIL_STARTUP: '1', API_TOKEN: canary },
      });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toContain('SERVER_CONFIG_REJECTED');
      expect(text(refused)).not.toContain(canary);
      expect(text(await call(admin, 'get_server_config', { server: 'kb' }))).toContain('NOT_FOUND');

      const stored = await call(admin, 'register_server_config', {
        server: 'kb',
        env: { MARK: 'one', API_TOKEN: canary },
      });
      expect(stored.isError).toBeUndefined();
      expect(stored.structuredContent).toMatchObject({ env: { MARK: 'one', API_TOKEN: { set: true } } });
      expect(JSON.stringify(stored)).not.toContain(canary);
      const env = async (): Promise<Record<string, string | null>> =>
        textJson<{ values: Record<string, string | null> }>(
          await admin.callTool({ name: 'kb__env', arguments: { names: ['MARK', 'API_TOKEN'] } }),
        ).values;
      await eventually(async () => (await env()).MARK === 'one');

      const updated = await call(admin, 'update_server_config', { server: 'kb', env: { MARK: 'two' } });
      expect(updated.structuredContent).toMatchObject({ env: { MARK: 'two', API_TOKEN: { set: true } } });
      await eventually(async () => (await env()).MARK === 'two');
      expect((await env()).API_TOKEN).toBe(canary);
      const got = await call(admin, 'get_server_config', { server: 'kb' });
      expect(got.structuredContent).toMatchObject({ tenantId: 'blue', server: 'kb', env: { MARK: 'two' } });
      expect(JSON.stringify(got)).not.toContain(canary);
      // The same record the admin API shows.
      expect((await root('GET', '/tenants/blue/servers/kb')).body).toEqual(got.structuredContent);

      // Bad arguments are a tool error that names them.
      const bad = await call(admin, 'register_server_config', { server: 'kb', env: { 'not a name': 'x' } });
      expect(bad.isError).toBe(true);
      expect(text(bad)).toContain('Invalid arguments');
    });

    it("the tools act only on the session's own tenant", async () => {
      const { http, root } = await started();
      const blue = await tenant(http, root, 'blue');
      const red = await tenant(http, root, 'red');
      expect((await root('PUT', '/tenants/red/servers/kb', { env: { MARK: 'red' } })).status).toBe(200);
      const keys = (await call(blue.admin, 'list_api_keys')).structuredContent?.apiKeys as { id: string }[];
      expect(keys).toHaveLength(2);
      expect(keys.map((key) => key.id)).not.toContain(red.adminKeyId);
      expect(JSON.stringify(keys)).not.toContain('hash');
      // A page at a time, and a key of red as a cursor is refused like any unknown one.
      const first = (await call(blue.admin, 'list_api_keys', { limit: 1 })).structuredContent;
      expect(first?.apiKeys).toEqual([keys[0]]);
      const rest = (
        await call(blue.admin, 'list_api_keys', { limit: 1, cursor: first?.nextCursor as string })
      ).structuredContent;
      expect(rest?.apiKeys).toEqual([keys[1]]);
      expect(rest?.nextCursor).toBeUndefined();
      const viaRed = await call(blue.admin, 'list_api_keys', { cursor: red.adminKeyId });
      expect(viaRed.isError).toBe(true);
      expect(text(viaRed)).toBe(text(await call(blue.admin, 'list_api_keys', { cursor: 'unknownkey12' })));
      expect((await call(blue.admin, 'list_api_keys', { limit: 0 })).isError).toBe(true);
      expect(text(await call(blue.admin, 'get_server_config', { server: 'kb' }))).toContain('NOT_FOUND');
      const foreign = await call(blue.admin, 'rotate_api_key', { keyId: red.adminKeyId });
      expect(foreign.isError).toBe(true);
      expect(text(foreign)).toContain('NOT_FOUND');
      const redKey = await root('GET', `/tenants/red/api-keys/${red.adminKeyId}`);
      expect(redKey.body.state).toBe('active');
    });

    it('a rotated key passes the output guards: redacted by default, returned where guards.servers.mcplane lets it through', async () => {
      const byDefault = await started();
      const blue = await tenant(byDefault.http, byDefault.root, 'blue');
      const keys = (await call(blue.admin, 'list_api_keys')).structuredContent?.apiKeys as {
        id: string;
        name: string;
      }[];
      const memberId = keys.find((key) => key.name === 'member')?.id as string;
      const redacted = await call(blue.admin, 'rotate_api_key', { keyId: memberId, graceSeconds: 60 });
      expect(redacted.isError).toBeUndefined();
      expect(JSON.stringify(redacted)).not.toMatch(/mcpl_[A-Za-z0-9]/);
      // It did rotate: the old key works through its grace period.
      const rotated = await byDefault.root('GET', `/tenants/blue/api-keys/${memberId}`);
      expect(rotated.body.graceUntil).toEqual(expect.any(String));

      const flagged = await started({
        ...CONFIG,
        gateway: { guards: { servers: { mcplane: { detectors: { secrets: { output: 'flag' } } } } } },
      });
      const green = await tenant(flagged.http, flagged.root, 'green');
      const greenKeys = (await call(green.admin, 'list_api_keys')).structuredContent?.apiKeys as {
        id: string;
        name: string;
      }[];
      const greenMember = greenKeys.find((key) => key.name === 'member')?.id as string;
      const shown = await call(green.admin, 'rotate_api_key', { keyId: greenMember, graceSeconds: 0 });
      const current = shown.structuredContent?.current as { key: string; id: string };
      expect(current.key).toMatch(/^mcpl_/);
      const fresh = (await connectHttpClient(flagged.http, bearer(current.key))).client;
      expect((await fresh.listTools()).tools.map((tool) => tool.name)).toContain('kb__echo');
      // The old key is gone at once (grace 0).
      const old = await fetch(flagged.http.url, {
        method: 'POST',
        headers: { ...bearer(green.memberKey), 'content-type': 'application/json' },
        body: '{}',
      });
      expect(old.status).toBe(401);
    });

    it('calls go through the pipeline as face admin-mcp: policy decides them and audit records them', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-admin-mcp-'));
      const policy = `
defaults: { '*': allow }
rules:
  - name: rotate-over-rest-only
    effect: deny
    server: mcplane
    tool: rotate_api_key
    when: "request.face == 'admin-mcp'"
    reason: rotate keys through the admin API
`;
      const audit = await openAuditLog(AuditSchema.parse({ enabled: true, dir, sync: false, flushMs: 10 }), {
        env: {},
        log: silentLogger(),
      });
      const { http, root } = await started(CONFIG, {
        guarding: {
          policies: compilePolicies([{ file: 'test.yaml', text: policy }]),
          profiles: new GuardProfiles(testConfig(CONFIG).gateway.guards),
        },
        audit,
      });
      const blue = await tenant(http, root, 'blue');
      const denied = await blue.admin
        .callTool({ name: 'mcplane__rotate_api_key', arguments: { keyId: blue.adminKeyId } })
        .catch((e: Error) => e);
      expect((denied as Error).message).toContain('rotate keys through the admin API');
      expect((await call(blue.admin, 'list_api_keys')).isError).toBeUndefined();
      await blue.admin.callTool({ name: 'kb__echo', arguments: {} });
      await eventually(() => records(dir).filter((record) => record.kind === 'tool-call').length >= 3);
      const calls = records(dir).filter((record) => record.kind === 'tool-call');
      expect(calls.map((record) => [record.tool, record.face, record.server, record.tenant])).toEqual([
        ['mcplane__rotate_api_key', 'admin-mcp', 'mcplane', 'blue'],
        ['mcplane__list_api_keys', 'admin-mcp', 'mcplane', 'blue'],
        ['kb__echo', 'streamable-http', 'kb', 'blue'],
      ]);
      expect(calls[0]).toMatchObject({ decision: { effect: 'deny', rule: 'rotate-over-rest-only' } });
    });
  });
}
