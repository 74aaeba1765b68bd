/**
 * Retries of gateway-side failures: only for tools a trusted server marks read-only or
 * idempotent, or that the config lists; never for destructive ones; and never more than the
 * retry budget (10% of calls) allows.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer } from '../support/harness.ts';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { parseExposition } from '../telemetry/prometheus-text.ts';
import { rpcFailure, tempDir, textOf, twoTenants } from './resilience-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const NO_BREAKER = { enabled: false };

function attempts(log: string): number {
  try {
    return readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line === 'flaky').length;
  } catch {
    return 0;
  }
}

async function gatewayWith(server: Record<string, unknown>, log: string) {
  const { acme, tenants } = twoTenants();
  const http = await startHttpGateway({
    servers: {
      flaky: fixtureServer({
        pool: { min: 2, max: 2, maxInflight: 64 },
        breaker: NO_BREAKER,
        ...server,
        env: { FIXTURE_CALL_LOG: log, ...(server.env as Record<string, string>) },
      }),
    },
    tenants,
  });
  const { client } = await connectHttpClient(http, bearer(acme.key));
  return { http, client };
}

describe('retries', () => {
  it('retries an idempotent tool of a trusted server after its process exits, and the caller sees only success', async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'calls');
      const { client } = await gatewayWith(
        {
          trust: 'auto',
          env: { FIXTURE_FLAKY_RATE: '0.1', FIXTURE_IDEMPOTENT_TOOLS: 'flaky' },
          retry: { attempts: 3, baseDelay: '10ms', maxDelay: '50ms' },
        },
        log,
      );
      // The first process takes every call while it is the least loaded, and exits on its 10th.
      for (let call = 0; call < 10; call++) {
        const result = await client.callTool({ name: 'flaky__flaky', arguments: { n: call } });
        expect(textOf(result)).toContain(`"n":${call}`);
      }
      expect(attempts(log)).toBe(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not retry on annotations from a server the config does not trust', async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'calls');
      const { client } = await gatewayWith(
        {
          pool: { min: 1, max: 1 },
          env: { FIXTURE_FLAKY_RATE: '1', FIXTURE_IDEMPOTENT_TOOLS: 'flaky' },
          retry: { attempts: 3, baseDelay: '10ms' },
        },
        log,
      );
      expect((await rpcFailure(client.callTool({ name: 'flaky__flaky', arguments: {} }))).code).toBe(-32011);
      expect(attempts(log)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never retries a destructive tool, even one listed in retry.tools', async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'calls');
      const { client } = await gatewayWith(
        {
          trust: 'auto',
          pool: { min: 1, max: 1 },
          env: { FIXTURE_FLAKY_RATE: '1', FIXTURE_DESTRUCTIVE_TOOLS: 'flaky' },
          retry: { attempts: 5, baseDelay: '10ms', tools: ['flaky'] },
        },
        log,
      );
      expect((await rpcFailure(client.callTool({ name: 'flaky__flaky', arguments: {} }))).code).toBe(-32011);
      expect(attempts(log)).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('retries a tool listed in retry.tools that has no annotations', async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'calls');
      const { client } = await gatewayWith(
        {
          env: { FIXTURE_FLAKY_RATE: '0.5' },
          retry: { attempts: 2, baseDelay: '10ms', tools: ['flaky'] },
        },
        log,
      );
      // The first process answers its first call and exits on its second; the retry is served.
      await client.callTool({ name: 'flaky__flaky', arguments: {} });
      const result = await client.callTool({ name: 'flaky__flaky', arguments: { last: true } });
      expect(textOf(result)).toContain('"last":true');
      expect(attempts(log)).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the retry budget caps amplification: when every call fails, retries stay within 10% of calls', async () => {
    const dir = tempDir();
    try {
      const log = join(dir, 'calls');
      const { http, client } = await gatewayWith(
        {
          trust: 'auto',
          pool: { min: 1, max: 1, maxInflight: 64 },
          timeouts: { startup: '10s', call: '300ms', shutdown: '500ms' },
          env: { FIXTURE_FLAKY_RATE: '1', FIXTURE_FLAKY_MODE: 'hang', FIXTURE_READ_ONLY_TOOLS: 'flaky' },
          retry: { attempts: 5, baseDelay: '1ms', maxDelay: '5ms', deadline: '10s' },
        },
        log,
      );
      const calls = 30;
      const outcomes = await Promise.all(
        Array.from({ length: calls }, (_, n) =>
          rpcFailure(client.callTool({ name: 'flaky__flaky', arguments: { n } })),
        ),
      );
      expect(outcomes.every((outcome) => outcome.code === -32012)).toBe(true);
      const made = attempts(log);
      // Without a budget, 30 calls × 5 attempts = 150. The bucket starts with one token and each
      // call adds 0.1: at most 1 + 3 retries.
      expect(made).toBeGreaterThan(calls);
      expect(made).toBeLessThanOrEqual(calls + 1 + calls * 0.1);
      const metrics = parseExposition((await http.gateway.metrics?.text()) ?? '');
      expect(metrics.value('mcplane_retries_total', { server: 'flaky' })).toBe(made - calls);
      expect(metrics.value('mcplane_retries_refused_total', { server: 'flaky' })).toBeGreaterThan(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
