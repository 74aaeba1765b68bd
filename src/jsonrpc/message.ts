/**
 * JSON-RPC 2.0 message shapes, on the SDK's types. The data path classifies messages with these
 * cheap structural checks rather than a full schema parse: the gateway forwards params and
 * results it does not need to understand, and the child or client validates its own input.
 */
import type {
  JSONRPCErrorResponse,
  JSONRPCMessage,
  JSONRPCNotification,
  JSONRPCRequest,
  JSONRPCResultResponse,
  RequestId,
} from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId };
export type JSONRPCResult = JSONRPCResultResponse;
export type JSONRPCError = JSONRPCErrorResponse;
export type JSONRPCResponse = JSONRPCResultResponse | JSONRPCErrorResponse;

type Params = Record<string, unknown> & { _meta?: Record<string, unknown> };

export function isRequestId(value: unknown): value is RequestId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value));
}

export function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message;
}

export function isNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && !('id' in message);
}

export function isResponse(message: JSONRPCMessage): message is JSONRPCResponse {
  return !('method' in message) && ('result' in message || 'error' in message);
}

export function isErrorResponse(message: JSONRPCMessage): message is JSONRPCError {
  return 'error' in message;
}

/**
 * Checks that a parsed value has the shape of one JSON-RPC 2.0 message. Returns a reason when it
 * does not, so callers can log what was wrong without echoing the value.
 */
export function checkMessageShape(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  if (record.jsonrpc !== '2.0') return 'jsonrpc is not "2.0"';
  if ('method' in record) {
    if (typeof record.method !== 'string') return 'method is not a string';
    if ('id' in record && !isRequestId(record.id)) return 'id is not a string or integer';
    if ('params' in record && (typeof record.params !== 'object' || record.params === null)) {
      return 'params is not an object';
    }
    return undefined;
  }
  if (!('id' in record)) return 'neither a request, a notification nor a response';
  if ('result' in record) return isRequestId(record.id) ? undefined : 'id is not a string or integer';
  if ('error' in record) {
    const error = record.error as Record<string, unknown> | null;
    if (typeof error !== 'object' || error === null || typeof error.code !== 'number') {
      return 'error is not a JSON-RPC error object';
    }
    // An error answering an unparseable request may carry a null id (JSON-RPC 2.0 §5).
    return record.id === null || isRequestId(record.id) ? undefined : 'id is not a string or integer';
  }
  return 'a response needs result or error';
}

/** The request's params with `_meta` guaranteed, copied so the caller's object is untouched. */
export function paramsWithMeta(params: unknown): Params & { _meta: Record<string, unknown> } {
  const base = (typeof params === 'object' && params !== null ? params : {}) as Params;
  return { ...base, _meta: { ...(base._meta ?? {}) } };
}

export function errorResponse(
  id: RequestId,
  error: { code: number; message: string; data?: unknown },
): JSONRPCError {
  return { jsonrpc: '2.0', id, error };
}

export function resultResponse(id: RequestId, result: Record<string, unknown>): JSONRPCResult {
  return { jsonrpc: '2.0', id, result };
}
