/** The HTTP+SSE transport of protocol 2024-11-05, for clients that predate Streamable HTTP. */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer, textJson } from '../support/harness.ts';
import { bearer, newApiKey, startHttpGateway, stopHttpGateways, type HttpGateway } from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

async function legacyGateway(key: ReturnType<typeof newApiKey>): Promise<HttpGateway> {
  return startHttpGateway({
    servers: { fixture: fixtureServer() },
    tenants: { acme: { name: 'Acme', apiKeys: [key.entry] } },
  });
}

async function connectLegacy(http: HttpGateway, key: string): Promise<Client> {
  const client = new Client({ name: 'legacy-client', version: '1.0.0' });
  await client.connect(
    new SSEClientTransport(new URL('/sse', http.origin), { requestInit: { headers: bearer(key) } }),
  );
  return client;
}

describe('legacy HTTP+SSE', () => {
  it('an SDK SSE client on /sse lists namespaced tools and calls one', async () => {
    const acme = newApiKey();
    const http = await legacyGateway(acme);
    const client = await connectLegacy(http, acme.key);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('fixture__echo');
      const echoed = textJson<{ arguments: unknown; meta: Record<string, unknown> }>(
        await client.callTool({ name: 'fixture__echo', arguments: { text: 'old school' } }),
      );
      expect(echoed.arguments).toEqual({ text: 'old school' });
      expect(echoed.meta['dev.mcplane/tenant']).toBe('acme');
    } finally {
      await client.close();
    }
  });

  it('closing the SSE stream ends the legacy session and forgets its id', async () => {
    const acme = newApiKey();
    const http = await legacyGateway(acme);
    const client = await connectLegacy(http, acme.key);
    await client.ping();
    expect(http.front.legacy.sessions.size).toBe(1);
    await client.close();
    // The legacy transport has no DELETE: a dropped stream is the only goodbye.
    await eventually(() => http.gateway.sessionCount === 0, 5_000);
    expect(http.front.legacy.sessions.size).toBe(0);
  });

  it('/sse without a credential is 401 and opens no session', async () => {
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer({ pool: { min: 0, max: 1 } }) },
      tenants: { acme: { name: 'Acme', apiKeys: [newApiKey().entry] } },
    });
    const response = await fetch(new URL('/sse', http.origin), { headers: { accept: 'text/event-stream' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);
    expect(http.gateway.sessionCount).toBe(0);
  });
});
