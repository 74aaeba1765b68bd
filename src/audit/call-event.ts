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
  return {
    kind,
    tenant: call.session.principal.tenantId,
    ...(extra?.project === undefined ? {} : { project: extra.project }),
    principal: call.session.principal.subject,
    session: call.session.key,
    face: call.session.face,
    method: call.method,
    ...(call.target === undefined ? {} : { server: call.target.server }),
    ...(call.target?.owner === undefined ? {} : { serverOwner: call.target.owner }),
    ...named(kind, params),
    ...(decision === undefined ? {} : { decision: auditDecision(decision) }),
    findings: [...findings],
    args: argumentsOf(kind, params),
    outcome: 'reply' in end ? replyOutcome(end.reply) : thrownOutcome(end.thrown, call.signal),
    latencyMs: Math.round(end.latencyMs * 1000) / 1000,
    ...(upstreamMs === undefined ? {} : { upstreamMs: Math.round(upstreamMs * 1000) / 1000 }),
    ...(servedBy === undefined ? {} : { servedBy }),
    ...(extra?.traceId === undefined ? {} : { traceId: extra.traceId }),
  };
}

export function auditDecision(decision: NonNullable<Call['notes']['decision']>): AuditDecision {
  const { effect, rule, mode, reason } = decision;
  return {
    effect,
    rule,
    mode,
    ...(mode === 'dry-run' && effect === 'deny' ? { wouldDeny: true } : {}),
    ...(reason === undefined ? {} : { reason }),
  };
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

function named(
  kind: AuditKind,
  params: Record<string, unknown>,
): Pick<AuditEvent, 'tool' | 'prompt' | 'uri'> {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' ? value.slice(0, MAX_NAME) : undefined;
  const name = text(params.name);
  const uri = text(params.uri);
  if (kind === 'tool-call' && name !== undefined) return { tool: name };
  if (kind === 'prompt-get' && name !== undefined) return { prompt: name };
  return uri === undefined ? {} : { uri };
}

/** The arguments digested: a tool's or prompt's `arguments`; other requests' params sans `_meta`. */
function argumentsOf(kind: AuditKind, params: Record<string, unknown>): unknown {
  if (kind === 'tool-call' || kind === 'prompt-get') return params.arguments ?? {};
  const { _meta, ...rest } = params;
  return rest;
}
