/**
 * The gateway's one error type. Every failure the gateway itself produces carries a code from
 * {@link ERROR_CODES}; the code knows its HTTP status, its JSON-RPC error code and whether its
 * message may be shown to a client. Only the ingress layer turns a GatewayError into a wire
 * response. An upstream server's own JSON-RPC error is data and never becomes a GatewayError.
 */

type ErrorSpec = {
  /** HTTP status used when the error ends an HTTP exchange. */
  readonly http: number;
  /** JSON-RPC error code used when the error answers a request. */
  readonly rpc: number;
  /** Whether `message` may be shown to a client; otherwise the client sees `publicMessage`. */
  readonly expose: boolean;
  /** What a client sees when `expose` is false, or when no message was given. */
  readonly publicMessage: string;
};

// JSON-RPC 2.0 §5.1 reserves -32768..-32000; -32000..-32099 is for implementation-defined
// server errors, which is where the gateway's own failures live.
export const ERROR_CODES = {
  PARSE_ERROR: { http: 400, rpc: -32700, expose: true, publicMessage: 'Parse error' },
  INVALID_REQUEST: { http: 400, rpc: -32600, expose: true, publicMessage: 'Invalid request' },
  METHOD_NOT_FOUND: { http: 404, rpc: -32601, expose: true, publicMessage: 'Method not found' },
  INVALID_PARAMS: { http: 400, rpc: -32602, expose: true, publicMessage: 'Invalid params' },
  INTERNAL: { http: 500, rpc: -32603, expose: false, publicMessage: 'Internal error' },
  NOT_INITIALIZED: { http: 400, rpc: -32002, expose: true, publicMessage: 'Session not initialized' },
  UNKNOWN_TOOL: { http: 404, rpc: -32602, expose: true, publicMessage: 'Unknown tool' },
  UNKNOWN_PROMPT: { http: 404, rpc: -32602, expose: true, publicMessage: 'Unknown prompt' },
  UNKNOWN_RESOURCE: { http: 404, rpc: -32002, expose: true, publicMessage: 'Resource not found' },
  UPSTREAM_UNAVAILABLE: { http: 503, rpc: -32010, expose: true, publicMessage: 'Server unavailable' },
  UPSTREAM_EXITED: { http: 502, rpc: -32011, expose: true, publicMessage: 'Server process exited' },
  UPSTREAM_TIMEOUT: { http: 504, rpc: -32012, expose: true, publicMessage: 'Server did not answer in time' },
  UPSTREAM_MESSAGE_TOO_LARGE: {
    http: 502,
    rpc: -32013,
    expose: true,
    publicMessage: 'Server response exceeded the maximum message size',
  },
  POOL_QUEUE_FULL: { http: 503, rpc: -32014, expose: true, publicMessage: 'Server is at capacity' },
  POOL_QUEUE_TIMEOUT: {
    http: 503,
    rpc: -32015,
    expose: true,
    publicMessage: 'Timed out waiting for a server',
  },
  CLIENT_CAPABILITY_MISSING: {
    http: 400,
    rpc: -32016,
    expose: true,
    publicMessage: 'The client does not support this request',
  },
  UNATTRIBUTABLE: {
    http: 500,
    rpc: -32017,
    expose: true,
    publicMessage: 'The gateway cannot tell which client session this request belongs to',
  },
  SESSION_CLOSED: { http: 404, rpc: -32018, expose: true, publicMessage: 'Session closed' },
  GATEWAY_CLOSING: { http: 503, rpc: -32019, expose: true, publicMessage: 'Gateway is shutting down' },
  GATEWAY_STARTING: { http: 503, rpc: -32029, expose: true, publicMessage: 'Gateway is starting' },
  CONFIG_INVALID: { http: 500, rpc: -32603, expose: false, publicMessage: 'Invalid configuration' },
  UNKNOWN_TENANT: { http: 403, rpc: -32020, expose: false, publicMessage: 'Forbidden' },
  SESSION_NOT_FOUND: { http: 404, rpc: -32001, expose: true, publicMessage: 'Session not found' },
  UNAUTHENTICATED: { http: 401, rpc: -32021, expose: true, publicMessage: 'Authentication required' },
  FORBIDDEN: { http: 403, rpc: -32022, expose: true, publicMessage: 'Forbidden' },
  INSUFFICIENT_SCOPE: { http: 403, rpc: -32023, expose: true, publicMessage: 'Insufficient scope' },
  PAYLOAD_TOO_LARGE: { http: 413, rpc: -32600, expose: true, publicMessage: 'Request body too large' },
  SESSION_LIMIT: {
    http: 429,
    rpc: -32030,
    expose: true,
    publicMessage: 'Too many open sessions; close idle sessions or ask an operator to raise the limit',
  },
  DEDICATED_PROCESSES_EXHAUSTED: {
    http: 503,
    rpc: -32031,
    expose: true,
    publicMessage: 'Every process of this server is dedicated to another session; retry later',
  },
  NOT_FOUND: { http: 404, rpc: -32024, expose: true, publicMessage: 'Not found' },
  CONFLICT: { http: 409, rpc: -32025, expose: true, publicMessage: 'Conflict' },
  STORE_URL_INVALID: { http: 500, rpc: -32603, expose: false, publicMessage: 'Invalid store URL' },
  STORE_UNAVAILABLE: { http: 503, rpc: -32026, expose: false, publicMessage: 'Store unavailable' },
  STORE_SCHEMA_TOO_NEW: {
    http: 500,
    rpc: -32603,
    expose: false,
    publicMessage: 'The store was migrated by a newer mcplane',
  },
  STORE_SCHEMA_BEHIND: {
    http: 500,
    rpc: -32603,
    expose: false,
    publicMessage: 'The store needs migrating',
  },
  MASTER_KEY_INVALID: { http: 500, rpc: -32603, expose: false, publicMessage: 'Invalid master key' },
  MASTER_KEY_MISSING: {
    http: 500,
    rpc: -32027,
    expose: true,
    publicMessage: 'Storing a secret needs a master key (MCPLANE_MASTER_KEY), and none is configured',
  },
  SECRET_UNREADABLE: { http: 500, rpc: -32603, expose: false, publicMessage: 'Internal error' },
  RESHARE_FORBIDDEN: {
    http: 403,
    rpc: -32028,
    expose: true,
    publicMessage: 'This grant does not allow resharing',
  },
  CONFIG_MANAGED: {
    http: 409,
    rpc: -32032,
    expose: true,
    publicMessage: 'This is declared in the config file; change it there and reload',
  },
  SERVER_CONFIG_REJECTED: {
    http: 422,
    rpc: -32033,
    expose: true,
    publicMessage: 'The server did not start with this configuration',
  },
  // The audit log's own failures; they surface at start or in logs, never to a client.
  AUDIT_KEY_INVALID: { http: 500, rpc: -32603, expose: false, publicMessage: 'Internal error' },
  AUDIT_LOG_INVALID: { http: 500, rpc: -32603, expose: false, publicMessage: 'Internal error' },
  AUDIT_LOG_CLOSED: { http: 500, rpc: -32603, expose: false, publicMessage: 'Internal error' },
  // Only for a policy rule with a `reason`, which is its message; any other denial answers as
  // UNKNOWN_TOOL, UNKNOWN_PROMPT or UNKNOWN_RESOURCE so it does not reveal what exists.
  POLICY_DENIED: { http: 403, rpc: -32040, expose: true, publicMessage: 'Denied by policy' },
  // The message names the detector, never what it matched (guard stages build it).
  GUARD_BLOCKED: { http: 400, rpc: -32044, expose: true, publicMessage: 'Blocked by a content guard' },
  GUARD_UNAVAILABLE: {
    http: 503,
    rpc: -32045,
    expose: true,
    publicMessage: 'A content guard could not check this call',
  },
  // Tool-definition pinning: the message names the tool (as the client lists it) and says that
  // an admin must approve; the definition itself is never in it.
  TOOL_QUARANTINED: {
    http: 403,
    rpc: -32043,
    expose: true,
    publicMessage: 'This tool is quarantined until an admin approves its definition',
  },
  JSON_TOO_DEEP: {
    http: 400,
    rpc: -32600,
    expose: true,
    publicMessage: 'Invalid request: JSON nested too deeply',
  },
  // Resilience (src/resilience/): the message names the server and when it will be tried again;
  // the reply's data carries `server` and `retryAt` (ISO 8601).
  BREAKER_OPEN: {
    http: 503,
    rpc: -32054,
    expose: true,
    publicMessage: 'The server is failing; calls to it are paused for a while',
  },
  TENANT_QUEUE_FULL: {
    http: 429,
    rpc: -32055,
    expose: true,
    publicMessage: 'This tenant has as many calls waiting for the server as its tier allows; retry later',
  },
  // Limits (docs/limits.md). Their data carries retryAfterMs, retryAfterSeconds (ToolHive's
  // convention), limit and scope; over HTTP they also set Retry-After.
  RATE_LIMITED: { http: 429, rpc: -32046, expose: true, publicMessage: 'Rate limit exceeded' },
  QUOTA_EXCEEDED: { http: 429, rpc: -32047, expose: true, publicMessage: 'Quota exceeded' },
  LIMITS_UNAVAILABLE: {
    http: 503,
    rpc: -32048,
    expose: true,
    publicMessage: 'Rate limits cannot be checked right now; retry later',
  },
  LIMITS_INVALID: {
    http: 422,
    rpc: -32049,
    expose: true,
    publicMessage: 'These limits contradict each other',
  },
  RESUME_GAP: {
    http: 410,
    rpc: -32034,
    expose: true,
    publicMessage:
      'Cannot resume: events after this Last-Event-ID are no longer kept; send the request again',
  },
  // Sandboxed children (docs/sandbox.md): the message names the server and the limit it hit.
  SANDBOX_LIMIT: {
    http: 502,
    rpc: -32060,
    expose: true,
    publicMessage: 'The server process was stopped at a sandbox resource limit',
  },
  CALL_CPU_LIMIT: {
    http: 504,
    rpc: -32061,
    expose: true,
    publicMessage: 'The call used more CPU time than its limit allows',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** Structured, non-secret detail for logs; never sent to a client. */
  readonly detail: Record<string, unknown> | undefined;
  /** What a client may see besides the message (a limit's retry time), in the JSON-RPC `data`. */
  readonly data: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: {
      cause?: unknown;
      detail?: Record<string, unknown>;
      data?: Readonly<Record<string, unknown>>;
    },
  ) {
    super(
      message ?? ERROR_CODES[code].publicMessage,
      options?.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = 'GatewayError';
    this.code = code;
    this.detail = options?.detail;
    this.data = options?.data;
  }

  get spec(): ErrorSpec {
    return ERROR_CODES[this.code];
  }

  /** The message a client may see. */
  get publicMessage(): string {
    return this.spec.expose ? this.message : this.spec.publicMessage;
  }

  /** The JSON-RPC `error` member for this failure. */
  toJsonRpcError(): { code: number; message: string; data?: { code: ErrorCode } & Record<string, unknown> } {
    return { code: this.spec.rpc, message: this.publicMessage, data: { ...this.data, code: this.code } };
  }
}

/** Turns anything thrown into a GatewayError, hiding what is not one behind INTERNAL. */
export function asGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  return new GatewayError('INTERNAL', undefined, { cause: error });
}
