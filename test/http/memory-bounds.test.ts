/**
 * What an authenticated client can make the gateway hold, and what it sees at each bound: the
 * resumption buffers are bounded in bytes (per session and gateway-wide) and a resume past a
 * dropped event is refused; nesting past `maxJsonDepth` is refused at the door; an SSE stream
 * whose client stops reading is closed at its high-water mark (or when it stalls), and the
 * client resumes from the buffer. The bounds are set small here; bench/hardening.ts measures
 * the defaults.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer } from '../support/harness.ts';
import {
  bearer,
  LATEST,
  newApiKey,
  openRawSession,
  POST_HEADERS,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from './http-harness.ts';
import { messageIn, parseSse, readUntil, sseEvents, type SseEvent } from './sse-events.ts';
import { openUnread } from './unread-stream.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const AUTH = bearer(acme.key);
const TENANTS = { acme: { name: 'Acme', apiKeys: [acme.entry] } };

type Message = Record<string, unknown> & { params?: Record<string, unknown> };
/** The message an event carries, typed for reading its params. */
const messageOf = (event: SseEvent): Message | undefined => messageIn(event);

type ErrorBody = { error: { code: number; message: string; data?: { code: string } } };

function gatewayWith(
  http: Record<string, unknown>,
  gateway: Record<string, unknown> = {},
): Promise<HttpGateway> {
  return startHttpGateway({
    // The transport's bounds are the subject: the output guard would truncate the large results.
    gateway: { guards: { enabled: false }, ...gateway, http },
    servers: { fixture: fixtureServer() },
    tenants: TENANTS,
  });
}

function sessionHeaders(sessionId: string): Record<string, string> {
  return { ...AUTH, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST };
}

/** GET with `Last-Event-ID`, retried while the server still counts the old stream as connected (409). */
async function resume(http: HttpGateway, sessionId: string, lastEventId: string): Promise<Response> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const response = await fetch(http.url, {
      headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream', 'last-event-id': lastEventId },
    });
    if (response.status !== 409 || Date.now() > deadline) return response;
    await response.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The events of an SSE body cut off anywhere: a last event without its blank line is not complete. */
function completeEvents(text: string): SseEvent[] {
  const normalized = text.replace(/\r\n?/g, '\n');
  return parseSse(normalized.slice(0, normalized.lastIndexOf('\n\n') + 2));
}

/**
 * Starts a call with progress, reads its stream up to the first progress notification, drops the
 * connection, and waits until the call has finished; returns the last event id the client saw.
 */
async function droppedCallStream(http: HttpGateway, sessionId: string): Promise<string> {
  const call = await postToSession(http, sessionId, AUTH, {
    jsonrpc: '2.0',
    id: 'slow-1',
    method: 'tools/call',
    params: { name: 'fixture__slow', arguments: { ms: 300, steps: 3 }, _meta: { progressToken: 'p' } },
  });
  const events = sseEvents(call.body as ReadableStream<Uint8Array>);
  const seen = await readUntil(events, (event) => messageIn(event)?.method === 'notifications/progress');
  await events.return(undefined);
  await eventually(() => http.gateway.inflight() === 0);
  return seen.at(-1)?.id as string;
}

/**
 * A call answered with `bytes` characters, read to the end by the client. It asks for progress,
 * so its answer is an SSE stream whose events the resumption buffer keeps (a plain call's JSON
 * answer is not buffered).
 */
async function bigCall(http: HttpGateway, sessionId: string, bytes: number): Promise<void> {
  const id = `big-${bytes}-${Math.random()}`;
  const response = await postToSession(http, sessionId, AUTH, {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name: 'fixture__big', arguments: { bytes }, _meta: { progressToken: id } },
  });
  expect((await response.text()).length).toBeGreaterThan(bytes);
}

describe('resumption buffers', () => {
  it('a resume that needs events the per-session byte bound dropped is refused with 410, not served with a gap', async () => {
    const http = await gatewayWith({ maxEventBytesPerSession: '256kb' });
    const sessionId = await openRawSession(http, AUTH);
    const lastEventId = await droppedCallStream(http, sessionId);
    // 300 KB of later answers push the dropped call's remaining progress and result out.
    for (let call = 0; call < 3; call++) await bigCall(http, sessionId, 100_000);

    const resumed = await resume(http, sessionId, lastEventId);
    expect(resumed.status).toBe(410);
    const body = (await resumed.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: -32034, data: { code: 'RESUME_GAP' } });
    expect(body.error.message).toMatch(/no longer kept/);
    // The session itself is fine: the client sends the request again.
    await bigCall(http, sessionId, 10);
  });

  it("all sessions together keep at most maxEventBytes, so one session's traffic drops another's oldest events", async () => {
    const http = await gatewayWith({ maxEventBytesPerSession: '1mb', maxEventBytes: '256kb' });
    const quiet = await openRawSession(http, AUTH);
    const lastEventId = await droppedCallStream(http, quiet);
    const busy = await openRawSession(http, AUTH);
    for (let call = 0; call < 3; call++) await bigCall(http, busy, 100_000);

    expect(http.front.streamable.events.bytes).toBeLessThanOrEqual(256 * 1024);
    const resumed = await resume(http, quiet, lastEventId);
    expect(resumed.status).toBe(410);
    expect(((await resumed.json()) as ErrorBody).error.data?.code).toBe('RESUME_GAP');
  });
});

