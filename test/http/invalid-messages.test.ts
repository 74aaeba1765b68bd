/**
 * Valid JSON that is not valid JSON-RPC is refused at the door on both HTTP faces: 400 with
 * -32600 (or -32602 for params), never a 500, never -32700 (the JSON parsed), and at most one
 * warn line in the log; the session goes on working.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { capturedLog, ERROR, WARN } from '../support/captured-log.ts';
import { fixtureServer } from '../support/harness.ts';
import {
  bearer,
  newApiKey,
  openRawSession,
  postToSession,
  startHttpGateway,
  stopHttpGateways,
} from './http-harness.ts';
import { openRawLegacySession } from './raw-legacy-session.ts';
import { answerMessages } from './sse-events.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

const acme = newApiKey();
const AUTH = bearer(acme.key);

/** Each body is sent as written (a string), so ids past 2^53 reach the gateway unrounded. */
const CASES: readonly { name: string; body: string; code: number }[] = [
  {
    name: 'params as an array',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":[1,2]}',
    code: -32602,
  },
  {
    name: 'params as a string',
    body: '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}',
    code: -32602,
  },
  {
    name: '_meta that is not an object',
    body: '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":5}}',
    code: -32602,
  },
  {
    name: 'a fractional progress token',
    body: '{"jsonrpc":"2.0","id":1,"method":"ping","params":{"_meta":{"progressToken":1.5}}}',
    code: -32602,
  },
  { name: 'an id past 2^53', body: '{"jsonrpc":"2.0","id":9007199254740993,"method":"ping"}', code: -32600 },
  { name: 'a fractional id', body: '{"jsonrpc":"2.0","id":1.5,"method":"ping"}', code: -32600 },
  { name: 'a null id on a request', body: '{"jsonrpc":"2.0","id":null,"method":"ping"}', code: -32600 },
  {
    name: 'an extra top-level member',
    body: '{"jsonrpc":"2.0","id":1,"method":"ping","extra":true}',
    code: -32600,
  },
  { name: 'jsonrpc other than 2.0', body: '{"jsonrpc":"1.0","id":1,"method":"ping"}', code: -32600 },
  { name: 'a method that is not a string', body: '{"jsonrpc":"2.0","id":1,"method":7}', code: -32600 },
  {
    name: 'a response with both result and error',
    body: '{"jsonrpc":"2.0","id":1,"result":{},"error":{"code":1,"message":"x"}}',
    code: -32600,
  },
  { name: 'a result that is not an object', body: '{"jsonrpc":"2.0","id":1,"result":[]}', code: -32600 },
  {
    name: 'an error with a null id',
    body: '{"jsonrpc":"2.0","id":null,"error":{"code":1,"message":"x"}}',
    code: -32600,
  },
  {
    name: 'an error whose code is a string',
    body: '{"jsonrpc":"2.0","id":1,"error":{"code":"x","message":"y"}}',
    code: -32600,
  },
  { name: 'a JSON string', body: '"ping"', code: -32600 },
  { name: 'a JSON number', body: '42', code: -32600 },
];

type Refusal = { jsonrpc: string; id: unknown; error: { code: number; message: string } };

async function expectRefused(response: Response, code: number): Promise<void> {
  expect(response.status).toBe(400);
  const body = (await response.json()) as Refusal;
  expect(body.jsonrpc).toBe('2.0');
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(/^Invalid JSON-RPC message: /);
  expect(body.error.message).not.toMatch(/zod|invalid_type|\[/i);
}

async function gateway(): Promise<{
  http: Awaited<ReturnType<typeof startHttpGateway>>;
  log: ReturnType<typeof capturedLog>;
}> {
  const log = capturedLog();
  const http = await startHttpGateway(
    { servers: { fixture: fixtureServer() }, tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } } },
    { log: log.log },
  );
  return { http, log };
}

/** What the log says about the refusals: no error line at all, one warn line per refusal at most. */
function expectQuietLog(log: ReturnType<typeof capturedLog>, refusals: number): void {
  const lines = log.lines();
  expect(lines.filter((line) => line.level >= ERROR)).toEqual([]);
  expect(lines.filter((line) => line.level === WARN).length).toBeLessThanOrEqual(refusals);
  expect(log.text()).not.toMatch(/ZodError|invalid_union|Parse error/);
}

describe('valid JSON that is not JSON-RPC', () => {
  it('is refused on /mcp with 400 and -32600 or -32602, and the session still answers', async () => {
    const { http, log } = await gateway();
    const sessionId = await openRawSession(http, AUTH);
    for (const { name, body, code } of CASES) {
      const response = await postToSession(http, sessionId, AUTH, body);
      await expectRefused(response, code).catch((error: unknown) => {
        throw new Error(`${name}: ${String(error)}`);
      });
    }
    const ping = await postToSession(http, sessionId, AUTH, { jsonrpc: '2.0', id: 99, method: 'ping' });
    expect(ping.status).toBe(200);
    expect(await answerMessages(ping)).toContainEqual({
      jsonrpc: '2.0',
      id: 99,
      result: {},
    });
    expectQuietLog(log, CASES.length);
  });

  it('is refused on /mcp without a session id, before any session opens', async () => {
    const { http } = await gateway();
    const response = await fetch(http.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...AUTH },
      body: '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}},"extra":1}',
    });
    await expectRefused(response, -32600);
    expect(http.gateway.sessionCount).toBe(0);
  });

  it('is refused on legacy /messages with 400 and -32600 or -32602, not a 500, and the stream still answers', async () => {
    const { http, log } = await gateway();
    const legacy = await openRawLegacySession(http.origin, AUTH);
    try {
      for (const { name, body, code } of CASES) {
        const response = await legacy.post(body);
        await expectRefused(response, code).catch((error: unknown) => {
          throw new Error(`${name}: ${String(error)}`);
        });
      }
      expect((await legacy.post({ jsonrpc: '2.0', id: 99, method: 'ping' })).status).toBe(202);
      expect(await legacy.answerTo(99)).toEqual({ jsonrpc: '2.0', id: 99, result: {} });
      expectQuietLog(log, CASES.length);
    } finally {
      legacy.close();
    }
  });
});
