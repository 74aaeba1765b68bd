/**
 * What the front door refuses before any MCP work: foreign hosts and origins (DNS rebinding),
 * oversized bodies, unreadable JSON, batches where the protocol removed them, and unknown
 * protocol versions.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bearer,
  initialize,
  newApiKey,
  openRawSession,
  POST_HEADERS,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';
import { messageIn, parseSse } from './sse-events.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const AUTH = bearer(acme.key);

/** A gateway without servers: everything here is decided before a request could reach one. */
async function gateway(http: Record<string, unknown> = {}): Promise<HttpGateway> {
  return startHttpGateway({
    gateway: { http },
    servers: {},
    tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
  });
}

/** A POST with a Host header of our choosing, which `fetch` does not allow. */
async function postWithHost(target: HttpGateway, host: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target.url,
      { method: 'POST', headers: { ...POST_HEADERS, ...AUTH, host } },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

describe('request guards', () => {
  it('a foreign Origin or Host is refused with 403 while a localhost Origin passes', async () => {
    const http = await gateway();
    const foreignOrigin = await initialize(http, { ...AUTH, origin: 'https://evil.example' });
    expect(foreignOrigin.response.status).toBe(403);
    expect(JSON.parse(foreignOrigin.body)).toMatchObject({ error: { message: 'Origin not allowed' } });
    expect(foreignOrigin.sessionId).toBeNull();

    expect(await postWithHost(http, 'evil.example', INITIALIZE)).toBe(403);
    expect(await postWithHost(http, `evil.example:${http.url.port}`, INITIALIZE)).toBe(403);
    expect(http.gateway.sessionCount).toBe(0);

    const local = await initialize(http, { ...AUTH, origin: 'http://localhost:5173' });
    expect(local.response.status).toBe(200);
    expect(local.sessionId).not.toBeNull();
    expect(await postWithHost(http, `localhost:${http.url.port}`, INITIALIZE)).toBe(200);
  });

  it('a body larger than gateway.http.maxBodySize is refused with 413', async () => {
    const http = await gateway({ maxBodySize: 2048 });
    const sessionId = await openRawSession(http, AUTH);
    const call = (padding: string): Promise<Response> =>
      postToSession(http, sessionId, AUTH, {
        jsonrpc: '2.0',
        id: 1,
        method: 'ping',
        params: { _meta: { padding } },
      });

    const big = await call('x'.repeat(4096));
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: { data: { code: 'PAYLOAD_TOO_LARGE' } } });
    const small = await call('x'.repeat(100));
    expect(small.status).toBe(200);
    await small.body?.cancel();
  });

  it('malformed JSON is refused with 400 and a JSON-RPC parse error', async () => {
    const http = await gateway();
    const fresh = await fetch(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...AUTH },
      body: '{"jsonrpc": ',
    });
    expect(fresh.status).toBe(400);
    expect(await fresh.json()).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: {
        code: -32700,
        message: expect.stringMatching(/^Parse error/) as unknown,
        data: { code: 'PARSE_ERROR' },
      },
    });

    const sessionId = await openRawSession(http, AUTH);
    const inSession = await postToSession(http, sessionId, AUTH, '[{"jsonrpc":"2.0",');
    expect(inSession.status).toBe(400);
    expect(await inSession.json()).toMatchObject({ error: { code: -32700 } });
  });

  it('a JSON-RPC batch on a session that negotiated 2025-11-25 is refused with 400', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const batch = await postToSession(http, sessionId, AUTH, [
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      { jsonrpc: '2.0', id: 2, method: 'ping' },
    ]);
    expect(batch.status).toBe(400);
    expect(await batch.json()).toMatchObject({
      error: { code: -32600, message: expect.stringContaining('batches') as unknown },
    });
  });

  it('a JSON-RPC batch is still answered on a session that negotiated 2025-03-26', async () => {
    const http = await gateway();
    const { sessionId } = await initialize(http, AUTH, '2025-03-26');
    const batch = await postToSession(
      http,
      sessionId as string,
      AUTH,
      [
        { jsonrpc: '2.0', id: 1, method: 'ping' },
        { jsonrpc: '2.0', id: 2, method: 'ping' },
      ],
      '2025-03-26',
    );
    expect(batch.status).toBe(200);
    const answered = parseSse(await batch.text()).flatMap((event) => messageIn(event)?.id ?? []);
    expect(answered.sort()).toEqual([1, 2]);
  });

  it('an unsupported MCP-Protocol-Version header is refused with 400', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const ping = await postToSession(
      http,
      sessionId,
      AUTH,
      { jsonrpc: '2.0', id: 1, method: 'ping' },
      '1999-01-01',
    );
    expect(ping.status).toBe(400);
    expect(await ping.json()).toMatchObject({
      error: { message: expect.stringContaining('Unsupported protocol version') as unknown },
    });
    const supported = await postToSession(http, sessionId, AUTH, { jsonrpc: '2.0', id: 2, method: 'ping' });
    expect(supported.status).toBe(200);
    await supported.body?.cancel();
  });
});
