/**
 * Graceful degradation over real fixture processes and real HTTP: a fallback server serves a
 * down server's calls, a stale copy serves a read-only tool or resource while its server is
 * down, and aggregated lists leave a down server out and name it. Each is marked in `_meta`.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { silentLogger } from '../../src/log.ts';
import { signingKey } from '../audit/audit-fixture.ts';
import { MemorySink } from '../audit/memory-sink.ts';
import { flagPath, rpcFailure, tempDir, textOf, twoTenants } from './resilience-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const META = 'dev.mcplane';

/** The arguments the echo tool says it received. */
function argumentsOf(result: unknown): unknown {
  return (JSON.parse(textOf(result)) as { arguments: unknown }).arguments;
}

/** Takes a server down: its restarts fail while the flag file exists, and its processes are killed. */
async function takeDown(http: HttpGateway, server: string, flag: string): Promise<void> {
  writeFileSync(flag, '');
  const upstream = http.gateway.servers.get(server);
  for (const pid of upstream?.pids() ?? []) process.kill(pid, 'SIGKILL');
  await eventually(() => (upstream?.pids().length ?? 0) === 0 || upstream?.reachable('acme') === false);
}

describe('fallbacks', () => {
  it('a down server’s tool is served by its fallback, with the argument mapping, marked in _meta', async () => {
    const dir = tempDir();
    try {
      const { acme, tenants } = twoTenants();
      const http = await startHttpGateway({
        servers: {
          primary: fixtureServer({
            env: { FIXTURE_FAIL_STARTUP_FLAG: flagPath(dir) },
            pool: { min: 1, max: 1 },
            toolFallbacks: { echo: { server: 'backup', tool: 'echo', arguments: { text: 'query' } } },
          }),
          backup: fixtureServer({ env: { FIXTURE_NAME: 'backup' } }),
        },
        tenants,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      const fresh = await client.callTool({ name: 'primary__echo', arguments: { query: 'q1', other: 1 } });
      expect(fresh._meta?.[`${META}/servedBy`]).toBeUndefined();
      expect(argumentsOf(fresh)).toEqual({ query: 'q1', other: 1 });

      await takeDown(http, 'primary', flagPath(dir));
      const served = await client.callTool({ name: 'primary__echo', arguments: { query: 'q2', other: 2 } });
      expect(served._meta?.[`${META}/servedBy`]).toBe('fallback');
      expect(served._meta?.[`${META}/fallback`]).toMatchObject({
        primary: 'primary',
        server: 'backup',
        tool: 'echo',
      });
      // Only the mapped argument, under its new name.
      expect(argumentsOf(served)).toEqual({ text: 'q2' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a server that never started falls back too, and without a fallback the caller gets the gateway error', async () => {
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: {
        broken: fixtureServer({ env: { FIXTURE_FAIL_STARTUP: '1' }, fallback: { server: 'backup' } }),
        lonely: fixtureServer({ env: { FIXTURE_FAIL_STARTUP: '1' } }),
        backup: fixtureServer(),
      },
      tenants,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const served = await client.callTool({ name: 'broken__echo', arguments: { text: 'via backup' } });
    expect(served._meta?.[`${META}/servedBy`]).toBe('fallback');
    expect(textOf(served)).toContain('via backup');
    expect((await rpcFailure(client.callTool({ name: 'lonely__echo', arguments: {} }))).code).toBe(-32010);
  });

  it('the audit record says who served the call: the fallback, or a stale copy', async () => {
    const dir = tempDir();
    try {
      const sink = new MemorySink();
      const audit = await AuditLog.open({ sink, key: signingKey(), log: silentLogger() });
      const { acme, tenants } = twoTenants();
      const http = await startHttpGateway(
        {
          servers: {
            primary: fixtureServer({
              trust: 'auto',
              pool: { min: 1, max: 1 },
              env: { FIXTURE_FAIL_STARTUP_FLAG: flagPath(dir), FIXTURE_READ_ONLY_TOOLS: 'pid' },
              toolFallbacks: { echo: { server: 'backup' } },
              staleIfError: { ttl: '1m' },
            }),
            backup: fixtureServer(),
          },
          tenants,
        },
        { audit },
      );
      const { client } = await connectHttpClient(http, bearer(acme.key));
      await client.callTool({ name: 'primary__pid', arguments: {} });
      await client.callTool({ name: 'primary__echo', arguments: { text: 'fresh' } });
      await takeDown(http, 'primary', flagPath(dir));
      await client.callTool({ name: 'primary__echo', arguments: { text: 'elsewhere' } });
      await client.callTool({ name: 'primary__pid', arguments: {} });
      await audit.flush();
      const served = sink.records
        .filter((record) => record.kind === 'tool-call')
        .map((record) => [record.tool, record.server, record.servedBy]);
      expect(served).toEqual([
        ['primary__pid', 'primary', 'primary'],
        ['primary__echo', 'primary', 'primary'],
        ['primary__echo', 'backup', 'fallback'],
        ['primary__pid', 'primary', 'stale'],
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a fallback whose tool the fallback server does not list is not used', async () => {
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: {
        broken: fixtureServer({
          env: { FIXTURE_FAIL_STARTUP: '1' },
          fallback: { server: 'backup', tool: 'no_such_tool' },
        }),
        backup: fixtureServer(),
      },
      tenants,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    expect((await rpcFailure(client.callTool({ name: 'broken__echo', arguments: {} }))).code).toBe(-32010);
  });

  it('the config refuses a fallback to an unknown server or to itself', async () => {
    await expect(
      startHttpGateway({ servers: { a: fixtureServer({ fallback: { server: 'nope' } }) } }),
    ).rejects.toThrow(/unknown server .*nope/);
    await expect(
      startHttpGateway({ servers: { a: fixtureServer({ toolFallbacks: { echo: { server: 'a' } } }) } }),
    ).rejects.toThrow(/its own fallback/);
  });
});

describe('stale-if-error', () => {
  it('serves the last good result of a read-only tool, marked stale, per tenant and arguments, while the server is down', async () => {
    const dir = tempDir();
    try {
      const { acme, globex, tenants } = twoTenants();
      const http = await startHttpGateway({
        servers: {
          kb: fixtureServer({
            trust: 'auto',
            pool: { min: 1, max: 1 },
            env: { FIXTURE_FAIL_STARTUP_FLAG: flagPath(dir), FIXTURE_READ_ONLY_TOOLS: 'echo' },
            staleIfError: { ttl: '1m', maxEntries: 10 },
          }),
        },
        tenants,
      });
      const a = (await connectHttpClient(http, bearer(acme.key))).client;
      const g = (await connectHttpClient(http, bearer(globex.key))).client;
      const fresh = await a.callTool({ name: 'kb__echo', arguments: { text: 'cached', z: 1, y: 2 } });
      await g.listTools();
      const freshText = textOf(fresh);

      await takeDown(http, 'kb', flagPath(dir));
      // The same arguments in another key order are the same call (canonical hash).
      const stale = await a.callTool({ name: 'kb__echo', arguments: { y: 2, z: 1, text: 'cached' } });
      expect(stale._meta?.[`${META}/servedBy`]).toBe('stale');
      expect(stale._meta?.[`${META}/stale`]).toMatchObject({
        reason: expect.stringMatching(/UPSTREAM_|POOL_/) as unknown,
      });
      expect((stale._meta?.[`${META}/stale`] as { ageMs: number }).ageMs).toBeGreaterThanOrEqual(0);
      expect(textOf(stale)).toBe(freshText);

      // Other arguments were never answered, and another tenant never sees acme's copy.
      const other = await rpcFailure(a.callTool({ name: 'kb__echo', arguments: { text: 'never seen' } }));
      expect(other.code).toBeLessThan(-32000);
      const foreign = await rpcFailure(
        g.callTool({ name: 'kb__echo', arguments: { text: 'cached', z: 1, y: 2 } }),
      );
      expect(foreign.code).toBeLessThan(-32000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('serves a resource read stale while its server is down, and never keeps a tool that is not read-only', async () => {
    const dir = tempDir();
    try {
      const { acme, tenants } = twoTenants();
      const http = await startHttpGateway({
        servers: {
          kb: fixtureServer({
            trust: 'auto',
            pool: { min: 1, max: 1 },
            env: { FIXTURE_FAIL_STARTUP_FLAG: flagPath(dir) },
            staleIfError: { ttl: '1m' },
          }),
        },
        tenants,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      const fresh = await client.readResource({ uri: 'fixture://static/1' });
      await client.callTool({ name: 'kb__echo', arguments: { text: 'not read-only' } });

      await takeDown(http, 'kb', flagPath(dir));
      const stale = await client.readResource({ uri: 'fixture://static/1' });
      expect(stale._meta?.[`${META}/servedBy`]).toBe('stale');
      expect(stale.contents).toEqual(fresh.contents);
      const refused = await rpcFailure(
        client.callTool({ name: 'kb__echo', arguments: { text: 'not read-only' } }),
      );
      expect(refused.code).toBeLessThan(-32000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('partial success', () => {
  it('aggregated lists return the servers that answer and name the one that is down in _meta', async () => {
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: { down: fixtureServer({ env: { FIXTURE_FAIL_STARTUP: '1' } }), up: fixtureServer() },
      tenants,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('up__echo');
    expect(tools.tools.some((tool) => tool.name.startsWith('down__'))).toBe(false);
    expect(tools._meta?.[`${META}/unavailable`]).toEqual(['down']);
    const prompts = await client.listPrompts();
    expect(prompts._meta?.[`${META}/unavailable`]).toEqual(['down']);
    const resources = await client.listResources();
    expect(resources._meta?.[`${META}/unavailable`]).toEqual(['down']);
  });

  it('a list with every server up has no unavailable mark', async () => {
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({ servers: { up: fixtureServer() }, tenants });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    expect((await client.listTools())._meta).toBeUndefined();
  });
});
