/**
 * What travels on the SSE streams: a call's progress and result on its POST stream, resumable
 * after a drop with `Last-Event-ID`; server-initiated notifications on the GET stream; a
 * server's sampling request on the stream of the call that caused it.
 */
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureServer, textJson } from '../support/harness.ts';
import {
  bearer,
  connectHttpClient,
  LATEST,
  newApiKey,
  openRawSession,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
} from './http-harness.ts';
import { messageIn, readUntil, sseEvents } from './sse-events.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const AUTH = bearer(acme.key);
const TENANTS = { acme: { name: 'Acme', apiKeys: [acme.entry] } };

type Message = Record<string, unknown> & { params?: Record<string, unknown> };

/**
 * GET with `Last-Event-ID`, as a reconnecting client does. Until the server has seen the old
 * connection close, the stream still counts as connected (409), so retry briefly, as a client
 * does by the `retry` hint of the priming event.
 */
async function resume(url: URL, sessionId: string, lastEventId: string): Promise<Response> {
  const deadline = Date.now() + 2_000;
  for (;;) {
    const response = await fetch(url, {
      headers: {
        ...AUTH,
        accept: 'text/event-stream',
        'mcp-session-id': sessionId,
        'mcp-protocol-version': LATEST,
        'last-event-id': lastEventId,
      },
    });
    if (response.status !== 409 || Date.now() > deadline) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('SSE streams', () => {
  it('a dropped call stream resumes with Last-Event-ID and delivers the remaining progress and the result exactly once', async () => {
    const http = await startHttpGateway({ servers: { fixture: fixtureServer() }, tenants: TENANTS });
    const sessionId = await openRawSession(http, AUTH);
    const call = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      id: 'slow-1',
      method: 'tools/call',
      params: { name: 'fixture__slow', arguments: { ms: 1000, steps: 5 }, _meta: { progressToken: 'p' } },
    });
    expect(call.status).toBe(200);
    expect(call.headers.get('content-type')).toMatch(/^text\/event-stream/);

    // Read until the first progress notification, then drop the connection.
    const events = sseEvents(call.body as ReadableStream<Uint8Array>);
    const before = await readUntil(events, (event) => messageIn(event)?.method === 'notifications/progress');
    await events.return(undefined);
    // A priming event (an id, no data) comes first (spec 2025-11-25, resumability).
    expect(before[0]).toMatchObject({ data: '' });
    expect(before[0]?.id).toBeTruthy();
    const lastEventId = before.at(-1)?.id as string;
    expect(lastEventId).toBeTruthy();

    // Stay away for more than one progress step, so some events can only arrive by replay.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const resumed = await resume(http.url, sessionId, lastEventId);
    expect(resumed.status).toBe(200);
    const after: Message[] = [];
    for await (const event of sseEvents(resumed.body as ReadableStream<Uint8Array>)) {
      expect(event.id, 'every resumed event can itself be resumed from').toBeTruthy();
      const message = messageIn(event);
      if (message) after.push(message);
      if (message?.id === 'slow-1') break;
    }

    const everything = [...before.flatMap((event) => messageIn(event) ?? []), ...after] as Message[];
    const progress = everything
      .filter((message) => message.method === 'notifications/progress')
      .map((message) => message.params?.progress);
    expect(progress).toEqual([1, 2, 3, 4, 5]);
    const results = everything.filter((message) => message.id === 'slow-1');
    expect(results).toEqual([
      { jsonrpc: '2.0', id: 'slow-1', result: { content: [{ type: 'text', text: 'done' }] } },
    ]);
  });

  it('the GET stream carries tools/list_changed caused by another session on the same server', async () => {
    const http = await startHttpGateway({
      // trust: auto, so the added tool is pinned at once rather than held for review.
      servers: { fixture: fixtureServer({ pool: { min: 1, max: 1 }, trust: 'auto' }) },
      tenants: TENANTS,
    });
    const watcher = await openRawSession(http, AUTH);
    const stream = await fetch(http.url, {
      headers: {
        ...AUTH,
        accept: 'text/event-stream',
        'mcp-session-id': watcher,
        'mcp-protocol-version': LATEST,
      },
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);

    const { client } = await connectHttpClient(http, AUTH);
    await client.callTool({ name: 'fixture__add_tool', arguments: { name: 'added_later' } });

    let seen: Message | undefined;
    for await (const event of sseEvents(stream.body as ReadableStream<Uint8Array>)) {
      seen = messageIn(event);
      if (seen) break;
    }
    expect(seen).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('fixture__added_later');
  });

  it('a sampling request from a session-mode server round-trips over the POST stream of the call', async () => {
    const http = await startHttpGateway({
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 1, max: 4 } }) },
      tenants: TENANTS,
    });
    // Records what the SSE response to each POSTed method carried, as it arrives.
    const streams = new Map<string, string>();
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as { method?: unknown }) : {};
      const isSse = response.headers.get('content-type')?.startsWith('text/event-stream') === true;
      if (typeof body.method !== 'string' || !isSse || !response.body) return response;
      const method = body.method;
      const [mine, theirs] = response.body.tee();
      void (async () => {
        const decoder = new TextDecoder();
        // The client may abort the stream at close; what was read by then is what counts.
        try {
          for await (const chunk of mine)
            streams.set(
              method,
              (streams.get(method) ?? '') + decoder.decode(chunk as Uint8Array, { stream: true }),
            );
        } catch {
          return;
        }
      })();
      return new Response(theirs, { status: response.status, headers: response.headers });
    };
    const { client } = await connectHttpClient(http, AUTH, { sampling: {} }, recordingFetch);
    const asked: string[] = [];
    client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
      const content = request.params.messages[0]?.content;
      asked.push(content && 'text' in content ? content.text : '');
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: 'sampled over http' } };
    });

    const result = await client.callTool({ name: 'own__sample', arguments: { prompt: 'hello?' } });
    expect(textJson<{ content: { text: string } }>(result).content.text).toBe('sampled over http');
    expect(asked).toEqual(['hello?']);
    expect(streams.get('tools/call')).toContain('"method":"sampling/createMessage"');
  });
});
