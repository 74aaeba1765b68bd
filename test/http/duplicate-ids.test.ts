/**
 * A request id that is still in use in the session: the second request gets a clear -32600 and
 * the first one is still answered, on Streamable HTTP and on legacy SSE; a batch that repeats
 * an id is refused as a whole.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer } from '../support/harness.ts';
import {
  bearer,
  initialize,
  newApiKey,
  openRawSession,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';
import { openRawLegacySession } from './raw-legacy-session.ts';
import { messageIn, parseSse } from './sse-events.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const AUTH = bearer(acme.key);

async function gateway(): Promise<HttpGateway> {
  return startHttpGateway({
    servers: { fixture: fixtureServer() },
    tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
  });
}

const slowCall = (id: number, ms: number): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'fixture__slow', arguments: { ms, steps: 1 } },
});

/** The JSON-RPC messages of an SSE or JSON response body. */
async function messagesOf(response: Response): Promise<Record<string, unknown>[]> {
  const text = await response.text();
  if (response.headers.get('content-type')?.startsWith('application/json')) {
    const body = JSON.parse(text) as Record<string, unknown> | Record<string, unknown>[];
    return Array.isArray(body) ? body : [body];
  }
  return parseSse(text).flatMap((event) => {
    const message = messageIn(event);
    return message ? [message] : [];
  });
}

describe('a request id already in use', () => {
  it('on /mcp: the second POST gets -32600 and the first is still answered', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const first = postToSession(http, sessionId, AUTH, slowCall(7, 1_500));
    // The first call is running in the child before the duplicate arrives.
    await waitUntil(() => http.gateway.inflight() === 1);

    const second = await postToSession(http, sessionId, AUTH, slowCall(7, 10));
    expect(second.status).toBe(400);
    expect(await second.json()).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: {
        code: -32600,
        message: 'request id 7 is already in use in this session',
        data: { code: 'INVALID_REQUEST' },
      },
    });

    const answers = await messagesOf(await first);
    expect(answers).toContainEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { content: [{ type: 'text', text: 'done' }] },
    });
    // Once answered, the id is free again.
    const again = await postToSession(http, sessionId, AUTH, slowCall(7, 10));
    expect((await messagesOf(again)).map((message) => message.id)).toEqual([7]);
  });

  it('on /mcp: two POSTs with one id sent at once give one answer and one -32600', async () => {
    const http = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    const responses = await Promise.all([
      postToSession(http, sessionId, AUTH, slowCall(3, 300)),
      postToSession(http, sessionId, AUTH, slowCall(3, 300)),
    ]);
    const outcomes = await Promise.all(responses.map(async (response) => (await messagesOf(response))[0]));
    expect(outcomes.filter((message) => message && 'result' in message)).toHaveLength(1);
    expect(outcomes.filter((message) => message && 'error' in message)).toEqual([
      expect.objectContaining({ id: 3, error: expect.objectContaining({ code: -32600 }) as unknown }),
    ]);
  });

  it('on /mcp: a batch of 100 requests sharing one id is refused as a whole, and the id stays free', async () => {
    const http = await gateway();
    // Batches exist only before 2025-06-18.
    const { sessionId } = await initialize(http, AUTH, '2025-03-26');
    const batch = Array.from({ length: 100 }, () => ({ jsonrpc: '2.0', id: 5, method: 'ping' }));
    const refused = await postToSession(http, sessionId as string, AUTH, batch, '2025-03-26');
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      id: 5,
      error: { code: -32600, message: 'request ids must be unique within a batch' },
    });
    expect(http.gateway.inflight()).toBe(0);

    const ping = await postToSession(
      http,
      sessionId as string,
      AUTH,
      { jsonrpc: '2.0', id: 5, method: 'ping' },
      '2025-03-26',
    );
    expect(await messagesOf(ping)).toEqual([{ jsonrpc: '2.0', id: 5, result: {} }]);
  });

  it('on legacy /messages: the second gets -32600 on the stream and the first is still answered', async () => {
    const http = await gateway();
    const legacy = await openRawLegacySession(http.origin, AUTH);
    try {
      expect((await legacy.post(slowCall(7, 1_000))).status).toBe(202);
      await waitUntil(() => http.gateway.inflight() === 1);
      expect((await legacy.post({ ...slowCall(7, 10), params: { name: 'fixture__echo' } })).status).toBe(202);

      expect(await legacy.answerTo(7)).toEqual({
        jsonrpc: '2.0',
        id: 7,
        error: {
          code: -32600,
          message: 'request id 7 is already in use in this session',
          data: { code: 'INVALID_REQUEST' },
        },
      });
      const first = await legacy.answerTo(7);
      expect(first).toEqual({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'done' }] } });
    } finally {
      legacy.close();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
