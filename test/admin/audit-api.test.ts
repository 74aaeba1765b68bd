import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { openAuditLog } from '../../src/audit/open-audit-log.ts';
import { AuditSchema } from '../../src/audit/audit-schema.ts';
import { silentLogger } from '../../src/log.ts';
import type { Store } from '../../src/store/store.ts';
import { tempDir } from '../audit/audit-fixture.ts';
import {
  bearer,
  connectHttpClient,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';
import { adminClient, platformKey, postgresBackend, sqliteBackend, type Backend } from './admin-harness.ts';

const CONFIG = {
  servers: { fx: fixtureServer({ mode: 'tenant', pool: { min: 0, max: 1, maxInflight: 8 } }) },
};

type Api = ReturnType<typeof adminClient>;
type Records = { records: Record<string, unknown>[]; nextCursor?: string };

const SINKS = ['store', 'file'] as const;

for (const backend of [sqliteBackend(), postgresBackend()] satisfies Backend[]) {
  for (const sink of SINKS) {
    describe(`GET /admin/v1/audit on ${backend.name}, records in the ${sink}`, () => {
      afterEach(async () => {
        expect(await stopHttpGateways()).toEqual([]);
      });
      afterAll(async () => {
        await backend.cleanup();
      });

      async function started(dir: string) {
        const store: Store = await backend.open();
        const audit = await openAuditLog(
          AuditSchema.parse({
            enabled: true,
            dir,
            sinks: [sink],
            sync: false,
            flushMs: 10,
            checkpointEvery: 5,
          }),
          { env: {}, log: silentLogger(), store },
        );
        const http = await startHttpGateway(CONFIG, { store, audit, warm: false });
        const root = adminClient(http.origin, await platformKey(store));
        return { http, root, store };
      }

      async function tenant(root: Api, http: HttpGateway, id: string) {
        expect((await root('POST', '/tenants', { id, name: id })).status).toBe(201);
        const key = async (role: string) =>
          (await root('POST', `/tenants/${id}/api-keys`, { name: role, role })).body.key as string;
        const adminKey = await key('tenant-admin');
        return { admin: adminClient(http.origin, adminKey), adminKey, member: await key('member') };
      }

      async function calls(http: HttpGateway, key: string, texts: readonly string[]) {
        const { client } = await connectHttpClient(http, bearer(key));
        for (const text of texts) await client.callTool({ name: 'fx__echo', arguments: { text } });
        await client.callTool({ name: 'fx__env', arguments: { names: ['HOME'] } });
      }

      const toolCalls = (body: Record<string, unknown>) =>
        (body as Records).records.filter((record) => record.kind === 'tool-call');

      it('a platform admin sees every tenant, a tenant admin only its own, another tenant is 404, a member 403', async () => {
        await using tmp = await tempDir();
        const { http, root } = await started(tmp.dir);
        const a = await tenant(root, http, 'alpha');
        const b = await tenant(root, http, 'beta');
        await calls(http, a.member, ['canary-alpha-1', 'canary-alpha-2']);
        await calls(http, b.member, ['b1']);

        const all = await root('GET', '/audit?limit=1000');
        expect(all.status).toBe(200);
        expect(new Set(toolCalls(all.body).map((record) => record.tenant))).toEqual(
          new Set(['alpha', 'beta']),
        );
        expect(toolCalls(all.body)).toHaveLength(5);
        const seqs = (all.body as Records).records.map((record) => record.seq as number);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        // No arguments kept by default: only their digest.
        expect(JSON.stringify(all.body)).not.toContain('canary-alpha');

        const own = await a.admin('GET', '/audit');
        expect(own.status).toBe(200);
        expect(toolCalls(own.body).map((record) => record.tenant)).toEqual(['alpha', 'alpha', 'alpha']);
        expect(new Set((own.body as Records).records.map((record) => record.tenant))).toEqual(
          new Set(['alpha']),
        );
        expect((await a.admin('GET', '/audit?tenant=alpha')).body).toEqual(own.body);

        const foreign = await a.admin('GET', '/audit?tenant=beta');
        const missing = await a.admin('GET', '/audit?tenant=nosuch');
        expect(foreign.status).toBe(404);
        expect(foreign.type).toBe('application/problem+json');
        expect(foreign.body).toEqual(missing.body);

        const member = await adminClient(http.origin, a.member)('GET', '/audit');
        expect(member.status).toBe(403);
        expect(member.type).toBe('application/problem+json');
        expect((await adminClient(http.origin, undefined)('GET', '/audit')).status).toBe(401);

        // A platform admin narrows to one tenant with the same filter.
        const beta = await root('GET', '/audit?tenant=beta');
        expect(toolCalls(beta.body).map((record) => record.tool)).toEqual(['fx__echo', 'fx__env']);
      });

      it('pages with a cursor through every record once, and filters by tool and time', async () => {
        await using tmp = await tempDir();
        const { http, root } = await started(tmp.dir);
        const a = await tenant(root, http, 'alpha');
        await calls(http, a.member, ['1', '2', '3', '4']);
        const whole = ((await a.admin('GET', '/audit?limit=1000')).body as Records).records;
        expect(toolCalls({ records: whole })).toHaveLength(5);

        const paged: unknown[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < 10; page++) {
          const { status, body } = await a.admin('GET', `/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
          expect(status).toBe(200);
          paged.push(...(body as Records).records);
          cursor = (body as Records).nextCursor;
          if (cursor === undefined) break;
        }
        expect(paged).toEqual(whole);

        const env = ((await a.admin('GET', '/audit?tool=fx__env')).body as Records).records;
        expect(env.map((record) => record.tool)).toEqual(['fx__env']);
        const third = toolCalls({ records: whole })[2] as Record<string, unknown>;
        const window = await a.admin(
          'GET',
          `/audit?since=${encodeURIComponent(third.time as string)}&until=${encodeURIComponent(new Date(Date.parse(third.time as string) + 1).toISOString())}`,
        );
        expect((window.body as Records).records.map((record) => record.seq)).toContain(third.seq);
        expect((window.body as Records).records.every((record) => record.time === third.time)).toBe(true);

        for (const query of ['cursor=abc', 'limit=0', 'since=yesterday', 'limit=5000']) {
          const bad = await a.admin('GET', `/audit?${query}`);
          expect(bad.status, query).toBe(400);
          expect(bad.type).toBe('application/problem+json');
        }
      });

      it('every change asked of the admin API is recorded, a refused one too, without its body', async () => {
        await using tmp = await tempDir();
        const { http, root } = await started(tmp.dir);
        const a = await tenant(root, http, 'alpha');
        expect((await a.admin('POST', '/tenants', { id: 'sneaky', name: 'secret-name-canary' })).status).toBe(
          403,
        );
        const { body } = await root('GET', '/audit?limit=1000');
        const changes = (body as Records).records.filter((record) => record.kind === 'admin-change');
        expect(changes.map((record) => [record.method, record.resource, record.outcome])).toEqual([
          ['POST /tenants', '/tenants', 'ok'],
          ['POST /tenants/:id/api-keys', '/tenants/alpha/api-keys', 'ok'],
          ['POST /tenants/:id/api-keys', '/tenants/alpha/api-keys', 'ok'],
          ['POST /tenants', '/tenants', 'FORBIDDEN'],
        ]);
        expect(changes[1]).toMatchObject({ tenant: 'alpha', face: 'admin-api' });
        expect(changes[3]?.principal).toMatch(/^key:/);
        expect(changes[3]?.principal).not.toBe(changes[0]?.principal);
        expect(JSON.stringify(body)).not.toContain('secret-name-canary');
        // The tenant admin sees the changes made to its tenant and its own attempts, not the platform's.
        const own = ((await a.admin('GET', '/audit')).body as Records).records;
        expect(
          own.filter((record) => record.kind === 'admin-change').map((record) => record.resource),
        ).toEqual(['/tenants/alpha/api-keys', '/tenants/alpha/api-keys', '/tenants']);
      });

      it('verify reports an intact chain to a platform admin only', async () => {
        await using tmp = await tempDir();
        const { http, root } = await started(tmp.dir);
        const a = await tenant(root, http, 'alpha');
        await calls(http, a.member, ['1', '2', '3', '4', '5', '6']);
        const verified = await root('GET', '/audit/verify');
        expect(verified.status).toBe(200);
        expect(verified.body).toMatchObject({ ok: true, problems: [] });
        expect(verified.body.checked).toBeGreaterThanOrEqual(8);
        expect((await a.admin('GET', '/audit/verify')).status).toBe(403);
        expect((await adminClient(http.origin, a.member)('GET', '/audit/verify')).status).toBe(403);
      });

      if (sink === 'file') {
        it('verify names the first broken seq of an edited file, and its kind', async () => {
          await using tmp = await tempDir();
          const { http, root } = await started(tmp.dir);
          const a = await tenant(root, http, 'alpha');
          await calls(http, a.member, ['1', '2', '3']);
          expect((await root('GET', '/audit/verify')).body).toMatchObject({ ok: true });
          const file = join(tmp.dir, 'audit.jsonl');
          const lines = (await readFile(file, 'utf8')).split('\n');
          const second = JSON.parse(lines[1] as string) as Record<string, unknown>;
          lines[1] = JSON.stringify({ ...second, outcome: 'FORBIDDEN' });
          await writeFile(file, lines.join('\n'));
          const verified = await root('GET', '/audit/verify');
          expect(verified.body).toMatchObject({
            ok: false,
            problems: [
              {
                seq: second.seq,
                kind: 'edited',
                detail: expect.stringContaining('hash mismatch') as unknown,
              },
            ],
          });
        });
      }
    });
  }
}

describe('the audit routes without an audit log', () => {
  const backend = sqliteBackend();
  afterAll(async () => {
    expect(await stopHttpGateways()).toEqual([]);
    await backend.cleanup();
  });

  it('answer 404', async () => {
    const store = await backend.open();
    const http = await startHttpGateway(CONFIG, { store, warm: false });
    const root = adminClient(http.origin, await platformKey(store));
    expect((await root('GET', '/audit')).status).toBe(404);
    expect((await root('GET', '/audit/verify')).status).toBe(404);
  });
});
