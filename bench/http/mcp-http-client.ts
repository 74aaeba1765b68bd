/**
 * The lightest client that still speaks Streamable HTTP (spec 2025-11-25, "Transports"
 * §Streamable HTTP): raw keep-alive `http.request` POSTs, the `Mcp-Session-Id` and
 * `MCP-Protocol-Version` headers, and an answer read from either a JSON body or the `data:`
 * lines of an SSE body. No SDK: its client costs more CPU per call than the servers measured.
 */
import http from 'node:http';

export const PROTOCOL_VERSION = '2025-11-25';
const REQUEST_TIMEOUT_MS = 10_000;

export type RpcAnswer = {
  readonly result?: Record<string, unknown>;
  readonly error?: { code: number; message: string };
};

export type Exchange = {
  readonly status: number;
  readonly sessionId: string | undefined;
  /** The JSON-RPC response in the body, if there was one. */
  readonly answer: RpcAnswer | undefined;
};

/** Where requests go, the keep-alive sockets they share, and headers every request carries (a credential). */
export type Endpoint = {
  readonly url: URL;
  readonly agent: http.Agent;
  readonly headers?: Readonly<Record<string, string>>;
};

export function endpoint(url: string, sockets: number, headers?: Record<string, string>): Endpoint {
  return {
    url: new URL(url),
    agent: new http.Agent({ keepAlive: true, maxSockets: sockets }),
    ...(headers === undefined ? {} : { headers }),
  };
}

let nextId = 1;

/** Sends one JSON-RPC message (a request when `method` has an id) and reads the answer. */
export function send(
  to: Endpoint,
  message: { method: string; params?: Record<string, unknown>; notification?: boolean },
  sessionId?: string,
  httpMethod: 'POST' | 'DELETE' = 'POST',
): Promise<Exchange> {
  const body =
    httpMethod === 'DELETE'
      ? ''
      : JSON.stringify({
          jsonrpc: '2.0',
          ...(message.notification ? {} : { id: nextId++ }),
          method: message.method,
          ...(message.params ? { params: message.params } : {}),
        });
  const headers: Record<string, string | number> = {
    ...to.headers,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  };
  if (sessionId !== undefined) {
    headers['mcp-session-id'] = sessionId;
    headers['mcp-protocol-version'] = PROTOCOL_VERSION;
  }
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        agent: to.agent,
        host: to.url.hostname,
        port: to.url.port,
        path: to.url.pathname,
        method: httpMethod,
        headers,
      },
      (response) => {
        response.setEncoding('utf8');
        let text = '';
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          const id = response.headers['mcp-session-id'];
          resolve({
            status: response.statusCode ?? 0,
            sessionId: typeof id === 'string' ? id : sessionId,
            answer: readAnswer(text, String(response.headers['content-type'] ?? '')),
          });
        });
        response.on('error', reject);
      },
    );
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('request timed out')));
    request.on('error', reject);
    request.end(body);
  });
}

/** The JSON-RPC response in a JSON body or in an SSE body's `data:` lines. */
function readAnswer(text: string, contentType: string): RpcAnswer | undefined {
  if (text.length === 0) return undefined;
  if (!contentType.startsWith('text/event-stream')) return parse(text);
  for (const line of text.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    // Priming events (spec 2025-11-25, SSE polling) carry an id and empty data.
    if (data.length === 0) continue;
    const message = parse(data);
    if (message && !('method' in message)) return message;
  }
  return undefined;
}

function parse(text: string): RpcAnswer | undefined {
  try {
    return JSON.parse(text) as RpcAnswer;
  } catch {
    return undefined;
  }
}

/** True when the exchange carried a JSON-RPC result (not an error, not an HTTP failure). */
export function succeeded(exchange: Exchange): boolean {
  return exchange.status === 200 && exchange.answer?.result !== undefined;
}

/**
 * Opens a session as a client would before its first call: initialize, the initialized
 * notification, tools/list (spec 2025-11-25, "Lifecycle"). Returns the session id, or
 * undefined when the server runs without sessions.
 */
export async function openSession(to: Endpoint): Promise<string | undefined> {
  const initialized = await send(to, {
    method: 'initialize',
    params: {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'mcplane-bench-http', version: '0.0.0' },
    },
  });
  if (!succeeded(initialized)) throw new Error(`initialize failed: HTTP ${initialized.status}`);
  const { sessionId } = initialized;
  const notified = await send(to, { method: 'notifications/initialized', notification: true }, sessionId);
  if (notified.status !== 202 && notified.status !== 200)
    throw new Error(`notifications/initialized failed: HTTP ${notified.status}`);
  const listed = await send(to, { method: 'tools/list', params: {} }, sessionId);
  if (!succeeded(listed)) throw new Error(`tools/list failed: HTTP ${listed.status}`);
  return sessionId;
}

/** Ends a session with DELETE (spec: "Session Management"); a server may refuse with 405. */
export async function closeSession(to: Endpoint, sessionId: string | undefined): Promise<void> {
  if (sessionId === undefined) return;
  await send(to, { method: '' }, sessionId, 'DELETE').catch(() => undefined);
}
