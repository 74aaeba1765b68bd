/**
 * What went wrong when a message could not be handed to the remote, read from whatever the SDK
 * transports throw: `StreamableHTTPError` and `SseError` carry an HTTP status in `code`, the
 * legacy transport's POST puts "(HTTP nnn)" in its message, and Node's fetch throws
 * `TypeError: fetch failed` with the socket error as its `cause`.
 */
import { isRequest, isResponse, type JSONRPCMessage } from '../jsonrpc/message.ts';

export type SendFailure =
  /** Nothing reached the remote (refused, no route, DNS): safe to send again later. */
  | { readonly kind: 'unreachable'; readonly reason: string }
  /** The connection broke mid-exchange: the remote may or may not have seen the message. */
  | { readonly kind: 'dropped'; readonly reason: string }
  /** The remote answered with an HTTP error status. */
  | { readonly kind: 'http'; readonly status: number; readonly reason: string }
  /** The bridge itself aborted the exchange while closing. */
  | { readonly kind: 'aborted'; readonly reason: string }
  | { readonly kind: 'other'; readonly reason: string };

// Errors raised before a request is written: the remote cannot have seen the message.
const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export function classifySendFailure(error: unknown): SendFailure {
  if (isAbort(error)) return { kind: 'aborted', reason: 'the bridge is closing' };
  const status = httpStatus(error);
  if (status !== undefined) return { kind: 'http', status, reason: `HTTP ${status}` };
  const code = socketErrorCode(error);
  if (code !== undefined && CONNECT_ERRORS.has(code)) return { kind: 'unreachable', reason: code };
  if (code !== undefined) return { kind: 'dropped', reason: code };
  // An SseError without a status: the event stream's fetch failed before any response.
  if (error instanceof Error && error.message.startsWith('SSE error:')) {
    return { kind: 'unreachable', reason: 'the event stream could not be opened' };
  }
  if (error instanceof TypeError && error.message === 'fetch failed') {
    return { kind: 'unreachable', reason: 'fetch failed' };
  }
  return { kind: 'other', reason: error instanceof Error ? error.message : String(error) };
}

function httpStatus(error: unknown): number | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'number' && code >= 100 && code <= 599) return code;
  const legacy = /\(HTTP (\d{3})\)/.exec(error.message);
  return legacy ? Number(legacy[1]) : undefined;
}

/** The first socket error code along the `cause` chain (and inside AggregateErrors). */
function socketErrorCode(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (code.startsWith('E') || code.startsWith('UND_ERR'))) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const found = socketErrorCode(inner, depth + 1);
      if (found !== undefined) return found;
    }
  }
  return socketErrorCode(error.cause, depth + 1);
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** What the client reads about a failure; never a header, a body or the key. */
export function describeSendFailure(failure: SendFailure): string {
  switch (failure.kind) {
    case 'unreachable':
      return `the remote is unreachable (${failure.reason})`;
    case 'dropped':
      return `the connection to the remote broke (${failure.reason}); the request may or may not have run`;
    case 'http':
      if (failure.status === 401 || failure.status === 403) {
        return `the remote refused the credentials (HTTP ${failure.status}); check --api-key or MCPLANE_API_KEY`;
      }
      return `the remote answered HTTP ${failure.status}`;
    case 'aborted':
      return 'the bridge is closing';
    case 'other':
      return `the remote transport failed (${failure.reason})`;
  }
}

/** What the bridge does with a client message whose send failed. */
export type FailureAction =
  /** Queue it and retry once the remote is reachable again. */
  | 'wait'
  /** The Streamable HTTP POST of the first `initialize` was refused: try legacy HTTP+SSE. */
  | 'fallback'
  /** The session is gone (404): open a new one, replay the handshake, resend. */
  | 'reinitialize'
  /** Drop it: an answer to a request of a session that is gone, or a send cut by a new session. */
  | 'drop'
  /** Give up and, for a request, answer the client with an error. */
  | 'fail';

export type FailedSend = {
  readonly failure: SendFailure;
  readonly message: JSONRPCMessage;
  readonly upstream: { readonly kind: 'streamable-http' | 'sse'; readonly hasSession: boolean };
  /** The client's `initialize` was answered, so there is a session to replay. */
  readonly initialized: boolean;
  /** The upstream the message went to has been replaced since. */
  readonly stale: boolean;
};

export function actionFor({ failure, message, upstream, initialized, stale }: FailedSend): FailureAction {
  if (failure.kind === 'aborted' && stale) return 'drop';
  if (failure.kind === 'unreachable') return 'wait';
  if (failure.kind !== 'http') return 'fail';
  const { status } = failure;
  const initialize = isRequest(message) && message.method === 'initialize';
  // Spec 2025-11-25, "Transports" §Backwards Compatibility: a 4xx to the first POST means an
  // HTTP+SSE server. 401 and 403 are about the credential, not the transport.
  if (
    initialize &&
    upstream.kind === 'streamable-http' &&
    !upstream.hasSession &&
    status >= 400 &&
    status < 500 &&
    status !== 401 &&
    status !== 403
  ) {
    return 'fallback';
  }
  // §Session Management: 404 to a request carrying a session id means the session is gone.
  if (status === 404 && upstream.hasSession && initialized)
    return isResponse(message) ? 'drop' : 'reinitialize';
  return 'fail';
}
