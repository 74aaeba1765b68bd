import { afterEach, describe, expect, it } from 'vitest';
import {
  bearer,
  connectHttpClient,
  initialize,
  startHttpGateway,
  stopHttpGateways,
} from '../http/http-harness.ts';
import { openStore } from '../../src/store/open-store.ts';
import { callsUntilRefused, limitedConfig } from './limits-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

describe('rate limits in memory', () => {
  it('a key over its rate gets a JSON-RPC error in its session with the retry time; another key of the tenant goes on', async () => {
    const { config, keys } = limitedConfig({ rateLimits: { perKey: { perMinute: 4 } } });
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    // The initialize was the key's first request of the minute.
    const { passed, refusal } = await callsUntilRefused(client, 'fx__echo', 10);
    expect(passed).toBe(3);
    expect(refusal?.code).toBe(-32046);
    expect(refusal?.message).toMatch(/rate limit of 4 requests per key per minute exceeded/);
    expect(refusal?.data).toMatchObject({
      code: 'RATE_LIMITED',
      limit: 4,
      scope: 'key',
      window: 'perMinute',
    });
    const { retryAfterMs, retryAfterSeconds } = refusal?.data as {
      retryAfterMs: number;
      retryAfterSeconds: number;
    };
    expect(retryAfterMs).toBeGreaterThan(0);
    expect(retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(retryAfterSeconds).toBe(Math.ceil(retryAfterMs / 1000));

    const { client: other } = await connectHttpClient(http, bearer(keys.a2));
    expect((await callsUntilRefused(other, 'fx__echo', 3)).passed).toBe(3);
  });

  it("a tenant over its rate refuses all its keys (scope tenant); another tenant's keys go on", async () => {
    const { config, keys } = limitedConfig({ rateLimits: { perTenant: { perMinute: 5 } } });
    const http = await startHttpGateway(config);
    const { client: first } = await connectHttpClient(http, bearer(keys.a1));
    const { client: second } = await connectHttpClient(http, bearer(keys.a2));
    // Two initializes, then three calls.
    expect((await callsUntilRefused(first, 'fx__echo', 3)).passed).toBe(3);
    const refused = await callsUntilRefused(second, 'fx__echo', 1);
    expect(refused.passed).toBe(0);
    expect(refused.refusal?.data).toMatchObject({ scope: 'tenant', limit: 5 });
    const { client: globex } = await connectHttpClient(http, bearer(keys.g1));
    expect((await callsUntilRefused(globex, 'fx__echo', 10)).passed).toBe(10);
  });

  it('a tool over its (tenant, tool) rate is refused with scope tool while another tool goes on', async () => {
    const { config, keys } = limitedConfig({ rateLimits: { perTool: { perMinute: 2 } } });
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    const echo = await callsUntilRefused(client, 'fx__echo', 5);
    expect(echo.passed).toBe(2);
    expect(echo.refusal?.data).toMatchObject({ scope: 'tool', limit: 2 });
    // The same tool through the tenant's other key shares the (tenant, tool) budget.
    const { client: other } = await connectHttpClient(http, bearer(keys.a2));
    expect((await callsUntilRefused(other, 'fx__echo', 1)).passed).toBe(0);
    const env = await client.callTool({ name: 'fx__env', arguments: { names: [] } });
    expect(env.isError).not.toBe(true);
    // Lists are not tool calls: they do not count against a tool.
    expect((await client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it("an initialize over the key's rate is refused with HTTP 429, Retry-After and a JSON-RPC error body", async () => {
    const { config, keys } = limitedConfig({ rateLimits: { perKey: { perMinute: 2 } } });
    const http = await startHttpGateway(config);
    expect((await initialize(http, bearer(keys.a1))).response.status).toBe(200);
    expect((await initialize(http, bearer(keys.a1))).response.status).toBe(200);
    const { response, body } = await initialize(http, bearer(keys.a1));
    expect(response.status).toBe(429);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    const parsed = JSON.parse(body) as {
      id: unknown;
      error: { code: number; data: Record<string, unknown> };
    };
    expect(parsed.id).toBe(0);
    expect(parsed.error.code).toBe(-32046);
    expect(parsed.error.data).toMatchObject({ scope: 'key', limit: 2, retryAfterSeconds: retryAfter });
  });

  it('the refusals are counted in mcplane_rate_limit_rejections_total by scope', async () => {
    const { config, keys } = limitedConfig({ rateLimits: { perKey: { perMinute: 2 } } });
    const http = await startHttpGateway(config);
    const { client } = await connectHttpClient(http, bearer(keys.a1));
    await callsUntilRefused(client, 'fx__echo', 3);
    const text = (await http.gateway.metrics?.text()) ?? '';
    expect(text).toMatch(/mcplane_rate_limit_rejections_total\{tenant="acme",scope="key"\} 1/);
  });
});

describe('failed authentications per source IP', () => {
  it('after N failures a minute the IP gets 429 before any key is checked, even with the right key', async () => {
    const { config, keys } = limitedConfig({}, { auth: { failureLimit: { perMinute: 3 } } });
    const http = await startHttpGateway(config);
    const wrong = `${keys.a1.slice(0, -4)}AAAA`;
    // Requests without a credential do not count: a client learning it needs one is no attack.
    for (let i = 0; i < 5; i++) expect((await initialize(http, {})).response.status).toBe(401);
    for (let i = 0; i < 3; i++) expect((await initialize(http, bearer(wrong))).response.status).toBe(401);
    const refused = await initialize(http, bearer(keys.a1));
    expect(refused.response.status).toBe(429);
    expect(Number(refused.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = JSON.parse(refused.body) as { error: { code: number; data: Record<string, unknown> } };
    expect(body.error.code).toBe(-32046);
    expect(body.error.data).toMatchObject({ scope: 'ip', limit: 3 });
    expect((await initialize(http, { 'x-api-key': wrong })).response.status).toBe(429);
  });

  it('the admin API on the same port counts failures too, and answers 429 with a problem', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const { config, keys } = limitedConfig({}, { auth: { failureLimit: { perMinute: 2 } } });
      const http = await startHttpGateway(config, { store });
      const admin = (key: string) =>
        fetch(new URL('/admin/v1/tenants', http.origin), { headers: { authorization: `Bearer ${key}` } });
      expect((await admin('mcpl_nope')).status).toBe(401);
      expect((await admin('mcpl_nope')).status).toBe(401);
      const refused = await admin(keys.a1);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(((await refused.json()) as { code: string }).code).toBe('RATE_LIMITED');
      // The MCP endpoint shares the IP's budget.
      expect((await initialize(http, bearer(keys.a1))).response.status).toBe(429);
    } finally {
      await stopHttpGateways();
      await store.close();
    }
  });
});
