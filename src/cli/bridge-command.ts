/**
 * `mcplane bridge --url https://host/mcp [--api-key K] [--header 'Name: value']...`: a local
 * stdio MCP server for desktop clients that only speak stdio, relaying to a remote MCP server
 * over Streamable HTTP (or legacy HTTP+SSE). stdout carries only MCP; the log goes to stderr.
 * The key is sent as `Authorization: Bearer <key>` and is never written anywhere.
 */
import { parseArgs } from 'node:util';
import { startBridge } from '../bridge/bridge.ts';
import { Duration } from '../config/durations.ts';
import { createLogger } from '../log.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `usage: mcplane bridge --url <https://host/mcp> [options]

  --url <url>            the remote MCP endpoint (Streamable HTTP; legacy HTTP+SSE is detected)
  --api-key <key>        sent as Authorization: Bearer <key>; prefer the MCPLANE_API_KEY
                         environment variable, which other users cannot read from the process list
  --header 'Name: value' an extra HTTP header for every request (repeatable)
  --queue-limit <n>      client messages that may wait while the remote is unreachable (1000)
  --queue-timeout <d>    how long they may wait, e.g. 30s or 2m (60s)
  --log-level <level>    the stderr log level (info; also MCPLANE_LOG_LEVEL)
`;

// Headers the transports set themselves; a user value would break the protocol.
const RESERVED_HEADERS = new Set([
  'accept',
  'content-type',
  'content-length',
  'host',
  'last-event-id',
  'mcp-protocol-version',
  'mcp-session-id',
]);
const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

type Settings = {
  url: URL;
  headers: Record<string, string>;
  queueLimit: number;
  queueTimeoutMs: number;
  logLevel: string;
};

export async function bridgeCommand(args: string[], io: CommandIo): Promise<number> {
  const settings = parseSettings(args, io);
  if (settings === 'help') {
    io.stderr(USAGE);
    return 0;
  }
  if (typeof settings === 'string') {
    io.stderr(`mcplane bridge: ${settings}\n${USAGE}`);
    return 2;
  }
  const log = createLogger({ level: settings.logLevel, name: 'mcplane-bridge' });
  if (settings.url.protocol === 'http:' && settings.headers.Authorization && !isLoopback(settings.url)) {
    log.warn('sending the API key over plain http to a host that is not this machine');
  }
  const bridge = await startBridge({
    url: settings.url,
    headers: settings.headers,
    queueLimit: settings.queueLimit,
    queueTimeoutMs: settings.queueTimeoutMs,
    log,
  });
  const stop = (): void => void bridge.close();
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  await bridge.closed;
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  return 0;
}

function parseSettings(args: string[], io: CommandIo): Settings | string {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        url: { type: 'string' },
        'api-key': { type: 'string' },
        header: { type: 'string', multiple: true, default: [] },
        'queue-limit': { type: 'string', default: '1000' },
        'queue-timeout': { type: 'string', default: '60s' },
        'log-level': { type: 'string', default: io.env.MCPLANE_LOG_LEVEL ?? 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    // A stray argument may be a mistyped key: name the problem, not the value.
    const { code, message } = error as { code?: string; message: string };
    return code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' ? 'unexpected argument (not shown)' : message;
  }
  if (values.help) return 'help';
  const url = parseUrl(values.url);
  if (typeof url === 'string') return url;
  const headers = parseHeaders(values.header);
  if (typeof headers === 'string') return headers;
  const apiKey = values['api-key'] ?? io.env.MCPLANE_API_KEY;
  if (apiKey !== undefined && apiKey !== '') {
    if (Object.keys(headers).some((name) => name.toLowerCase() === 'authorization')) {
      return 'give either an API key or an Authorization --header, not both';
    }
    if (/[\r\n]/.test(apiKey)) return 'the API key contains a line break';
    headers.Authorization = `Bearer ${apiKey}`;
  }
  if (!LOG_LEVELS.has(values['log-level'])) return `--log-level must be one of ${[...LOG_LEVELS].join(', ')}`;
  const queueLimit = Number(values['queue-limit']);
  if (!Number.isInteger(queueLimit) || queueLimit < 1) return '--queue-limit must be a positive integer';
  const queueTimeout = Duration.safeParse(
    /^\d+$/.test(values['queue-timeout']) ? Number(values['queue-timeout']) : values['queue-timeout'],
  );
  if (!queueTimeout.success || queueTimeout.data < 1)
    return '--queue-timeout must be a duration such as 30s or 2m';
  return { url, headers, queueLimit, queueTimeoutMs: queueTimeout.data, logLevel: values['log-level'] };
}

function parseUrl(value: string | undefined): URL | string {
  if (value === undefined) return '--url is required';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return '--url is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return '--url must be http or https';
  return url;
}

/** `Name: value` pairs; values are never echoed, as they may be credentials. */
function parseHeaders(pairs: string[]): Record<string, string> | string {
  const headers: Record<string, string> = {};
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    const name = colon > 0 ? pair.slice(0, colon).trim() : '';
    const value = colon > 0 ? pair.slice(colon + 1).trim() : '';
    if (!HEADER_NAME.test(name)) return `--header must look like 'Name: value'`;
    if (/[\r\n\0]/.test(value)) return `--header ${name} has a line break in its value`;
    if (RESERVED_HEADERS.has(name.toLowerCase())) return `--header ${name} is set by the transport itself`;
    headers[name] = value;
  }
  return headers;
}

function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.hostname.startsWith('127.');
}
