/**
 * The ceiling: a bare node:http server that answers the MCP requests the benchmark sends with
 * canned results and no upstream. It reads and parses every body and mints session ids like a
 * real server, so what is left over is the HTTP and JSON cost every subject pays.
 *
 * Run as `node bench/http/bare-server.ts`; it prints `listening at <url>` and stops on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const PROTOCOL_VERSION = '2025-11-25';
const TOOL = { name: 'echo', description: 'Echo the arguments.', inputSchema: { type: 'object' } };

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
      return { tools: [TOOL] };
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
