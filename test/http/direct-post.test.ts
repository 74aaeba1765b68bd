/**
 * The Node-native POST path: a request to an open session that asks for no progress is answered
 * with one JSON body, and turns into an SSE stream only when the session has something to say
 * about the request before its answer. It refuses what the Hono path refuses.
 */
import { request as httpRequest } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { CAN_ADOPT_SESSIONS } from '../../src/ingress/http/streamable-http.ts';
import { fixtureServer } from '../support/harness.ts';
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
import { answerMessages } from './sse-events.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const other = newApiKey();
const AUTH = bearer(acme.key);

async function gateway(http: Record<string, unknown> = {}): Promise<HttpGateway> {
  return startHttpGateway({
    gateway: { http },
    servers: { fixture: fixtureServer() },
    tenants: {
      acme: { name: 'Acme', apiKeys: [acme.entry] },
      other: { name: 'Other', apiKeys: [other.entry] },
    },
  });
}

const echo = (id: number | string, _meta?: Record<string, unknown>): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'fixture__echo', arguments: { text: `hello ${id}` }, ...(_meta ? { _meta } : {}) },
});

describe('the direct POST path', () => {
  it('answers a call that asks for no progress with one JSON body carrying the session id', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const response = await postToSession(http, sessionId, AUTH, echo(7));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('mcp-session-id')).toBe(sessionId);
    const body = (await response.json()) as { id: number; result: { content: { text: string }[] } };
    expect(body.id).toBe(7);
    expect(JSON.stringify(body.result.content)).toContain('hello 7');
  });

  it('answers a call that asks for progress as an SSE stream', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const response = await postToSession(http, sessionId, AUTH, echo(8, { progressToken: 'p' }));
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect((await answerMessages(response)).find((message) => message.id === 8)).toHaveProperty('result');
  });

  it('turns the answer into an SSE stream when the server logs about the call before answering', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    await (
      await postToSession(http, sessionId, AUTH, {
        jsonrpc: '2.0',
        id: 'level',
        method: 'logging/setLevel',
        params: { level: 'debug' },
      })
    ).text();
    const response = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'fixture__log', arguments: { level: 'info', message: 'working on it' } },
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const messages = await answerMessages(response);
    expect(messages.map((message) => message.method ?? message.id)).toEqual(['notifications/message', 9]);
    expect(messages[0]).toMatchObject({ params: { level: 'info', data: 'working on it' } });
  });

  it("treats another principal's session id like an unknown one: 404", async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const response = await postToSession(http, sessionId, bearer(other.key), echo(1));
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: number } }).error.code).toBe(-32001);
  });

  it('refuses a request whose id is still in flight in the session, and the first one is answered', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const slow = {
      jsonrpc: '2.0',
      id: 'same',
      method: 'tools/call',
      params: { name: 'fixture__slow', arguments: { ms: 300, steps: 1 } },
    };
    const first = postToSession(http, sessionId, AUTH, slow);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const second = await postToSession(http, sessionId, AUTH, echo('same'));
    expect(second.status).toBe(400);
    expect(((await second.json()) as { error: { message: string } }).error.message).toMatch(/already in use/);
    expect(((await (await first).json()) as { id: string; result?: unknown }).result).toBeDefined();
  });

  it('refuses a body over maxBodySize sent without a length (chunked) with 413', async () => {
    const http = await gateway({ maxBodySize: '1kb' });
    const sessionId = await openRawSession(http, AUTH);
    const body = JSON.stringify(echo(1)).replace('hello 1', 'x'.repeat(4_000));
    const { status, text } = await chunkedPost(http, sessionId, body);
    expect(status).toBe(413);
    expect(JSON.parse(text)).toMatchObject({ error: { data: { code: 'PAYLOAD_TOO_LARGE' } } });
  });

  it('refuses a wrong Host with 403 and an unsupported protocol version with 400, as the Hono path does', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const badHost = await chunkedPost(http, sessionId, JSON.stringify(echo(1)), { host: 'evil.example' });
    expect(badHost.status).toBe(403);
    const badVersion = await postToSession(http, sessionId, AUTH, echo(2), '1999-01-01');
    expect(badVersion.status).toBe(400);
    expect(await badVersion.text()).toMatch(/Unsupported protocol version/);
  });

  it('accepts a notification with 202 and no body', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const response = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 'none' },
    });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
  });
});

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

