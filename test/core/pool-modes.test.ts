/** shared, tenant and session modes: who shares a process, and what each process is given. */
import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { connectClient, fixtureServer, isRunning, startGateway, textJson } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  const pids = gateway?.pids() ?? [];
  await gateway?.close();
  gateway = undefined;
  for (const pid of pids) expect(isRunning(pid)).toBe(false);
});

type EnvResult = { values: Record<string, string | null>; keys: string[] };

describe('pool modes', () => {
  it('gives each tenant its own processes with its own env, and the server defaults to tenants without overrides', async () => {
    process.env.MCPLANE_TEST_SECRET = 'gateway-secret';
    gateway = await startGateway({
      servers: { db: fixtureServer({ mode: 'tenant', env: { DATABASE_URL: 'postgres://default' } }) },
      tenants: {
        acme: { name: 'Acme', overrides: { db: { env: { DATABASE_URL: 'postgres://acme' } } } },
        globex: { name: 'Globex' },
      },
    });
    const acme = await connectClient(gateway, localPrincipal('acme'));
    const globex = await connectClient(gateway, localPrincipal('globex'));
    const call = async (client: typeof acme.client): Promise<EnvResult & { pid: number }> => {
      const env = textJson<EnvResult>(
        await client.callTool({
          name: 'db__env',
          arguments: { names: ['DATABASE_URL', 'MCPLANE_TEST_SECRET'] },
        }),
      );
      const { pid } = textJson<{ pid: number }>(await client.callTool({ name: 'db__pid', arguments: {} }));
      return { ...env, pid };
    };
    const [a, g] = await Promise.all([call(acme.client), call(globex.client)]);
    expect(a.values.DATABASE_URL).toBe('postgres://acme');
    expect(g.values.DATABASE_URL).toBe('postgres://default');
    expect(a.pid).not.toBe(g.pid);
    // The gateway's own environment does not leak into children beyond the allowlist.
    expect(a.values.MCPLANE_TEST_SECRET).toBeNull();
    expect(
      a.keys.every((key) =>
        [
          'PATH',
          'HOME',
          'USER',
          'LOGNAME',
          'SHELL',
          'TERM',
          'LANG',
          'TZ',
          'TMPDIR',
          'NODE_OPTIONS',
          'DATABASE_URL',
        ].includes(key),
      ),
    ).toBe(true);
    delete process.env.MCPLANE_TEST_SECRET;
  });

  it('never lets a tenant reach a server it is not allowed, which looks like an unknown tool', async () => {
    gateway = await startGateway({
      servers: { open: fixtureServer(), secret: fixtureServer() },
      tenants: { acme: { name: 'Acme', servers: ['open'] } },
    });
    const { client } = await connectClient(gateway, localPrincipal('acme'));
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names.some((name) => name.startsWith('secret__'))).toBe(false);
    const denied = await client
      .callTool({ name: 'secret__echo', arguments: {} })
      .catch((error: Error) => error.message);
    const unknown = await client
      .callTool({ name: 'nothing__echo', arguments: {} })
      .catch((error: Error) => error.message);
    expect(denied).toBe(unknown);
  });

  it('gives each session its own process from a warm spare and stops it when the session closes', async () => {
    gateway = await startGateway({
      servers: { stateful: fixtureServer({ mode: 'session', pool: { min: 2, max: 10 } }) },
    });
    const sessions = await Promise.all([1, 2, 3].map(() => connectClient(gateway as Gateway)));
    const pids = await Promise.all(
      sessions.map(
        async ({ client }) =>
          textJson<{ pid: number }>(await client.callTool({ name: 'stateful__pid', arguments: {} })).pid,
      ),
    );
    expect(new Set(pids).size).toBe(3);
    // The same session keeps its process.
    const again = textJson<{ pid: number }>(
      await sessions[0]!.client.callTool({ name: 'stateful__pid', arguments: {} }),
    );
    expect(again.pid).toBe(pids[0]);
    await sessions[0]!.session.close();
    expect(isRunning(pids[0] as number)).toBe(false);
    expect(isRunning(pids[1] as number)).toBe(true);
  });

  it('shares one process among sessions in shared mode and injects each caller context', async () => {
    gateway = await startGateway({ servers: { echo: fixtureServer({ pool: { min: 1, max: 1 } }) } });
    const acme = await connectClient(gateway, localPrincipal('acme'));
    const globex = await connectClient(gateway, localPrincipal('globex'));
    const a = textJson<{ pid: number; meta: Record<string, string> }>(
      await acme.client.callTool({
        name: 'echo__echo',
        arguments: {},
        _meta: { 'dev.mcplane/tenant': 'globex' },
      }),
    );
    const g = textJson<{ pid: number; meta: Record<string, string> }>(
      await globex.client.callTool({ name: 'echo__echo', arguments: {} }),
    );
    expect(a.pid).toBe(g.pid);
    // A client cannot choose the tenant a server sees.
    expect(a.meta['dev.mcplane/tenant']).toBe('acme');
    expect(a.meta['dev.mcplane/principal']).toBe('local');
    expect(a.meta['dev.mcplane/session']).toBe(acme.session.key);
    expect(g.meta['dev.mcplane/tenant']).toBe('globex');
  });

  it('does not inject context for a server with injectContext off, and still strips forged keys', async () => {
    gateway = await startGateway({ servers: { plain: fixtureServer({ injectContext: false }) } });
    const { client } = await connectClient(gateway);
    const body = textJson<{ meta: Record<string, string> | null }>(
      await client.callTool({
        name: 'plain__echo',
        arguments: {},
        _meta: { 'dev.mcplane/tenant': 'forged', keep: 'me' },
      }),
    );
    expect(body.meta).toEqual({ keep: 'me' });
  });
});
