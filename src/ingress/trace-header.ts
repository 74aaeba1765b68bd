/**
 * W3C trace context sent as HTTP headers (`traceparent`, `tracestate`), moved to where the core
 * looks for it: the `_meta` of the JSON-RPC request (the OpenTelemetry MCP conventions' place),
 * so that every face hands the core the same thing. A `_meta.traceparent` the client set itself
 * is more specific than a header of the HTTP request that carried it, and wins.
 */
import type { MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { isRequest, type JSONRPCMessage } from '../jsonrpc/message.ts';

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;
/** W3C Trace Context: a tracestate of more than 512 characters may be discarded. */
const MAX_TRACESTATE = 512;

export function withHeaderTraceContext(
  message: JSONRPCMessage,
  extra: MessageExtraInfo | undefined,
): JSONRPCMessage {
  const headers = extra?.requestInfo?.headers;
  if (headers === undefined || !isRequest(message)) return message;
  const traceparent = single(headers.traceparent)?.trim().toLowerCase();
  if (traceparent === undefined || !TRACEPARENT.test(traceparent)) return message;
  const meta = message.params?._meta;
  if (meta !== undefined && typeof meta === 'object' && meta !== null && 'traceparent' in meta)
    return message;
  const tracestate = single(headers.tracestate)?.trim();
  const context = {
    traceparent,
    ...(tracestate !== undefined && tracestate !== '' && tracestate.length <= MAX_TRACESTATE
      ? { tracestate }
      : {}),
  };
  return { ...message, params: { ...message.params, _meta: { ...meta, ...context } } };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
