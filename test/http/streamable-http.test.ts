/**
 * The official SDK client over Streamable HTTP, authenticated by API key, and the binding of
 * every session to the principal that opened it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, textJson } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  openRawSession,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
} from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const PING = { jsonrpc: '2.0', id: 1, method: 'ping' };

describe('Streamable HTTP with API keys', () => {
  it.each([
    ['Authorization: Bearer', (key: string) => bearer(key)],
    ['x-api-key', (key: string) => ({ 'x-api-key': key })],
  ])('an SDK client sending its key as %s lists namespaced tools and calls one', async (_name, header) => {
    const acme = newApiKey();
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer() },
      tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
    });
    const { client } = await connectHttpClient(http, header(acme.key));

    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(
      expect.arrayContaining(['fixture__echo', 'fixture__slow']),
    );
    expect(tools.every((tool) => tool.name.startsWith('fixture__'))).toBe(true);

    const echoed = textJson<{ arguments: unknown; meta: Record<string, unknown> }>(
      await client.callTool({ name: 'fixture__echo', arguments: { text: 'hello' } }),
    );
    expect(echoed.arguments).toEqual({ text: 'hello' });
    expect(echoed.meta['dev.mcplane/tenant']).toBe('acme');
    expect(echoed.meta['dev.mcplane/principal']).toBe(`key:${acme.id}`);
  });

  it("another tenant's key on a session id gets the same 404 as an unknown session id", async () => {
    const acme = newApiKey();
    const globex = newApiKey();
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer() },
      tenants: {
        acme: { name: 'Acme', apiKeys: [acme.entry] },
        globex: { name: 'Globex', apiKeys: [globex.entry] },
      },
    });
    const sessionId = await openRawSession(http, bearer(acme.key));

    const stolen = await postToSession(http, sessionId, bearer(globex.key), PING);
    const unknown = await postToSession(http, 'no-such-session-id', bearer(globex.key), PING);
    expect(stolen.status).toBe(404);
    expect(unknown.status).toBe(404);
    const stolenBody = await stolen.text();
    expect(stolenBody).toBe(await unknown.text());
    expect(JSON.parse(stolenBody)).toMatchObject({ error: { code: -32001, message: 'Session not found' } });

    // The session itself is alive: its own tenant still reaches it.
    const own = await postToSession(http, sessionId, bearer(acme.key), PING);
    expect(own.status).toBe(200);
    expect(await own.text()).toContain('"result":{}');
  });
});
