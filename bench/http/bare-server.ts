/**
 * The ceiling: a bare node:http server that answers the MCP requests the benchmark sends with
 * canned results and no upstream. It reads and parses every body and mints session ids like a
 * real server, so what is left over is the HTTP and JSON cost every subject pays.
 *
 * Its answers are the same as the subjects': `tools/list` is the echo fixture's own list (asked
 * of the fixture once over stdio before listening; the fixture is gone before any load), and a
 * call echoes its arguments.
 *
 * Run as `node bench/http/bare-server.ts <fixture.ts>`; it prints `listening at <url>` and stops
 * on SIGTERM.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createInterface } from 'node:readline';

const PROTOCOL_VERSION = '2025-11-25';
const FIXTURE_TIMEOUT_MS = 10_000;

/** The fixture's `tools/list` result, from one stdio exchange with it. */
async function fixtureTools(fixture: string): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [fixture], { stdio: ['pipe', 'pipe', 'ignore'] });
  const send = (message: Record<string, unknown>): void => {
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  };
  const timer = setTimeout(() => child.kill('SIGKILL'), FIXTURE_TIMEOUT_MS);
  try {
    send({
      id: 1,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'bare', version: '0' },
      },
    });
    send({ method: 'notifications/initialized' });
    send({ id: 2, method: 'tools/list' });
    for await (const line of createInterface({ input: child.stdout })) {
      const message = JSON.parse(line) as { id?: number; result?: Record<string, unknown> };
      if (message.id === 2 && message.result) return message.result;
    }
    throw new Error('the fixture ended without answering tools/list');
  } finally {
    clearTimeout(timer);
    child.kill('SIGTERM');
  }
}

const fixture = process.argv[2];
if (fixture === undefined) throw new Error('usage: bare-server.ts <fixture.ts>');
const TOOLS = await fixtureTools(fixture);

type Message = { id?: number | string; method?: string; params?: { arguments?: unknown } };

function resultFor(message: Message): Record<string, unknown> | undefined {
  switch (message.method) {
    case 'initialize':
      return {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: { tools: {} },
        serverInfo: { name: 'bare', version: '0.0.0' },
      };
    case 'tools/list':
      return TOOLS;
    case 'tools/call':
      return { content: [{ type: 'text', text: JSON.stringify(message.params?.arguments ?? {}) }] };
    default:
      return undefined;
  }
}

const server = http.createServer((request, response) => {
  if (request.method === 'DELETE') {
    response.writeHead(200).end();
    return;
  }
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    let message: Message;
    try {
      message = JSON.parse(body) as Message;
    } catch {
      response.writeHead(400).end();
      return;
    }
    if (message.id === undefined) {
      response.writeHead(202).end();
      return;
    }
    const result = resultFor(message);
    const payload = JSON.stringify(
      result
        ? { jsonrpc: '2.0', id: message.id, result }
        : { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: 'Method not found' } },
    );
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (message.method === 'initialize') headers['mcp-session-id'] = randomBytes(24).toString('base64url');
    response.writeHead(200, headers).end(payload);
  });
});

server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object')
    process.stdout.write(`listening at http://127.0.0.1:${address.port}/mcp\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
});
