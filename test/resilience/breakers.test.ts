/**
 * Circuit breakers per (server, tenant) over real fixture processes and real HTTP: they open on
 * gateway-side failures only, fail calls at once while open, show in status, /ready and metrics,
 * and follow the pool's crash-loop backoff.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
} from '../http/http-harness.ts';
import { parseExposition } from '../telemetry/prometheus-text.ts';
import { adminClient, platformKey, sqliteBackend } from '../admin/admin-harness.ts';
import { flagPath, rpcFailure, tempDir, textOf, twoTenants } from './resilience-harness.ts';

const sqlite = sqliteBackend();

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
  await sqlite.cleanup();
});

const BREAKER = { volumeThreshold: 3, errorThresholdPercentage: 50, window: '10s', resetTimeout: '300ms' };

describe('circuit breakers', () => {
  it('a crash-looping server opens its breaker and fails at once, naming the server and when it retries, while other servers are unaffected', async () => {
    const dir = tempDir();
    const callLog = join(dir, 'calls');
    const received = (): number =>
      existsSync(callLog) ? readFileSync(callLog, 'utf8').split('\n').length - 1 : 0;
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: {
        // Every process exits on its first tool call: a crash loop as calls see it.
        looping: fixtureServer({
          env: { FIXTURE_CRASH_AFTER: '1', FIXTURE_CALL_LOG: callLog },
          breaker: { ...BREAKER, resetTimeout: '30s' },
        }),
        healthy: fixtureServer(),
      },
      tenants,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    const failures: number[] = [];
    for (let call = 0; call < 3; call++) {
      failures.push((await rpcFailure(client.callTool({ name: 'looping__echo', arguments: {} }))).code);
    }
    expect(failures).toEqual([-32011, -32011, -32011]);

    const openedBy = Date.now();
    const open = await rpcFailure(client.callTool({ name: 'looping__echo', arguments: {} }));
    expect(open.code).toBe(-32054);
    expect(open.message).toContain('Server looping is failing');
    expect(open.data).toMatchObject({ code: 'BREAKER_OPEN', server: 'looping' });
    const retryAt = Date.parse(String(open.data.retryAt));
    expect(retryAt).toBeGreaterThan(openedBy + 20_000);
    expect(open.message).toContain(String(open.data.retryAt));

    // At once: no call reaches the server while the breaker is open (bench:resilience times it).
    const before = received();
    expect(before).toBe(3);
    for (let call = 0; call < 20; call++) {
      expect((await rpcFailure(client.callTool({ name: 'looping__echo', arguments: {} }))).code).toBe(-32054);
    }
    expect(received()).toBe(before);

    const healthy = await client.callTool({ name: 'healthy__echo', arguments: { text: 'still here' } });
    expect(textOf(healthy)).toContain('still here');

    const status = http.gateway.status();
    expect(status.servers.looping?.breakers).toEqual([
      { tenant: 'acme', state: 'open', retryAt: String(open.data.retryAt) },
    ]);
    expect(status.servers.healthy?.breakers).toEqual([{ tenant: 'acme', state: 'closed' }]);

    const metrics = parseExposition((await http.gateway.metrics?.text()) ?? '');
    expect(metrics.value('mcplane_circuit_breaker_state', { server: 'looping', tenant: 'acme' })).toBe(2);
    expect(metrics.value('mcplane_circuit_breaker_state', { server: 'healthy', tenant: 'acme' })).toBe(0);
    expect(metrics.value('mcplane_circuit_breaker_rejections_total', { server: 'looping' })).toBe(21);
    rmSync(dir, { recursive: true, force: true });
  });

  it('GET /admin/v1/status shows each server’s breakers per tenant, with retryAt while open', async () => {
    const store = await sqlite.open();
    const rootKey = await platformKey(store);
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway(
      {
        servers: {
          looping: fixtureServer({
            env: { FIXTURE_CRASH_AFTER: '1' },
            breaker: { ...BREAKER, resetTimeout: '30s' },
          }),
        },
        tenants,
      },
      { store },
    );
    const { client } = await connectHttpClient(http, bearer(acme.key));
    for (let call = 0; call < 3; call++)
      await rpcFailure(client.callTool({ name: 'looping__echo', arguments: {} }));
    const open = await rpcFailure(client.callTool({ name: 'looping__echo', arguments: {} }));
    const status = await adminClient(http.origin, rootKey)('GET', '/status');
    expect(status.status).toBe(200);
    expect((status.body.servers as Record<string, { breakers: unknown }>).looping?.breakers).toEqual([
      { tenant: 'acme', state: 'open', retryAt: open.data.retryAt },
    ]);
  });

  it('one tenant’s open breaker does not refuse another tenant’s calls', async () => {
    const { acme, globex, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: {
        looping: fixtureServer({
          env: { FIXTURE_CRASH_AFTER: '1' },
          breaker: { ...BREAKER, resetTimeout: '30s' },
        }),
      },
      tenants,
    });
    const a = (await connectHttpClient(http, bearer(acme.key))).client;
    const g = (await connectHttpClient(http, bearer(globex.key))).client;
    for (let call = 0; call < 3; call++)
      await rpcFailure(a.callTool({ name: 'looping__echo', arguments: {} }));
    expect((await rpcFailure(a.callTool({ name: 'looping__echo', arguments: {} }))).code).toBe(-32054);
    // globex's calls still reach the server (and see its own failure, not acme's breaker).
    expect((await rpcFailure(g.callTool({ name: 'looping__echo', arguments: {} }))).code).toBe(-32011);
  });

  it('upstream JSON-RPC errors and isError results never open the breaker', async () => {
    const { acme, tenants } = twoTenants();
    const http = await startHttpGateway({
      servers: {
        fixture: fixtureServer({ breaker: { ...BREAKER, volumeThreshold: 1, errorThresholdPercentage: 1 } }),
      },
      tenants,
    });
    const { client } = await connectHttpClient(http, bearer(acme.key));
    for (let call = 0; call < 10; call++) {
      // The server's own error: a prompt argument it requires is missing.
      const error = await rpcFailure(client.getPrompt({ name: 'fixture__greet', arguments: {} }));
      expect(error.message).toContain('Missing required argument');
      // The server's own isError result: its arguments are invalid.
      const result = await client.callTool({ name: 'fixture__slow', arguments: {} });
      expect(result.isError).toBe(true);
    }
    const answered = await client.callTool({ name: 'fixture__echo', arguments: { text: 'fine' } });
    expect(textOf(answered)).toContain('fine');
    expect(http.gateway.status().servers.fixture?.breakers).toEqual([{ tenant: 'acme', state: 'closed' }]);
  });

  it('goes half-open after its reset time, and one good probe closes it', async () => {
    const dir = tempDir();
    try {
      const { acme, tenants } = twoTenants();
      const http = await startHttpGateway({
        servers: {
          // Every process exits on its second tool call; the first answers.
          flappy: fixtureServer({
            env: { FIXTURE_CRASH_AFTER: '2' },
            pool: { min: 1, max: 1 },
            breaker: { ...BREAKER, volumeThreshold: 2, errorThresholdPercentage: 40, resetTimeout: '3s' },
          }),
        },
        tenants,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      await client.callTool({ name: 'flappy__echo', arguments: {} });
      expect((await rpcFailure(client.callTool({ name: 'flappy__echo', arguments: {} }))).code).toBe(-32011);
      expect((await rpcFailure(client.callTool({ name: 'flappy__echo', arguments: {} }))).code).toBe(-32054);
      await eventually(
        () => http.gateway.status().servers.flappy?.breakers[0]?.state === 'half-open',
        15_000,
      );
      // The probe reaches the replacement process, whose first call answers.
      const probe = await client.callTool({ name: 'flappy__echo', arguments: { text: 'probe' } });
      expect(textOf(probe)).toContain('probe');
      expect(http.gateway.status().servers.flappy?.breakers).toEqual([{ tenant: 'acme', state: 'closed' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a server that cannot start stays open at least until its pool tries again, and recovers through the probe', async () => {
    const dir = tempDir();
    try {
      writeFileSync(flagPath(dir), '');
      const admin = newApiKey(['admin']);
      const { acme, tenants } = twoTenants({ acme: {} });
      tenants.acme.apiKeys.push(admin.entry);
      const http = await startHttpGateway({
        servers: {
          down: fixtureServer({
            env: { FIXTURE_FAIL_STARTUP_FLAG: flagPath(dir) },
            pool: { min: 1, max: 1 },
            breaker: { ...BREAKER, volumeThreshold: 2, resetTimeout: '100ms' },
          }),
        },
        tenants,
      });
      const { client } = await connectHttpClient(http, bearer(acme.key));
      let open: Awaited<ReturnType<typeof rpcFailure>> | undefined;
      for (let call = 0; call < 10 && open?.code !== -32054; call++) {
        open = await rpcFailure(client.callTool({ name: 'down__echo', arguments: {} }));
        expect([-32010, -32054]).toContain(open.code);
      }
      expect(open?.code).toBe(-32054);
      const view = http.gateway.status().servers.down?.breakers[0];
      const backoff = [...http.gateway.servers.values()][0]?.startBackoff('acme');
      expect(view?.state).toBe('open');
      // One clock: the breaker does not promise a retry before the pool will start a process.
      expect(backoff).toBeDefined();
      expect(Date.parse(String(view?.retryAt))).toBeGreaterThanOrEqual((backoff?.nextStartAt ?? 0) - 5);

      const ready = await fetch(new URL('/ready', http.origin), { headers: bearer(admin.key) });
      expect(((await ready.json()) as { servers: Record<string, unknown> }).servers.down).toMatchObject({
        breakers: [{ tenant: 'acme', state: 'open' }],
      });

      rmSync(flagPath(dir));
      // The probe waits for the pool's next start, which now succeeds; then the breaker closes.
      await eventually(async () => {
        try {
          const result = await client.callTool({ name: 'down__echo', arguments: { text: 'back' } });
          return textOf(result).includes('back');
        } catch {
          return false;
        }
      }, 15_000);
      expect(http.gateway.status().servers.down?.breakers).toEqual([{ tenant: 'acme', state: 'closed' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
