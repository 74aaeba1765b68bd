import { afterEach, describe, expect, it } from 'vitest';
import {
  bearer,
  connectHttpClient,
  initialize,
  startHttpGateway,
  stopHttpGateways,
} from '../http/http-harness.ts';
import { capturedLog, WARN } from '../support/captured-log.ts';
import { eventually } from '../support/harness.ts';
import { callsUntilRefused, limitedConfig, REDIS_URL, redisTestScope } from './limits-harness.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const scope = redisTestScope(stopHttpGateways);
const prefix = () => scope.prefix();

afterEach(async () => {
  expect(await scope.cleanUp()).toEqual([]);
});

async function proxy(): Promise<TcpProxy> {
  const started = await startTcpProxy(new URL(REDIS_URL));
  scope.after(() => started.close());
  return started;
}

describe('limits in Redis', () => {
  it("two gateways on one Redis share a key's rate and a tenant's monthly quota", async () => {
    const { prefix: keyPrefix, redis } = prefix();
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 6 } }, quota: { monthlyCalls: 5 } },
      { redis: { url: REDIS_URL, keyPrefix } },
    );
    const one = await startHttpGateway(config);
    const two = await startHttpGateway(config);
    const { client: a } = await connectHttpClient(one, bearer(keys.a1));
    const { client: b } = await connectHttpClient(two, bearer(keys.a1));
    // Two initializes and four calls use the key's six requests, wherever they were made.
    expect((await callsUntilRefused(a, 'fx__echo', 1)).passed).toBe(1);
    const onTwo = await callsUntilRefused(b, 'fx__echo', 5);
    expect(onTwo.passed).toBe(3);
    expect(onTwo.refusal?.data).toMatchObject({ scope: 'key', limit: 6 });
    expect(await redis.keys(`${keyPrefix}rl:key:perMinute:*`)).toHaveLength(1);

    // Four calls of the tenant's quota of five are used: its other key gets one more, on either.
    const { client: c } = await connectHttpClient(one, bearer(keys.a2));
    const { client: d } = await connectHttpClient(two, bearer(keys.a2));
    const onOne = await callsUntilRefused(c, 'fx__echo', 3);
    expect(onOne.passed).toBe(1);
    expect(onOne.refusal?.code).toBe(-32047);
    const last = await callsUntilRefused(d, 'fx__echo', 3);
    expect(last.passed).toBe(0);
    expect(last.refusal?.message).toMatch(/^monthly quota of 5 tool calls exceeded/);
  });

  it("a key far over its limit is refused from memory: its refusals touch neither its tenant's count nor the quota", async () => {
    const { prefix: keyPrefix, redis } = prefix();
    const { config, keys } = limitedConfig(
      {
        rateLimits: { perKey: { perMinute: 2 }, perTenant: { perMinute: 100 } },
        quota: { monthlyCalls: 100 },
      },
      { redis: { url: REDIS_URL, keyPrefix } },
    );
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    const refused = await callsUntilRefused(client, 'fx__echo', 3);
    expect(refused.passed).toBe(1);
    for (let i = 0; i < 10; i++)
      expect((await callsUntilRefused(client, 'fx__echo', 1)).refusal?.data.scope).toBe('key');
    // The initialize and the one call; the refusal gave its tenant point back.
    await eventually(async () => (await redis.get(`${keyPrefix}rl:tenant:perMinute:acme`)) === '2', 5_000);
    expect(await redis.get(`${keyPrefix}rl:key:perMinute:acme:key:${keys.a1Id}`)).toBe('3');
    // Only the call that passed counts against the quota.
    const [quotaKey] = await redis.keys(`${keyPrefix}quota:acme:*`);
    expect(await redis.get(quotaKey as string)).toBe('1');
    expect((await http.gateway.limits.report('acme'))?.quota.used).toBe(1);
  });

  it('onError open: with Redis cut off calls go on, counted in the process, and the log and metric say so', async () => {
    const { prefix: keyPrefix } = prefix();
    const cut = await proxy();
    const captured = capturedLog();
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 5 } }, quota: { monthlyCalls: 100 } },
      { redis: { url: cut.url, keyPrefix, onError: 'open', commandTimeout: '300ms' } },
    );
    const http = await startHttpGateway(config, { log: captured.log });
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    expect((await callsUntilRefused(client, 'fx__echo', 1)).passed).toBe(1);
    cut.cut();
    // The key's limit still holds, in this process's memory: 2 requests were counted in Redis.
    const during = await callsUntilRefused(client, 'fx__echo', 8);
    expect(during.passed).toBe(5);
    expect(during.refusal?.data).toMatchObject({ scope: 'key', code: 'RATE_LIMITED' });
    expect(
      captured.lines().some((line) => line.level === WARN && /Redis unreachable/.test(line.msg ?? '')),
    ).toBe(true);
    expect(await http.gateway.metrics?.text()).toMatch(/mcplane_limit_backend_errors_total [1-9]/);
  });

  it('onError closed: with Redis cut off calls are refused with -32048 and a new session with 503', async () => {
    const { prefix: keyPrefix } = prefix();
    const cut = await proxy();
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 50 } } },
      { redis: { url: cut.url, keyPrefix, onError: 'closed', commandTimeout: '300ms' } },
    );
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    expect((await callsUntilRefused(client, 'fx__echo', 2)).passed).toBe(2);
    cut.cut();
    const refused = await callsUntilRefused(client, 'fx__echo', 1);
    expect(refused.passed).toBe(0);
    expect(refused.refusal?.code).toBe(-32048);
    expect(refused.refusal?.data).toMatchObject({ code: 'LIMITS_UNAVAILABLE', retryAfterSeconds: 1 });
    const opening = await initialize(http, bearer(keys.a2));
    expect(opening.response.status).toBe(503);
    expect(opening.response.headers.get('retry-after')).toBe('1');

    // Once Redis answers again, so do the limits.
    cut.restore();
    await eventually(async () => (await callsUntilRefused(client, 'fx__echo', 1)).passed === 1, 10_000);
  });

  it('a Redis that is not there at start: open lets calls in, closed refuses them', async () => {
    const { config: open, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 50 } } },
      { redis: { url: 'redis://127.0.0.1:1', onError: 'open' } },
    );
    const lenient = await startHttpGateway(open);
    const { client } = await connectHttpClient(lenient, bearer(keys.a1));
    expect((await callsUntilRefused(client, 'fx__echo', 3)).passed).toBe(3);

    const { config: closed, keys: closedKeys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 50 } } },
      { redis: { url: 'redis://127.0.0.1:1', onError: 'closed' } },
    );
    const strict = await startHttpGateway(closed);
    expect((await initialize(strict, bearer(closedKeys.a1))).response.status).toBe(503);
  });

  it('CLIENT KILL of the connection: every call is answered at once, and after the reconnect the count is shared again', async () => {
    const { prefix: keyPrefix, redis } = prefix();
    for (const onError of ['open', 'closed'] as const) {
      const { config, keys } = limitedConfig(
        { rateLimits: { perKey: { perMinute: 40 } } },
        { redis: { url: REDIS_URL, keyPrefix: `${keyPrefix}${onError}:`, onError, commandTimeout: '300ms' } },
      );
      const http = await startHttpGateway(config);
      const { client } = await connectHttpClient(http, bearer(keys.a1));
      expect((await callsUntilRefused(client, 'fx__echo', 2)).passed).toBe(2);
      const name = `mcplane/${keyPrefix}${onError}:`;
      const list = (await redis.client('LIST')) as string;
      const ids = list
        .split('\n')
        .filter((line) => line.includes(` name=${name} `))
        .map((line) => /id=(\d+)/.exec(line)?.[1]);
      expect(ids.length).toBe(1);
      expect(await redis.client('KILL', 'ID', ids[0] as string)).toBe(1);
      const started = Date.now();
      const after = await callsUntilRefused(client, 'fx__echo', 5);
      // Answered without hanging: passed (open, or reconnected already) or refused with -32048 (closed).
      expect(Date.now() - started).toBeLessThan(5_000);
      if (after.refusal) {
        expect(onError).toBe('closed');
        expect(after.refusal.code).toBe(-32048);
      }
      await eventually(async () => {
        const value = await redis.get(`${keyPrefix}${onError}:rl:key:perMinute:acme:key:${keys.a1Id}`);
        const before = Number(value);
        // Failing closed, calls are refused until the client has reconnected.
        const answered = await client.callTool({ name: 'fx__echo', arguments: {} }).then(
          () => true,
          () => false,
        );
        if (!answered) return false;
        return (
          Number(await redis.get(`${keyPrefix}${onError}:rl:key:perMinute:acme:key:${keys.a1Id}`)) ===
          before + 1
        );
      }, 10_000);
    }
  });
});
