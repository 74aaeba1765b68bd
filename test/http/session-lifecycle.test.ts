/**
 * How an HTTP session ends: DELETE from the client, or expiry after `sessionIdleTimeout`. Either
 * way its calls are cancelled upstream, its dedicated processes stop, and its id is then unknown.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureServer, isRunning, textJson } from '../support/harness.ts';
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

const scratch = mkdtempSync(join(tmpdir(), 'mcplane-http-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const acme = newApiKey();
const AUTH = bearer(acme.key);
const TENANTS = { acme: { name: 'Acme', apiKeys: [acme.entry] } };
const PING = { jsonrpc: '2.0', id: 99, method: 'ping' };

function cancellations(file: string): unknown[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as unknown);
  } catch {
    return [];
  }
}

describe('HTTP session lifecycle', () => {
  it('DELETE ends the session, cancels its in-flight call upstream, and the id then gives 404', async () => {
    const cancelLog = join(scratch, 'delete-cancel.log');
    const http = await startHttpGateway({
      servers: { fixture: fixtureServer({ env: { FIXTURE_CANCEL_LOG: cancelLog } }) },
      tenants: TENANTS,
    });
    const sessionId = await openRawSession(http, AUTH);
    const call = await postToSession(http, sessionId, AUTH, {
      jsonrpc: '2.0',
      id: 'long',
      method: 'tools/call',
      params: { name: 'fixture__slow', arguments: { ms: 10_000, steps: 20 }, _meta: { progressToken: 1 } },
    });
    const events = sseEvents(call.body as ReadableStream<Uint8Array>);
    // The first progress proves the call is running in the child.
    await readUntil(events, (event) => messageIn(event)?.method === 'notifications/progress');

    const deleted = await fetch(http.url, {
      method: 'DELETE',
      headers: { ...AUTH, 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST },
    });
    expect(deleted.status).toBe(200);

    // The call's stream ends without a result, and the child hears the cancellation.
    const rest = await readUntil(events, () => false);
    expect(rest.filter((event) => messageIn(event)?.id === 'long')).toEqual([]);
    await eventually(() => cancellations(cancelLog).length === 1, 5_000);
    expect(http.gateway.inflight()).toBe(0);
    expect(http.gateway.sessionCount).toBe(0);

    const after = await postToSession(http, sessionId, AUTH, PING);
    expect(after.status).toBe(404);
    expect(await after.json()).toMatchObject({ error: { code: -32001 } });
  });

  it("an idle session expires: its id gives 404 and its session-mode server's process is stopped, while a busy one lives on", async () => {
    const http = await startHttpGateway({
      gateway: { http: { sessionIdleTimeout: 1_000 } },
      servers: { own: fixtureServer({ mode: 'session', pool: { min: 0, max: 4 } }) },
      tenants: TENANTS,
    });
    const { client, transport } = await connectHttpClient(http, AUTH);
    const { pid } = textJson<{ pid: number }>(await client.callTool({ name: 'own__pid', arguments: {} }));
    const idleId = transport.sessionId as string;
    expect(isRunning(pid)).toBe(true);
    // The client goes away without DELETE, as most do.
    await client.close();
    const busyId = await openRawSession(http, AUTH);
    const busySince = Date.now();

    // Asking about the idle session would count as activity, so watch it from the inside, while
    // the busy session keeps sending requests for longer than an idle one survives (the timeout
    // plus one sweep, which runs every second).
    const outlive = 1_000 + 1_000 + 200;
    while ((isRunning(pid) || Date.now() - busySince < outlive) && Date.now() - busySince < 8_000) {
      const ping = await postToSession(http, busyId, AUTH, PING);
      expect(ping.status).toBe(200);
      await ping.text();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(isRunning(pid)).toBe(false);
    expect(http.front.streamable.sessions.size).toBe(1);
    expect((await postToSession(http, idleId, AUTH, PING)).status).toBe(404);
    const busy = await postToSession(http, busyId, AUTH, PING);
    expect(busy.status).toBe(200);
    await busy.text();
  });
});
