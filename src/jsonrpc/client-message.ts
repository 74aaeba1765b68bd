/**
 * What the gateway accepts from a client as one JSON-RPC 2.0 message: exactly what the SDK's
 * transports accept (its `JSONRPCMessageSchema`, strict objects), checked here first so that
 * valid JSON which is not valid JSON-RPC is refused at the door with a reason and a 400, rather
 * than failing deep inside a transport (a ZodError and a 500 on legacy SSE, a -32700 "parse
 * error" on Streamable HTTP, although the JSON parsed).
 *
 * The children's messages go through the more forgiving `checkMessageShape`: a server's slightly
 * odd response is still worth routing; a client's is refused.
 */
import { JSONRPCMessageSchema, RELATED_TASK_META_KEY } from '@modelcontextprotocol/sdk/types.js';

/** Why a value is not an acceptable client message; `params` problems are -32602, the rest -32600. */
export type ClientMessageProblem = { readonly reason: string; readonly params: boolean };

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const RESULT_KEYS = new Set(['jsonrpc', 'id', 'result']);
const ERROR_KEYS = new Set(['jsonrpc', 'id', 'error']);

/** A JSON-RPC id as MCP allows it: a string or an integer that a JSON number holds exactly. */
export function isClientRequestId(value: unknown): value is string | number {
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const invalid = (reason: string): ClientMessageProblem => ({ reason, params: false });

/** Names the first member outside `allowed`; member names are the client's input, so not echoed. */
function extraMember(
  record: Record<string, unknown>,
  allowed: Set<string>,
): ClientMessageProblem | undefined {
  return Object.keys(record).some((key) => !allowed.has(key))
    ? invalid('a JSON-RPC message has no members besides jsonrpc, id, method, params, result and error')
    : undefined;
}

function idProblem(record: Record<string, unknown>): ClientMessageProblem | undefined {
  if (record.id === null) return invalid('id must not be null');
  if (!isClientRequestId(record.id)) return invalid('id must be a string or an integer within ±(2^53 - 1)');
  return undefined;
}

/** `_meta` as the SDK types it (RequestMetaSchema), in params and in results. */
function metaProblem(holder: Record<string, unknown>, where: string): string | undefined {
  if (!('_meta' in holder)) return undefined;
  const meta = holder._meta;
  if (!isObject(meta)) return `${where}._meta must be an object`;
  if ('progressToken' in meta && !isClientRequestId(meta.progressToken)) {
    return `${where}._meta.progressToken must be a string or an integer`;
  }
  const task = meta[RELATED_TASK_META_KEY];
  if (task !== undefined && !(isObject(task) && typeof task.taskId === 'string')) {
    return `${where}._meta["${RELATED_TASK_META_KEY}"] must be an object with a string taskId`;
  }
  return undefined;
}

function requestProblem(record: Record<string, unknown>): ClientMessageProblem | undefined {
  if (typeof record.method !== 'string') return invalid('method must be a string');
  if ('id' in record) {
    const problem = idProblem(record);
    if (problem) return problem;
  }
  const extra = extraMember(record, REQUEST_KEYS);
  if (extra) return extra;
  if (!('params' in record)) return undefined;
  // MCP sends params by name only (spec 2025-11-25, "Base Protocol": params is an object).
  if (!isObject(record.params)) return { reason: 'params must be an object', params: true };
  const meta = metaProblem(record.params, 'params');
  return meta === undefined ? undefined : { reason: meta, params: true };
}

function responseProblem(record: Record<string, unknown>): ClientMessageProblem | undefined {
  if ('result' in record && 'error' in record)
    return invalid('a response has either result or error, not both');
  if ('result' in record) {
    const problem = idProblem(record) ?? extraMember(record, RESULT_KEYS);
    if (problem) return problem;
    if (!isObject(record.result)) return invalid('result must be an object');
    const meta = metaProblem(record.result, 'result');
    return meta === undefined ? undefined : invalid(meta);
  }
  if ('error' in record) {
    const problem = ('id' in record ? idProblem(record) : undefined) ?? extraMember(record, ERROR_KEYS);
    if (problem) return problem;
    const error = record.error;
    if (!isObject(error) || !Number.isSafeInteger(error.code) || typeof error.message !== 'string') {
      return invalid('error must be an object with an integer code and a string message');
    }
    return undefined;
  }
  return invalid('neither a request, a notification nor a response');
}

/**
 * Checks one parsed value against what a client may send. Returns why it is refused, in words
 * that name no part of the input, or undefined when the SDK's transports will accept it.
 */
export function checkClientMessage(value: unknown): ClientMessageProblem | undefined {
  if (!isObject(value)) return invalid('a JSON-RPC message is a JSON object');
  if (value.jsonrpc !== '2.0') return invalid('jsonrpc must be "2.0"');
  const problem = 'method' in value ? requestProblem(value) : responseProblem(value);
  if (problem) return problem;
  // For a request or a notification the checks above are the schema's own rules
  // (JSONRPCRequestSchema and JSONRPCNotificationSchema: strict, an integer or string id for a
  // request, params an object whose _meta is checked), so the per-call path needs no second, zod,
  // pass; test/jsonrpc/client-message.test.ts holds both to the same verdicts.
  if ('method' in value) return undefined;
  // The SDK's own schema has the last word, so that nothing accepted here can fail inside a
  // transport; the checks above are there to say why a message is refused.
  if (!JSONRPCMessageSchema.safeParse(value).success) return invalid('not a JSON-RPC 2.0 message');
  return undefined;
}