describe('nesting depth', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 'bottom';
    for (let level = 0; level < depth; level++) value = { a: value };
    return value;
  };
  const deepCall = (depth: number): Record<string, unknown> => ({
    jsonrpc: '2.0',
    id: 'deep-1',
    method: 'tools/call',
    params: { name: 'fixture__echo', arguments: { deep: nested(depth) } },
  });

  it('a POST to /mcp nested deeper than maxJsonDepth is refused with 400 and -32600, and reaches no server', async () => {
    const http = await gatewayWith({ maxJsonDepth: 16 });
    const sessionId = await openRawSession(http, AUTH);
    // message → params → arguments → deep → 12 levels of `a` stays within 16 levels.
    const within = await postToSession(http, sessionId, AUTH, deepCall(12));
    expect(within.status).toBe(200);
    expect(await within.text()).toContain('bottom');

    const refused = await postToSession(http, sessionId, AUTH, deepCall(100));
    expect(refused.status).toBe(400);
    const body = (await refused.json()) as ErrorBody;
    expect(body.error).toMatchObject({ code: -32600, data: { code: 'JSON_TOO_DEEP' } });
    expect(body.error.message).toMatch(/deeper than 16 levels/);
    expect(http.gateway.inflight()).toBe(0);
  });

  it('a POST to /messages nested deeper than maxJsonDepth is refused with 400 and -32600', async () => {
    const http = await gatewayWith({ maxJsonDepth: 16 });
    const sse = await openUnread(new URL('/sse', http.origin), {
      method: 'GET',
      headers: { ...AUTH, accept: 'text/event-stream' },
    });
    const opening = await sse.readUntil((text) => /event: endpoint\ndata: (\S+)\n\n/.test(text));
    const endpoint = /event: endpoint\ndata: (\S+)\n\n/.exec(opening)?.[1] as string;
    const refused = await fetch(new URL(endpoint, http.origin), {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify(deepCall(100)),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ErrorBody).error).toMatchObject({
      code: -32600,
      data: { code: 'JSON_TOO_DEEP' },
    });
    sse.destroy();
  });

  it('a body of 2 MB of brackets is refused from its text without being parsed', async () => {
    const http = await gatewayWith({});
    const sessionId = await openRawSession(http, AUTH);
    const brackets = '['.repeat(1 << 20) + ']'.repeat(1 << 20);
    const refused = await postToSession(http, sessionId, AUTH, brackets);
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as ErrorBody).error.data?.code).toBe('JSON_TOO_DEEP');
  });
});

