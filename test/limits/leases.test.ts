/**
 * Leased blocks (docs/limits.md, "Leases"): in memory, blocks are exact; two gateways on one
 * Redis, each taking a share of a budget at once, admit together exactly what the budget allows,
 * never more; the 80% alert fires once across them; a closing gateway gives its unspent points
 * back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bearer, connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { capturedLog } from '../support/captured-log.ts';
import {
  callsUntilRefused,
  limitedConfig,
  REDIS_URL,
  redisTestScope,
  type Refusal,
} from './limits-harness.ts';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

const scope = redisTestScope(stopHttpGateways);
const prefix = () => scope.prefix();

afterEach(async () => {
  expect(await scope.cleanUp()).toEqual([]);
});

/** One call: undefined when it passed, else its refusal. */
async function call(client: Client): Promise<Refusal | undefined> {
  return (await callsUntilRefused(client, 'fx__echo', 1)).refusal;
}

/** Calls on each client in turn until every one is refused (at most `max` calls in all). */
async function drain(
  clients: readonly Client[],
  max: number,
): Promise<{ passed: number[]; refusals: Refusal[] }> {
  const passed = clients.map(() => 0);
  const refusals: Refusal[] = [];
  const refused = new Set<number>();
  for (let sent = 0; sent < max && refused.size < clients.length; sent++) {
    const index = sent % clients.length;
    if (refused.has(index)) continue;
    const refusal = await call(clients[index] as Client);
    if (refusal) {
      refused.add(index);
      refusals.push(refusal);
    } else passed[index] = (passed[index] as number) + 1;
  }
  return { passed, refusals };
}

describe('leased blocks in memory', () => {
  it("spend a key's rate exactly: the budget passes, then every call is refused", async () => {
    // 400 a minute: blocks of 4, counted in this process.
    const { config, keys } = limitedConfig({ rateLimits: { perKey: { perMinute: 400 } } });
    const one = await startHttpGateway(config);
    const { client: a } = await connectHttpClient(one, bearer(keys.a1));
    const { client: b } = await connectHttpClient(one, bearer(keys.a1));
    const { passed, refusals } = await drain([a, b], 1_000);
    expect((passed[0] as number) + (passed[1] as number) + 2).toBe(400);
    expect(refusals.map((refusal) => refusal.data)).toEqual([
      expect.objectContaining({ scope: 'key', limit: 400, window: 'perMinute' }),
      expect.objectContaining({ scope: 'key', limit: 400, window: 'perMinute' }),
    ]);
  });
});

describe('leased blocks in Redis', () => {
  it("two gateways take a key's rate in blocks and together admit exactly its budget", async () => {
    const { prefix: keyPrefix, redis } = prefix();
    // 400 a minute, leaseFraction 0.01: blocks of 4.
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 400 } } },
      { redis: { url: REDIS_URL, keyPrefix }, limits: { leaseFraction: 0.01 } },
    );
    const one = await startHttpGateway(config);
    const two = await startHttpGateway(config);
    const { client: a } = await connectHttpClient(one, bearer(keys.a1));
    const { client: b } = await connectHttpClient(two, bearer(keys.a1));
    const redisKey = `${keyPrefix}rl:key:perMinute:acme:key:${keys.a1Id}`;
    // Each initialize took a block of four and spent one of it.
    expect(await redis.get(redisKey)).toBe('8');
    const { passed, refusals } = await drain([a, b], 1_000);
    // Both gateways served calls, and with the two initializes they used the budget, no more.
    expect(passed.every((count) => count > 100)).toBe(true);
    expect((passed[0] as number) + (passed[1] as number) + 2).toBe(400);
    expect(refusals.map((refusal) => refusal.data)).toEqual([
      expect.objectContaining({ scope: 'key', limit: 400, window: 'perMinute' }),
      expect.objectContaining({ scope: 'key', limit: 400, window: 'perMinute' }),
    ]);
    expect(Number(await redis.get(redisKey))).toBeGreaterThanOrEqual(400);
  });

  it('a closing gateway gives the unspent points of its blocks back', async () => {
    const { prefix: keyPrefix, redis } = prefix();
    // 1000 a minute: blocks of 10.
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 1_000 } } },
      { redis: { url: REDIS_URL, keyPrefix } },
    );
    const one = await startHttpGateway(config);
    const { client } = await connectHttpClient(one, bearer(keys.a1));
    for (let index = 0; index < 3; index++) expect(await call(client)).toBeUndefined();
    const redisKey = `${keyPrefix}rl:key:perMinute:acme:key:${keys.a1Id}`;
    expect(await redis.get(redisKey)).toBe('10');
    await client.close();
    await one.gateway.close();
    // The initialize and three calls.
    expect(await redis.get(redisKey)).toBe('4');
  });

  it("two gateways take a tenant's monthly quota in blocks: exactly the quota passes, the 80% alert fires once", async () => {
    const { prefix: keyPrefix, redis } = prefix();
    // 600 calls a month, leaseFraction 0.01: blocks of 6.
    const { config, keys } = limitedConfig(
      { quota: { monthlyCalls: 600 } },
      { redis: { url: REDIS_URL, keyPrefix }, limits: { leaseFraction: 0.01 } },
    );
    const [logOne, logTwo] = [capturedLog(), capturedLog()];
    const one = await startHttpGateway(config, { log: logOne.log });
    const two = await startHttpGateway(config, { log: logTwo.log });
    const { client: a } = await connectHttpClient(one, bearer(keys.a1));
    const { client: b } = await connectHttpClient(two, bearer(keys.a2));
    const { passed, refusals } = await drain([a, b], 2_000);
    expect((passed[0] as number) + (passed[1] as number)).toBe(600);
    expect(passed.every((count) => count > 100)).toBe(true);
    expect(refusals).toHaveLength(2);
    for (const refusal of refusals) {
      expect(refusal.code).toBe(-32047);
      expect(refusal.message).toMatch(/monthly quota of 600 tool calls exceeded; resets on \d{4}-\d{2}-01/);
    }
    const alerts = [...logOne.lines(), ...logTwo.lines()].filter((line) => line.event === 'quota.threshold');
    expect(alerts.map((line) => [line.threshold, line.used])).toEqual(
      expect.arrayContaining([
        [0.8, 480],
        [1, 600],
      ]),
    );
    expect(alerts).toHaveLength(2);
    // The admin API reports the calls used, not the numbers the gateways still hold.
    expect((await one.gateway.limits.report('acme'))?.quota.used).toBe(600);
    const [quotaKey] = await redis.keys(`${keyPrefix}quota:acme:\\**`);
    expect(Number(await redis.get(quotaKey as string))).toBe(600);
  });

  it('leaseFraction 0 counts every call in Redis, exact to the call', async () => {
    const { prefix: keyPrefix, redis } = prefix();
    const { config, keys } = limitedConfig(
      { rateLimits: { perKey: { perMinute: 1_000 } } },
      { redis: { url: REDIS_URL, keyPrefix }, limits: { leaseFraction: 0 } },
    );
    const one = await startHttpGateway(config);
    const { client } = await connectHttpClient(one, bearer(keys.a1));
    for (let index = 0; index < 3; index++) expect(await call(client)).toBeUndefined();
    expect(await redis.get(`${keyPrefix}rl:key:perMinute:acme:key:${keys.a1Id}`)).toBe('4');
  });
});