describe('the direct initialize', () => {
  it('can tell the SDK transport a session id (or this SDK renamed the field it keeps that in)', () => {
    expect(CAN_ADOPT_SESSIONS).toBe(true);
  });

  it('answers initialize with one JSON body and a session the SDK transport then serves: GET stream, DELETE', async () => {
    const http = await gateway();
    const { response, body, sessionId } = await initialize(http, AUTH);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(sessionId).toMatch(/^[\w-]{20,}$/);
    expect(JSON.parse(body)).toMatchObject({ id: 0, result: { protocolVersion: '2025-11-25' } });
    const id = sessionId as string;
    expect(
      (await postToSession(http, id, AUTH, { jsonrpc: '2.0', method: 'notifications/initialized' })).status,
    ).toBe(202);
    expect(await (await postToSession(http, id, AUTH, echo(1))).json()).toMatchObject({ id: 1 });

    // The GET stream and DELETE go to the SDK transport, which must know the session as its own.
    const stream = await fetch(http.url, {
      headers: {
        ...AUTH,
        accept: 'text/event-stream',
        'mcp-session-id': id,
        'mcp-protocol-version': '2025-11-25',
      },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    await stream.body?.cancel();
    const deleted = await fetch(http.url, {
      method: 'DELETE',
      headers: { ...AUTH, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' },
    });
    expect(deleted.status).toBe(200);
    expect((await postToSession(http, id, AUTH, echo(2))).status).toBe(404);
  });

  it('binds the session to the principal that opened it: another key gets 404, a second initialize 400', async () => {
    const http = await gateway();
    const { sessionId } = await initialize(http, AUTH);
    const id = sessionId as string;
    expect((await postToSession(http, id, bearer(other.key), echo(1))).status).toBe(404);
    const again = await postToSession(http, id, AUTH, INITIALIZE);
    expect(again.status).toBe(400);
    expect(await again.text()).toMatch(/already initialized/);
  });

  it('refuses without a credential (401), while draining (503), and a POST without a session id that is not an initialize (400)', async () => {
    const http = await gateway();
    const anonymous = await fetch(http.url, {
      method: 'POST',
      headers: POST_HEADERS,
      body: JSON.stringify(INITIALIZE),
    });
    expect(anonymous.status).toBe(401);
    const notInitialize = await fetch(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...AUTH },
      body: JSON.stringify(echo(3)),
    });
    expect(notInitialize.status).toBe(400);
    expect(await notInitialize.text()).toMatch(/Mcp-Session-Id header is required/);
    http.front.drain();
    const draining = await fetch(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...AUTH },
      body: JSON.stringify(INITIALIZE),
    });
    expect(draining.status).toBe(503);
    expect(http.gateway.sessionCount).toBe(0);
  });

  it('ends a session on DELETE only for the principal that opened it; others and unknown ids get 404', async () => {
    const http = await gateway();
    const id = await openRawSession(http, AUTH);
    const del = (headers: Record<string, string>, session = id): Promise<Response> =>
      fetch(http.url, {
        method: 'DELETE',
        headers: { ...headers, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
      });
    expect((await del({})).status).toBe(401);
    expect((await del(bearer(other.key))).status).toBe(404);
    expect((await del(AUTH, 'no-such-session')).status).toBe(404);
    expect(http.gateway.sessionCount).toBe(1);
    expect(await (await postToSession(http, id, AUTH, echo(1))).json()).toMatchObject({ id: 1 });
    const deleted = await del(AUTH);
    expect(deleted.status).toBe(200);
    expect(await deleted.text()).toBe('');
    expect(http.gateway.sessionCount).toBe(0);
    expect((await del(AUTH)).status).toBe(404);
  });

  it('answers an initialize over the session limit with 429 under its own id, and opens nothing', async () => {
    const http = await startHttpGateway({
      gateway: { sessionLimits: { perPrincipal: 1 } },
      servers: { fixture: fixtureServer() },
      tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
    });
    expect((await initialize(http, AUTH)).response.status).toBe(200);
    const over = await fetch(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...AUTH },
      body: JSON.stringify(INITIALIZE),
    });
    expect(over.status).toBe(429);
    expect(((await over.json()) as { id: unknown }).id).toBe('init');
    expect(http.gateway.sessionCount).toBe(1);
  });
});

/** A POST through node:http, so the body goes chunked and the Host header can be set. */
function chunkedPost(
  http: HttpGateway,
  sessionId: string,
  body: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      http.url,
      {
        method: 'POST',
        headers: {
          ...POST_HEADERS,
          ...AUTH,
          'mcp-session-id': sessionId,
          'mcp-protocol-version': '2025-11-25',
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
      },
    );
    request.on('error', reject);
    // Two writes before end: node:http sends them chunked, with no content-length.
    request.write(body.slice(0, 10));
    request.end(body.slice(10));
  });
}
