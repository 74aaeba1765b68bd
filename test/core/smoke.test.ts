import { afterEach, describe, expect, it } from 'vitest';
import type { Gateway } from '../../src/gateway.ts';
import { connectClient, fixtureServer, startGateway, textJson } from '../support/harness.ts';

let gateway: Gateway | undefined;
afterEach(async () => {
  await gateway?.close();
  gateway = undefined;
});

describe('the core', () => {
  it('lists namespaced tools and calls one through a pooled process', async () => {
    gateway = await startGateway({ servers: { echo: fixtureServer() } });
    const { client } = await connectClient(gateway);
    const tools = await client.listTools();
    expect(tools.tools.map((tool) => tool.name)).toContain('echo__echo');
    const result = await client.callTool({ name: 'echo__echo', arguments: { text: 'hi' } });
    const body = textJson<{ arguments: { text: string }; meta: Record<string, unknown> }>(result);
    expect(body.arguments.text).toBe('hi');
    expect(body.meta['dev.mcplane/tenant']).toBe('acme');
  });
});
