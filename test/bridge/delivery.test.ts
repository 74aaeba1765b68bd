/**
 * What the local client sees when its messages cannot reach the remote, driven in-process: the
 * bridge's stdio on in-memory streams, raw JSON-RPC lines in and out, and remotes on 127.0.0.1
 * that are absent or misbehave. A request always gets an answer, never a hang.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startBridge, type BridgeOptions, type RunningBridge } from '../../src/bridge/bridge.ts';
import type { JSONRPCMessage } from '../../src/jsonrpc/message.ts';
import { silentLogger } from '../../src/log.ts';
import { eventually } from '../support/harness.ts';

type LocalClient = {
  readonly bridge: RunningBridge;
  readonly received: JSONRPCMessage[];
  write(message: Record<string, unknown>): void;
  answerTo(id: number): Promise<JSONRPCMessage>;
};

const running: RunningBridge[] = [];
const servers: Server[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((bridge) => bridge.close()));
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function localClient(url: string, options: Partial<BridgeOptions> = {}): Promise<LocalClient> {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const received: JSONRPCMessage[] = [];
  let buffer = '';
  stdout.setEncoding('utf8');
  stdout.on('data', (chunk: string) => {
    buffer += chunk;
    for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
      received.push(JSON.parse(buffer.slice(0, newline)) as JSONRPCMessage);
      buffer = buffer.slice(newline + 1);
    }
  });
  const bridge = await startBridge({ url: new URL(url), log: silentLogger(), stdin, stdout, ...options });
  running.push(bridge);
  const answerTo = async (id: number): Promise<JSONRPCMessage> => {
    const find = (): JSONRPCMessage | undefined =>
      received.find((message) => 'id' in message && message.id === id);
    await eventually(() => find() !== undefined, 10_000);
    return find() as JSONRPCMessage;
  };
  return {
    bridge,
    received,
    write: (message) => stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`),
    answerTo,
  };
}

const initialize = (id: number): Record<string, unknown> => ({
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'local', version: '1' } },
});

/** A plain HTTP server on 127.0.0.1 answering with `handler`. */
async function rawRemote(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

describe('delivery failures reach the client as JSON-RPC errors', () => {
  it('a request waiting for an unreachable remote past the queue timeout gets an error naming the reason', async () => {
    const local = await localClient('http://127.0.0.1:9/mcp', { queueTimeoutMs: 300 });
    local.write(initialize(1));
    const answer = await local.answerTo(1);
    expect(answer).toMatchObject({
      id: 1,
      error: {
        code: -32010,
        message: expect.stringMatching(/not delivered: the remote was not reachable within/) as unknown,
      },
    });
  });

  it('past the queue limit the oldest waiting request is answered with an error, the newer ones keep waiting', async () => {
    const local = await localClient('http://127.0.0.1:9/mcp', { queueLimit: 2 });
    for (const id of [1, 2, 3]) local.write({ id, method: 'ping' });
    const answer = await local.answerTo(1);
    expect(answer).toMatchObject({
      error: { message: expect.stringMatching(/queue is full \(2 messages\)/) as unknown },
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(local.received).toHaveLength(1);
  });

  it('an HTTP error from the remote answers the request with its status', async () => {
    const url = await rawRemote((_req, res) => res.writeHead(500).end('boom'));
    const local = await localClient(url);
    local.write(initialize(7));
    expect(await local.answerTo(7)).toMatchObject({
      error: { message: expect.stringMatching(/not delivered: the remote answered HTTP 500/) as unknown },
    });
  });

  it('a response stream that ends without the answer fails the request instead of leaving it hanging', async () => {
    const url = await rawRemote((_req, res) => {
      // A request's SSE stream that closes without a response and without an event id to resume.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(': nothing to see\n\n');
    });
    const local = await localClient(url);
    local.write(initialize(3));
    expect(await local.answerTo(3)).toMatchObject({
      error: { message: expect.stringMatching(/closed the response stream without answering/) as unknown },
    });
  });

  it('relays messages whose ids are strings and numbers unchanged', async () => {
    const url = await rawRemote((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const message = JSON.parse(body) as { id?: unknown };
        if (message.id === undefined) return res.writeHead(202).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: {} }));
      });
    });
    const local = await localClient(url);
    local.write({ id: 'abc', method: 'ping' });
    local.write({ id: 12, method: 'ping' });
    await eventually(() => local.received.length === 2);
    expect(local.received).toEqual(
      expect.arrayContaining([
        { jsonrpc: '2.0', id: 'abc', result: {} },
        { jsonrpc: '2.0', id: 12, result: {} },
      ]),
    );
  });
});
