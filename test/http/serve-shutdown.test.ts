/**
 * `mcplane serve` on SIGTERM: calls still running when `gateway.http.shutdownGrace` ends get the
 * GATEWAY_CLOSING JSON-RPC error on their streams before the streams close, on Streamable HTTP
 * and on legacy SSE, and the CLI still exits 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE, isRunning } from '../support/harness.ts';
import { killServes, startServe, writeServeConfig } from '../support/serve-cli.ts';
import { POST_HEADERS } from './http-harness.ts';
import { openRawLegacySession } from './raw-legacy-session.ts';
import { messageIn, readUntil, sseEvents } from './sse-events.ts';

afterEach(() => killServes());

const CONFIG = `gateway:
  auth: { anonymous: { tenant: local } }
  http: { shutdownGrace: 300ms }
servers:
  fixture:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(FIXTURE)}]
    pool: { min: 1, max: 1, maxInflight: 16 }
    timeouts: { startup: 10s, call: 60s, shutdown: 500ms }
tenants:
  local: { name: Local }
`;

/** With a progress token, so that its POST answer is an SSE stream from the start. */
const slowCall = (id: number | string, progress = true): Record<string, unknown> => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: {
    name: 'fixture__slow',
    arguments: { ms: 60_000, steps: 1 },
    ...(progress ? { _meta: { progressToken: `p-${id}` } } : {}),
  },
});

const CLOSING = {
  code: -32019,
  message: 'Gateway is shutting down',
  data: { code: 'GATEWAY_CLOSING' },
};

async function openStreamableSession(url: URL): Promise<string> {
  const init = await fetch(url, {
    method: 'POST',
    headers: POST_HEADERS,
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    }),
  });
  await init.text();
  const sessionId = init.headers.get('mcp-session-id');
  if (!sessionId) throw new Error(`initialize got ${init.status}`);
  const headers = { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
  await fetch(url, {
    method: 'POST',
    headers,
    body: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
  });
  return sessionId;
}

describe('mcplane serve shutdown', () => {
  it('answers calls still running after shutdownGrace with GATEWAY_CLOSING before closing their streams', async () => {
    const serve = await startServe(writeServeConfig(CONFIG));
    const sessionId = await openStreamableSession(serve.url);
    // Without progress the answer is one JSON body, sent when the call ends.
    const plain = fetch(serve.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(slowCall(2, false)),
    });
    const call = await fetch(serve.url, {
      method: 'POST',
      headers: { ...POST_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify(slowCall(1)),
    });
    // The SSE response is open once the session holds the call.
    expect(call.status).toBe(200);
    const legacy = await openRawLegacySession(serve.url.origin, {});
    expect((await legacy.post(slowCall('legacy-1'))).status).toBe(202);

    serve.child.kill('SIGTERM');

    const events = await readUntil(sseEvents(call.body as ReadableStream<Uint8Array>), (event) =>
      Boolean(messageIn(event)?.error),
    );
    const answers = events.flatMap((event) => {
      const message = messageIn(event);
      return message ? [message] : [];
    });
    expect(answers).toEqual([{ jsonrpc: '2.0', id: 1, error: CLOSING }]);
    expect(await (await plain).json()).toMatchObject({ id: 2, error: { data: { code: 'GATEWAY_CLOSING' } } });
    expect(await legacy.answerTo('legacy-1')).toEqual({ jsonrpc: '2.0', id: 'legacy-1', error: CLOSING });
    legacy.close();
    expect(await serve.exited).toBe(0);
    expect(serve.stderr()).toContain('shutdown grace over');
    expect(isRunning(serve.child.pid as number)).toBe(false);
  });
});
