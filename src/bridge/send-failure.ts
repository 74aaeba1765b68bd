/**
 * What went wrong when a message could not be handed to the remote, read from whatever the SDK
 * transports throw: `StreamableHTTPError` and `SseError` carry an HTTP status in `code`, the
 * legacy transport's POST puts "(HTTP nnn)" in its message, and Node's fetch throws
 * `TypeError: fetch failed` with the socket error as its `cause`.
 */

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
  return error instanceof Error && (error.name === 'AbortError');
}
