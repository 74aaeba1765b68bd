/**
 * The audit event of a call through the pipeline: who, on which face, what was asked, what the
 * stages decided and found, and how it ended.
 */
import { ERROR_CODES, asGatewayError, type ErrorCode } from '../errors.ts';
import type { Call, Reply } from '../guard/pipeline.ts';
import type { AuditDecision, AuditEvent, AuditKind, AuditOutcome } from './audit-record.ts';

/** Names and URIs are client input: a record keeps this much of them. */
const MAX_NAME = 512;

/** What the audit stage saw of a call: its params as they entered, and the reply or the throw. */
export type CallEnd = {
  readonly call: Call;
  readonly params: Record<string, unknown>;
  readonly latencyMs: number;
  readonly extra?: { readonly project?: string; readonly traceId?: string };
} & ({ readonly reply: Reply } | { readonly thrown: unknown });

export function auditKind(method: string): AuditKind {
  switch (method) {
    case 'tools/call':
      return 'tool-call';
    case 'prompts/get':
      return 'prompt-get';
    case 'resources/read':
      return 'resource-read';
    case 'tools/list':
    case 'prompts/list':
    case 'resources/list':
    case 'resources/templates/list':
      return 'list';
    default:
      return 'request';
  }
}

export function callEvent(end: CallEnd): AuditEvent {
  const { call, params, extra } = end;
  const kind = auditKind(call.method);
  const { decision, findings, servedBy, upstreamMs } = call.notes;
  const { session, target } = call;
  // Built by assignment, not by spreading optional parts: this runs once per call.
  const event: Mutable<AuditEvent> = {
    kind,
    tenant: session.principal.tenantId,
    principal: session.principal.subject,
    session: session.key,
    face: session.face,
    method: call.method,
    findings: [...findings],
    args: argumentsOf(kind, params),
    outcome: 'reply' in end ? replyOutcome(end.reply) : thrownOutcome(end.thrown, call.signal),
    latencyMs: Math.round(end.latencyMs * 1000) / 1000,
  };
  if (extra?.project !== undefined) event.project = extra.project;
  if (target !== undefined) {
    event.server = target.server;
    if (target.owner !== undefined) event.serverOwner = target.owner;
  }
  name(event, kind, params);
  if (decision !== undefined) event.decision = auditDecision(decision);
  if (upstreamMs !== undefined) event.upstreamMs = Math.round(upstreamMs * 1000) / 1000;
  if (servedBy !== undefined) event.servedBy = servedBy;
  if (extra?.traceId !== undefined) event.traceId = extra.traceId;
  return event;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Its keys in sorted order, so that sealing can write it as it is (event-fields.ts). */
export function auditDecision(decision: NonNullable<Call['notes']['decision']>): AuditDecision {
  const { effect, rule, mode, reason } = decision;
  const wouldDeny = mode === 'dry-run' && effect === 'deny';
  if (reason === undefined) return wouldDeny ? { effect, mode, rule, wouldDeny } : { effect, mode, rule };
  return wouldDeny ? { effect, mode, reason, rule, wouldDeny } : { effect, mode, reason, rule };
}

/**
 * A reply's outcome. A gateway refusal carries its registry code in `data.code` with that code's
 * JSON-RPC number; any other error is the server's.
 */
export function replyOutcome(reply: Reply): AuditOutcome {
  if ('result' in reply) return reply.result.isError === true ? 'tool-error' : 'ok';
  const data = reply.error.data as { code?: unknown } | undefined;
  const code = data?.code;
  if (typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)) {
    if (ERROR_CODES[code as ErrorCode].rpc === reply.error.code) return code as ErrorCode;
  }
  return 'upstream-error';
}

function thrownOutcome(thrown: unknown, signal: AbortSignal): AuditOutcome {
  if (signal.aborted) return 'cancelled';
  return asGatewayError(thrown).code;
}

/** Sets the name the client asked for: a tool's or prompt's, else a URI. */
function name(event: Mutable<AuditEvent>, kind: AuditKind, params: Record<string, unknown>): void {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value.slice(0, MAX_NAME) : undefined;
  const named = text(params.name);
  if (kind === 'tool-call' && named !== undefined) event.tool = named;
  else if (kind === 'prompt-get' && named !== undefined) event.prompt = named;
  else {
    const uri = text(params.uri);
    if (uri !== undefined) event.uri = uri;
  }
}

/** The arguments digested: a tool's or prompt's `arguments`; other requests' params sans `_meta`. */
function argumentsOf(kind: AuditKind, params: Record<string, unknown>): unknown {
  if (kind === 'tool-call' || kind === 'prompt-get') return params.arguments ?? {};
  const { _meta, ...rest } = params;
  return rest;
}
