/**
 * Hot reload of servers.config.yaml into a running gateway over real HTTP and real fixture
 * processes: what changes live, what keeps running, and what an invalid file leaves alone.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigReloader } from '../../src/control/config-reloader.ts';
import {
  connectHttpClient,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { eventually, fixtureServer, isRunning, textJson } from '../support/harness.ts';

function configWith(servers: Record<string, unknown>): Record<string, unknown> {
  return {
    gateway: { auth: { anonymous: { tenant: 'acme' } }, drainTimeout: '5s', processIsolation: 'none' },
    servers,
    tenants: { acme: { name: 'Acme' } },
  };
}

const V1 = configWith({
  steady: fixtureServer({ env: { MARK: 'steady' } }),
  moving: fixtureServer({ env: { MARK: 'one' } }),
});

async function pidOf(client: Client, server: string): Promise<number> {
  return textJson<{ pid: number }>(await client.callTool({ name: `${server}__pid`, arguments: {} })).pid;
}

async function markOf(client: Client): Promise<string | null> {
  const result = await client.callTool({ name: 'moving__env', arguments: { names: ['MARK'] } });
  return textJson<{ values: Record<string, string | null> }>(result).values.MARK ?? null;
}

describe('hot reload', () => {
  afterEach(async () => {
    expect(await stopHttpGateways()).toEqual([]);
  });

  async function started(): Promise<{
    http: HttpGateway;
    reloader: ConfigReloader;
    file: string;
    client: Client;
  }> {
    const file = join(mkdtempSync(join(tmpdir(), 'mcplane-reload-')), 'servers.config.yaml');
    writeFileSync(file, JSON.stringify(V1));
    const http = await startHttpGateway(V1);
    const reloader = new ConfigReloader({ path: file, env: process.env, gateway: http.gateway });
    const { client } = await connectHttpClient(http, {});
    return { http, reloader, file, client };
  }

  it('a changed server moves to new processes while unchanged servers keep theirs, and calls in flight finish', async () => {
    const { reloader, file, client } = await started();
    const steadyPid = await pidOf(client, 'steady');
    const movingPid = await pidOf(client, 'moving');
    expect(await markOf(client)).toBe('one');
    const inFlight = client.callTool({ name: 'moving__slow', arguments: { ms: 800 } });
    await new Promise((resolve) => setTimeout(resolve, 100));

    writeFileSync(
      file,
      JSON.stringify(
        configWith({ ...(V1.servers as object), moving: fixtureServer({ env: { MARK: 'two' } }) }),
      ),
    );
    const outcome = await reloader.reload('test');
    expect(outcome).toMatchObject({
      applied: true,
      changed: ['moving'],
      unchanged: ['steady'],
      restartRequired: [],
    });

    // The call that was running on the old process is answered, not cut off.
    expect(JSON.stringify(await inFlight)).toContain('done');
    expect(await markOf(client)).toBe('two');
    expect(await pidOf(client, 'steady')).toBe(steadyPid);
    expect(await pidOf(client, 'moving')).not.toBe(movingPid);
    // The old process stops once its calls have finished.
    await eventually(() => !isRunning(movingPid), 10_000);
  });

  it('reloads in quick succession, while the new processes are still starting, drop no call', async () => {
    const { reloader, file, client } = await started();
    const slowStart = (mark: string) =>
      JSON.stringify(
        configWith({
          ...(V1.servers as object),
          moving: fixtureServer({ env: { MARK: mark, FIXTURE_STARTUP_DELAY_MS: '600' } }),
        }),
      );
    writeFileSync(file, slowStart('two'));
    const first = reloader.reload('test');
    const calls = [client.callTool({ name: 'moving__echo', arguments: { n: 1 } })];
    await new Promise((resolve) => setTimeout(resolve, 200));
    writeFileSync(file, slowStart('three'));
    const second = reloader.reload('test');
    calls.push(client.callTool({ name: 'moving__echo', arguments: { n: 2 } }));
    await Promise.all([first, second]);
    calls.push(client.callTool({ name: 'moving__echo', arguments: { n: 3 } }));
    const results = await Promise.allSettled(calls);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
    expect(await markOf(client)).toBe('three');
  });

  it('an invalid file is refused with every problem and its line, and the running config keeps serving', async () => {
    const { http, reloader, file, client } = await started();
    const movingPid = await pidOf(client, 'moving');
    writeFileSync(file, 'servers:\n  moving:\n    command: 42\n    mode: sometimes\n');
    const outcome = await reloader.reload('test');
    expect(outcome.applied).toBe(false);
    expect(outcome.problems?.length).toBeGreaterThanOrEqual(2);
    expect(outcome.problems?.join('\n')).toMatch(/servers\.config\.yaml:3:\d+ servers\.moving\.command/);
    expect(await markOf(client)).toBe('one');
    expect(await pidOf(client, 'moving')).toBe(movingPid);
    expect(http.gateway.servers.has('steady')).toBe(true);
  });

  it('a removed server leaves the lists with list_changed, an added one appears, and settings that need a restart are named', async () => {
    const { reloader, file, client } = await started();
    let changed = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      changed += 1;
    });
    const movingPid = await pidOf(client, 'moving');
    writeFileSync(
      file,
      JSON.stringify({
        ...configWith({ steady: (V1.servers as Record<string, unknown>).steady, added: fixtureServer() }),
        gateway: {
          auth: { anonymous: { tenant: 'acme' } },
          drainTimeout: '5s',
          processIsolation: 'none',
          http: { port: 1 },
        },
      }),
    );
    const outcome = await reloader.reload('test');
    expect(outcome).toMatchObject({
      applied: true,
      added: ['added'],
      removed: ['moving'],
      restartRequired: ['gateway.http'],
    });
    await eventually(() => changed > 0);
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names.some((name) => name.startsWith('moving__'))).toBe(false);
    expect(names).toContain('added__echo');
    await expect(client.callTool({ name: 'moving__pid', arguments: {} })).rejects.toThrow(/Unknown tool/);
    await eventually(() => !isRunning(movingPid), 10_000);
  });
});
