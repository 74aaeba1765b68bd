/**
 * The attacker's HTTP: plain `http.request`, so the bench decides exactly what is read. A read
 * exchange collects the whole body; an unread one pauses the response once its headers are in,
 * so the client's socket stops taking bytes, as a hung or malicious client's would.
 */
import http from 'node:http';
import net from 'node:net';

export const PROTOCOL_VERSION = '2025-11-25';
const REQUEST_TIMEOUT_MS = 30_000;

export type Exchange = {
  readonly status: number;
  readonly sessionId: string | undefined;
  readonly text: string;
};

export type Unread = {
  readonly status: number;
  /** Reads what the response had so far until `stop` holds, then pauses again. */
  readUntil(stop: (text: string) => boolean, timeoutMs: number): Promise<string>;
  /** Reads on until the server closes the stream or `timeoutMs` passes; whether it closed, and the bytes read. */
  drain(timeoutMs: number): Promise<{ closed: boolean; bytes: number }>;
  destroy(): void;
};

const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });

function headersFor(
  sessionId: string | undefined,
  body: string | undefined,
): Record<string, string | number> {
  return {
    accept: 'application/json, text/event-stream',
    ...(body === undefined
      ? {}
      : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
    ...(sessionId === undefined
      ? {}
      : { 'mcp-session-id': sessionId, 'mcp-protocol-version': PROTOCOL_VERSION }),
  };
}

/** One request, its whole answer read. */
export function exchange(
  url: URL,
  options: { method?: 'POST' | 'GET' | 'DELETE'; sessionId?: string; body?: string },
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { agent, method: options.method ?? 'POST', headers: headersFor(options.sessionId, options.body) },
      (response) => {
        response.setEncoding('utf8');
        let text = '';
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const id = response.headers['mcp-session-id'];
          resolve({
            status: response.statusCode ?? 0,
            sessionId: typeof id === 'string' ? id : options.sessionId,
            text,
          });
        });
        response.on('error', reject);
      },
    );
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(options.body);
  });
}

/**
 * A request on a TCP connection of its own whose response is never read (until asked to): the
 * socket is paused as soon as the status line is in, so the kernel stops taking bytes for it.
 * Raw `net` rather than `http`, so that nothing in between reads on the attacker's behalf.
 */
export function unread(
  url: URL,
  options: { method: 'POST' | 'GET'; sessionId?: string; body?: string; headers?: Record<string, string> },
): Promise<Unread> {
  const headers: Record<string, string | number> = {
    host: url.host,
    connection: 'close',
    ...headersFor(options.sessionId, options.body),
    ...options.headers,
  };
  const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  const request = `${options.method} ${url.pathname}${url.search} HTTP/1.1\r\n${head.join('')}\r\n${options.body ?? ''}`;
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname);
    let text = '';
    let onData: (() => void) | undefined;
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.setEncoding('utf8');
    socket.once('error', reject);
    socket.on('data', (chunk: string) => {
      text += chunk;
      onData?.();
    });
    onData = () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!status || !text.includes('\r\n\r\n')) return;
      socket.pause();
      onData = undefined;
      socket.off('error', reject);
      socket.on('error', () => undefined);
      resolve({
        status: Number(status[1]),
        readUntil: (stop, timeoutMs) =>
          new Promise((done, fail) => {
            const timer = setTimeout(() => fail(new Error('nothing arrived in time')), timeoutMs);
            onData = () => {
              if (!stop(text)) return;
              clearTimeout(timer);
              onData = undefined;
              socket.pause();
              done(text);
            };
            socket.resume();
            onData();
          }),
        drain: async (timeoutMs) => {
          socket.resume();
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<false>((done) => (timer = setTimeout(() => done(false), timeoutMs)));
          const ended = await Promise.race([closed.then(() => true), timeout]);
          clearTimeout(timer);
          return { closed: ended, bytes: Buffer.byteLength(text) };
        },
        destroy: () => socket.destroy(),
      });
    };
    socket.write(request);
  });
}

/** initialize then notifications/initialized; the session id. */
export async function openSession(url: URL): Promise<string> {
  const init = await exchange(url, {
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: {
        protocolVersion: PROTOCOL_VERSION,
        capabilities: {},
        clientInfo: { name: 'bench', version: '0' },
      },
    }),
  });
  if (init.status !== 200 || init.sessionId === undefined) throw new Error(`initialize: HTTP ${init.status}`);
  const done = await exchange(url, {
    sessionId: init.sessionId,
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  if (done.status !== 202) throw new Error(`notifications/initialized: HTTP ${done.status}`);
  return init.sessionId;
}

let nextId = 1;

/** The body of a tools/call. */
export function callBody(
  name: string,
  args: Record<string, unknown>,
  meta?: Record<string, unknown>,
): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id: nextId++,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
  });
}

/** Closes the keep-alive sockets the read exchanges used. */
export function releaseSockets(): void {
  agent.destroy();
}
