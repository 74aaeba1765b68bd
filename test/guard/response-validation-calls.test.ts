/**
 * Response validation through the real gateway: the fixture's `structured` tool declares an
 * outputSchema (an integer `count`), and the gateway finds that schema for the call, in the
 * calling tenant's own pool, and blocks or passes a result that does not match it, per config.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { createGateway, type Gateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { silentLogger } from '../../src/log.ts';
import { connectClient, fixtureServer, testConfig } from '../support/harness.ts';

const gateways: Gateway[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
});

async function gatewayWith(responseValidation: 'block' | 'off'): Promise<Gateway> {
  const config = testConfig({
    servers: {
      fx: fixtureServer({ mode: 'tenant', env: { FIXTURE_STRUCTURED: '1' }, pool: { min: 0, max: 1 } }),
    },
    gateway: { guards: { responseValidation } },
  });
  const gateway = await createGateway(config, { log: silentLogger() });
  gateways.push(gateway);
  return gateway;
}

/** A raw tools/call: the SDK's `callTool` would check the outputSchema itself. */
function call(client: Client, count: unknown) {
  return client.request(
    { method: 'tools/call', params: { name: 'fx__structured', arguments: { count } } },
    CallToolResultSchema,
  );
}

describe('response validation of real results', () => {
  it("blocks a result that does not match the tool's outputSchema, in each tenant's own pool", async () => {
    const gateway = await gatewayWith('block');
    for (const tenant of ['acme', 'globex']) {
      const { client } = await connectClient(gateway, localPrincipal(tenant));
      const listed = await client.listTools();
      expect(listed.tools.find((tool) => tool.name === 'fx__structured')?.outputSchema).toMatchObject({
        properties: { count: { type: 'integer' } },
      });
      expect((await call(client, 3)).structuredContent).toEqual({ count: 3 });
      const blocked = await call(client, 'three').then(
        () => undefined,
        (error: unknown) => error as { message: string; data?: Record<string, unknown> },
      );
      expect(blocked?.message).toContain('Blocked by the response-validation guard');
      expect(blocked?.data).toMatchObject({
        detector: 'response-validation',
        where: 'result.structuredContent',
      });
      await client.close();
    }
  });

  it('passes the same result when validation is off', async () => {
    const gateway = await gatewayWith('off');
    const { client } = await connectClient(gateway);
    expect((await call(client, 'three')).structuredContent).toEqual({ count: 'three' });
    await client.close();
  });
});
