/**
 * Session-mode capacity over HTTP: opening a session claims no process (its first call does),
 * sessions are capped per tenant and per principal, an idle dedicated process is given back,
 * and running out of anything is answered with an error that says what ran out and what to do.
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer, isRunning, textJson } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  initialize,
  newApiKey,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acmeKey = newApiKey();
const acmeOtherKey = newApiKey();
const globexKey = newApiKey();
const ACME = bearer(acmeKey.key);
const ACME_OTHER = bearer(acmeOtherKey.key);
const GLOBEX = bearer(globexKey.key);

function tenants(acmeExtra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    acme: { name: 'Acme', apiKeys: [acmeKey.entry, acmeOtherKey.entry], ...acmeExtra },
    globex: { name: 'Globex', apiKeys: [globexKey.entry] },
  };
}

const dedicated = (http: HttpGateway): number | undefined => http.gateway.status().servers.own?.dedicated;

async function pidOf(client: Awaited<ReturnType<typeof connectHttpClient>>['client']): Promise<number> {
  return textJson<{ pid: number }>(await client.callTool({ name: 'own__pid', arguments: {} })).pid;
}

async function callError(client: Awaited<ReturnType<typeof connectHttpClient>>['client']): Promise<McpError> {
  const error = await client.callTool({ name: 'own__pid', arguments: {} }).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(McpError);
  return error as McpError;
}

describe('session-mode capacity', () => {
  it('opening and listing claim no process; the first call claims one for that session alone', async () => {
    const http = await startHttpGateway({
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 1, max: 2 } }) },
      tenants: tenants(),
    });
    const idle = await Promise.all([1, 2, 3, 4].map(() => connectHttpClient(http, ACME)));
    for (const { client } of idle) {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toContain('own__pid');
    }
    // Four sessions that only listed hold no process of the two there are.
    expect(dedicated(http)).toBe(0);

    const { client } = await connectHttpClient(http, GLOBEX);
    const pid = await pidOf(client);
    expect(dedicated(http)).toBe(1);
    expect(await pidOf(client)).toBe(pid);
  });

  it("one tenant's sessions cannot take every process: its session limit answers 429 and another tenant still gets one", async () => {
    const http = await startHttpGateway({
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 1, max: 3 } }) },
      tenants: tenants({ sessionLimits: { perTenant: 2 } }),
    });
    const first = await connectHttpClient(http, ACME);
    const second = await connectHttpClient(http, ACME_OTHER);
    await Promise.all([pidOf(first.client), pidOf(second.client)]);

    const refused = await initialize(http, ACME);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(JSON.parse(refused.body)).toMatchObject({
      jsonrpc: '2.0',
      id: 0,
      error: {
        code: -32030,
        message: expect.stringMatching(
          /Tenant acme has 2 sessions open.*sessionLimits\.perTenant/,
        ) as unknown,
        data: { code: 'SESSION_LIMIT' },
      },
    });

    const globex = await connectHttpClient(http, GLOBEX);
    expect(isRunning(await pidOf(globex.client))).toBe(true);
    expect(dedicated(http)).toBe(3);

    // Every process is now someone's: a further session is told which server ran out, and what to do.
    const late = await connectHttpClient(http, GLOBEX);
    const exhausted = await callError(late.client);
    expect(exhausted.code).toBe(-32031);
    expect(exhausted.message).toMatch(/Server own has no process free.*all 3 are dedicated/);
    expect(exhausted.message).toMatch(/Retry later.*servers\.own\.pool\.max/);
    // Lists still work without a process.
    expect((await late.client.listTools()).tools.map((tool) => tool.name)).toContain('own__pid');
  });

  it('a principal at its session limit gets 429 while another principal of the same tenant still opens one', async () => {
    const http = await startHttpGateway({
      gateway: { sessionLimits: { perPrincipal: 1 } },
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 0, max: 2 } }) },
      tenants: tenants(),
    });
    await connectHttpClient(http, ACME);
    const refused = await initialize(http, ACME);
    expect(refused.response.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({
      error: { code: -32030, message: expect.stringMatching(/sessionLimits\.perPrincipal/) as unknown },
    });
    const other = await initialize(http, ACME_OTHER);
    expect(other.response.status).toBe(200);
    expect(other.sessionId).not.toBeNull();
  });

  it('a dedicated process idle past pool.idleTimeout is released; the session stays and its next call claims a fresh one', async () => {
    const http = await startHttpGateway({
      servers: {
        own: fixtureServer({ mode: 'session', pool: { min: 0, max: 2, idleTimeout: '1s' } }),
      },
      tenants: tenants(),
    });
    const { client, transport } = await connectHttpClient(http, ACME);
    const before = await pidOf(client);
    await eventually(() => dedicated(http) === 0 && !isRunning(before), 15_000);

    // The session itself is untouched.
    const ping = await postToSession(http, transport.sessionId as string, ACME, {
      jsonrpc: '2.0',
      id: 7,
      method: 'ping',
    });
    expect(ping.status).toBe(200);
    await ping.text();
    expect(http.gateway.sessionCount).toBe(1);

    const after = await pidOf(client);
    expect(after).not.toBe(before);
    expect(dedicated(http)).toBe(1);
  });
});
