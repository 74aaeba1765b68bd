/**
 * The reference point: a minimal node:http server that multiplexes every session over
 * one child of the echo fixture, as lean as such a server gets. It answers `initialize` itself
 * (minting a session id), forwards every other request to the child with its id rewritten
 * through a Map, answers with one `res.end()`, and writes the child's stdin once per turn of
 * the event loop. No auth, no checks, no pipeline: what is left is the cost of multiplexing.
 *
 * Run as `node bench/http/lean-multiplexer.ts <node> <fixture>`; prints `listening at <url>`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createInterface } from 'node:readline';

type Message = { id?: number | string; method?: string; params?: unknown; result?: unknown; error?: unknown };

const [command = process.execPath, fixture = ''] = process.argv.slice(2);
const child = spawn(command, [fixture], { stdio: ['pipe', 'pipe', 'inherit'] });
const waiting = new Map<number, { id: number | string; response: http.ServerResponse }>();
let nextId = 1;
let lines: string[] = [];
const flush = (): void => {
  child.stdin.write(`${lines.join('\n')}\n`);
  lines = [];
};
const send = (message: Message): void => {
  if (lines.length === 0) setImmediate(flush);
  lines.push(JSON.stringify({ jsonrpc: '2.0', ...message }));
};
createInterface({ input: child.stdout }).on('line', (line) => {
  const message = JSON.parse(line) as Message;
  const entry = typeof message.id === 'number' ? waiting.get(message.id) : undefined;
  if (!entry) return;
  waiting.delete(message.id as number);
  const { result, error } = message;
  const body = JSON.stringify({ jsonrpc: '2.0', id: entry.id, ...(error ? { error } : { result }) });
  entry.response.writeHead(200, { 'content-type': 'application/json' }).end(body);
});
// The child's own session: initialize once, before any client's request.
send({
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'lean', version: '0' } },
});
send({ method: 'notifications/initialized' });

const server = http.createServer((request, response) => {
  if (request.method === 'DELETE') return void response.writeHead(200).end();
  let body = '';
  request.setEncoding('utf8');
  request.on('data', (chunk: string) => (body += chunk));
  request.on('end', () => {
    const message = JSON.parse(body) as Message;
    if (message.id === undefined) return void response.writeHead(202).end();
    if (message.method === 'initialize') {
      const result = {
        protocolVersion: '2025-11-25',
        capabilities: { tools: {} },
        serverInfo: { name: 'lean', version: '0' },
      };
      const headers = {
        'content-type': 'application/json',
        'mcp-session-id': randomBytes(24).toString('base64url'),
      };
      return void response
        .writeHead(200, headers)
        .end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    }
    const id = nextId++;
    waiting.set(id, { id: message.id, response });
    send({ id, method: message.method, params: message.params });
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
  child.kill();
});
