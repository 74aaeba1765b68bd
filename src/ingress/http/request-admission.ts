/**
 * What both HTTP faces (Streamable HTTP and legacy SSE) check of each client message before the
 * session sees it, and how either turns a refusal into a response.
 */
import { GatewayError, asGatewayError } from '../../errors.ts';
import type { Principal } from '../../identity/principal.ts';
import { requireScope } from '../../identity/scopes.ts';
import { checkClientMessage } from '../../jsonrpc/client-message.ts';
import type { JSONRPCMessage, RequestId } from '../../jsonrpc/message.ts';
import { textNestsDeeperThan } from '../../jsonrpc/nesting-depth.ts';
import { unredacted, type Logger } from '../../log.ts';
import { errorResponse } from './error-response.ts';
import { requiredScope } from '../../identity/required-scope.ts';

/**
 * The parsed JSON body; a -32700 parse error names no part of the input. Nesting deeper than
 * `maxDepth` is refused from the text, before parsing: a 2 MB body of brackets costs the parser
 * about 100 MB, and would break every recursive walk of it later (see nesting-depth.ts).
 */
export async function readJsonBody(request: Request, maxDepth: number): Promise<unknown> {
  return parseJsonBody(await request.text(), maxDepth);
}

/** {@link readJsonBody} on a body already read (the Node-native POST path reads its own). */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (textNestsDeeperThan(text, maxDepth)) {
    throw new GatewayError(
      'JSON_TOO_DEEP',
      `Invalid request: JSON nested deeper than ${maxDepth} levels (gateway.http.maxJsonDepth)`,
    );
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('PARSE_ERROR', 'Parse error: the body is not valid JSON');
  }
}

/** The refusal of a body over `gateway.http.maxBodySize`, on every path that reads bodies. */
export function bodyTooLarge(maxBodySize: number): GatewayError {
  return new GatewayError('PAYLOAD_TOO_LARGE', `Request body exceeds ${maxBodySize} bytes`);
}

/**
 * One value as a JSON-RPC message, or a 400 saying what is wrong with it: INVALID_PARAMS (-32602)
 * for its params, INVALID_REQUEST (-32600) for the rest. The JSON parsed, so never -32700.
 */
export function asMessage(value: unknown): JSONRPCMessage {
  const problem = checkClientMessage(value);
  if (problem) {
    throw new GatewayError(
      problem.params ? 'INVALID_PARAMS' : 'INVALID_REQUEST',
      `Invalid JSON-RPC message: ${problem.reason}`,
      { detail: { reason: problem.reason } },
    );
  }
  return value as JSONRPCMessage;
}

/**
 * Whether a client request may go in now: none while the server drains for shutdown, and each
 * only with its scope. Notifications and responses always pass: in-flight calls may need them
 * (a cancellation, the answer to a sampling request) to finish.
 */
export function admit(message: JSONRPCMessage, principal: Principal, draining: boolean): void {
  if (!('method' in message) || !('id' in message)) return;
  if (draining) throw new GatewayError('GATEWAY_CLOSING');
  const scope = requiredScope(message.method);
  if (scope) requireScope(principal, scope);
}

/** The HTTP answer to a failure, logged for operators: internal errors in full, refusals by reason only. */
export function refusal(
  error: unknown,
  options: { readonly log: Logger; readonly resourceMetadataUrl: string },
  id?: RequestId,
): Response {
  const failure = asGatewayError(error);
  if (failure.code === 'INTERNAL') options.log.error({ err: error }, 'HTTP request failed');
  // Refused credentials are worth an operator's eye; the detail says why, never what was sent.
  // These two lines carry only the code and the reason, which name no part of the client's input:
  // they skip the redact paths, which would cost each refused request more than the refusal.
  else if (failure.spec.http === 401 || failure.spec.http === 403) {
    unredacted(options.log).info({ code: failure.code, reason: failure.detail?.reason }, 'request refused');
  } else if (failure.spec.http === 400 && failure.detail?.reason !== undefined) {
    // One line per refused message.
    unredacted(options.log).warn(
      { code: failure.code, reason: failure.detail?.reason },
      'invalid JSON-RPC message refused',
    );
  }
  return errorResponse(failure, { id: id ?? null, resourceMetadataUrl: options.resourceMetadataUrl });
}
