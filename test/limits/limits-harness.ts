/**
 * What the limits tests share: a config with a tier and its keys, a way to count how many calls
 * pass before a refusal, and a Redis key prefix of the test's own (deleted afterwards).
 */
import { randomBytes } from 'node:crypto';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Redis } from 'ioredis';
import { newApiKey } from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Keys for tenants acme (two) and globex (one), and a config giving acme the tier `basic`. */
export function limitedConfig(
  tier: Record<string, unknown>,
  gateway: Record<string, unknown> = {},
): { config: Record<string, unknown>; keys: { a1: string; a2: string; g1: string; a1Id: string } } {
  const a1 = newApiKey();
  const a2 = newApiKey();
  const g1 = newApiKey();
  return {
    keys: { a1: a1.key, a2: a2.key, g1: g1.key, a1Id: a1.id },
    config: {
      servers: { fx: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 64 } }) },
      tenants: {
        acme: { name: 'Acme', tier: 'basic', apiKeys: [a1.entry, a2.entry] },
        globex: { name: 'Globex', tier: 'free', apiKeys: [g1.entry] },
      },
      tiers: { basic: tier },
      gateway,
    },
  };
}

export type Refusal = { code: number; message: string; data: Record<string, unknown> };

/** Calls `tool` up to `max` times; how many passed before the first refusal, and that refusal. */
export async function callsUntilRefused(
  client: Client,
  tool: string,
  max: number,
): Promise<{ passed: number; refusal?: Refusal }> {
  for (let passed = 0; passed < max; passed++) {
    try {
      await client.callTool({ name: tool, arguments: {} });
    } catch (error) {
      if (!(error instanceof McpError)) throw error;
      // The SDK prefixes "MCP error <code>: "; the wire message is what follows.
      const message = error.message.replace(/^MCP error -?\d+: /, '');
      return { passed, refusal: { code: error.code, message, data: error.data as Record<string, unknown> } };
    }
  }
  return { passed: max };
}

/** A Redis key prefix of the test's own; `cleanup` deletes every key under it. */
export function redisPrefix(): { prefix: string; cleanup(): Promise<void>; redis: Redis } {
  const prefix = `mcplane-test-${randomBytes(6).toString('hex')}:`;
  const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 2 });
  return {
    prefix,
    redis,
    async cleanup() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

/**
 * What a Redis test file sets up per test: `prefix()` gives a key prefix of the test's own, and
 * `after(cleanup)` anything else to undo; `cleanUp()` (in afterEach) stops the HTTP gateways
 * (returning any child still running) and then runs every cleanup, prefixes' keys included.
 */
export function redisTestScope(stop: () => Promise<number[]>): {
  prefix(): ReturnType<typeof redisPrefix>;
  after(cleanup: () => Promise<void>): void;
  cleanUp(): Promise<number[]>;
} {
  const cleanups: (() => Promise<void>)[] = [];
  return {
    prefix() {
      const own = redisPrefix();
      cleanups.push(() => own.cleanup());
      return own;
    },
    after(cleanup) {
      cleanups.push(cleanup);
    },
    async cleanUp() {
      const left = await stop();
      for (const cleanup of cleanups.splice(0)) await cleanup();
      return left;
    },
  };
}