describe('clients that do not read', () => {
  const STREAM_LIMITS = {
    streamHighWaterMark: '64kb',
    maxEventBytesPerSession: '32mb',
    maxEventBytes: '64mb',
  };
  /** 15 MB: more than the kernel's socket buffers take from a client that does not read (about 4 MB). */
  const FLOOD = { count: 60, bytes: 256_000 };

  it('a POST stream whose client stops reading is closed at the high-water mark, and the client resumes the rest from the buffer', async () => {
    const http = await gatewayWith(STREAM_LIMITS);
    const sessionId = await openRawSession(http, AUTH);
    const stream = await openUnread(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...sessionHeaders(sessionId) },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'chatter-1',
        method: 'tools/call',
        params: { name: 'fixture__chatter', arguments: FLOOD, _meta: { progressToken: 'c' } },
      }),
    });
    expect(stream.status).toBe(200);
    let mostUnsent = 0;
    await eventually(() => {
      mostUnsent = Math.max(mostUnsent, http.front.streams.unsentBytes());
      return http.front.streams.stats.closedOverMark === 1;
    }, 30_000);
    // What the gateway held for the stream stayed within the mark plus the one message that crossed it.
    expect(mostUnsent).toBeLessThanOrEqual(64 * 1024 + FLOOD.bytes + 1024);

    const first = completeEvents(await stream.readAll()).flatMap((event) => {
      const message = messageOf(event);
      return message ? [{ id: event.id, message }] : [];
    });
    expect(first.some(({ message }) => message.id === 'chatter-1')).toBe(false);
    expect(first.length).toBeLessThan(FLOOD.count);

    // Resumed once the call is over, the rest is all replay; a client still falling behind live
    // traffic by more than the (tiny) mark would rightly be closed again.
    await eventually(() => http.gateway.inflight() === 0);
    const resumed = await resume(http, sessionId, first.at(-1)?.id as string);
    expect(resumed.status).toBe(200);
    const rest: Message[] = [];
    for await (const event of sseEvents(resumed.body as ReadableStream<Uint8Array>)) {
      const message = messageOf(event);
      if (message) rest.push(message);
      if (message?.id === 'chatter-1') break;
    }
    const all = [...first.map(({ message }) => message), ...rest];
    const progress = all
      .filter((message) => message.method === 'notifications/progress')
      .map((message) => message.params?.progress);
    expect(progress).toEqual(Array.from({ length: FLOOD.count }, (_, index) => index + 1));
    expect(all.filter((message) => message.id === 'chatter-1')).toHaveLength(1);
  });

  it('the GET stream of a client that stops reading is closed at the high-water mark and resumes with no gap', async () => {
    const http = await gatewayWith(STREAM_LIMITS);
    const sessionId = await openRawSession(http, AUTH);
    const stream = await openUnread(http.url, {
      method: 'GET',
      headers: { ...sessionHeaders(sessionId), accept: 'text/event-stream' },
    });
    expect(stream.status).toBe(200);
    const uri = `fixture://item/${'u'.repeat(FLOOD.bytes)}`;
    const subscribed = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      id: 'sub-1',
      method: 'resources/subscribe',
      params: { uri },
    });
    expect(await subscribed.text()).toContain('"result":{}');
    const touched = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      id: 'touch-1',
      method: 'tools/call',
      params: { name: 'fixture__touch', arguments: { uri, times: FLOOD.count } },
    });
    expect(await touched.text()).toContain('subscribed');
    await eventually(() => http.front.streams.stats.closedOverMark === 1, 30_000);

    const first = completeEvents(await stream.readAll()).filter((event) => messageIn(event) !== undefined);
    expect(first.length).toBeLessThan(FLOOD.count);
    const resumed = await resume(http, sessionId, first.at(-1)?.id as string);
    expect(resumed.status).toBe(200);
    const ids = new Set(first.map((event) => event.id));
    const events = sseEvents(resumed.body as ReadableStream<Uint8Array>);
    await readUntil(events, (event) => {
      if (messageIn(event)?.method === 'notifications/resources/updated') ids.add(event.id);
      return ids.size === FLOOD.count;
    });
    await events.return(undefined);
    expect(ids.size).toBe(FLOOD.count);
  });

  it('a legacy /sse stream whose client stops reading is closed at the high-water mark and its session ends', async () => {
    const http = await gatewayWith(STREAM_LIMITS);
    const sse = await openUnread(new URL('/sse', http.origin), {
      method: 'GET',
      headers: { ...AUTH, accept: 'text/event-stream' },
    });
    const opening = await sse.readUntil((text) => /event: endpoint\ndata: (\S+)\n\n/.test(text));
    const endpoint = new URL(/event: endpoint\ndata: (\S+)\n\n/.exec(opening)?.[1] as string, http.origin);
    const post = (message: Record<string, unknown>): Promise<Response> =>
      fetch(endpoint, {
        method: 'POST',
        headers: { ...AUTH, 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', ...message }),
      });
    const init = {
      protocolVersion: '2024-11-05',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    };
    expect((await post({ id: 0, method: 'initialize', params: init })).status).toBe(202);
    expect((await post({ method: 'notifications/initialized' })).status).toBe(202);
    let accepted = 0;
    for (let call = 1; call <= FLOOD.count; call++) {
      const response = await post({
        id: call,
        method: 'tools/call',
        params: { name: 'fixture__big', arguments: { bytes: FLOOD.bytes } },
      });
      // Once the stream is closed the session is gone and its id unknown.
      if (response.status !== 202) break;
      accepted++;
    }
    expect(accepted).toBeGreaterThan(0);
    await eventually(() => http.front.legacy.sessions.size === 0, 30_000);
    expect(http.front.streams.stats.closedOverMark).toBe(1);
    const received = completeEvents(await sse.readAll()).filter((event) => event.event === 'message');
    expect(received.length).toBeLessThan(FLOOD.count);
  });

  it('a stream whose client reads nothing for streamStallTimeout is closed, though one message may exceed the mark', async () => {
    const http = await gatewayWith(
      { ...STREAM_LIMITS, streamStallTimeout: '300ms' },
      { maxMessageSize: '16mb' },
    );
    const sessionId = await openRawSession(http, AUTH);
    // 12 MB is one message on a stream with nothing pending: it goes out, and the kernel takes
    // about 4 MB of it; the rest waits for a client that never reads.
    const stream = await openUnread(http.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, ...sessionHeaders(sessionId) },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'huge-1',
        method: 'tools/call',
        params: { name: 'fixture__big', arguments: { bytes: 12_000_000 } },
      }),
    });
    await eventually(() => http.front.streams.stats.closedStalled === 1, 30_000);
    expect(http.front.streams.stats.closedOverMark).toBe(0);
    expect(http.front.streams.unsentBytes()).toBe(0);
    const received = await stream.readAll();
    expect(received.length).toBeLessThan(12_000_000);
  });
});
