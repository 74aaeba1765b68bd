/**
 * The one log line per call: who (tenant, principal, session, face), what (method, server, tool
 * or prompt, as resolved), how it ended (outcome, latency, the server's part) and how to find it
 * elsewhere (the JSON-RPC request id, the trace id, the span id). Never the arguments, a result,
 * an error's message or a name the router did not resolve: those are client input or server
 * output, and may hold secrets.
 */
import type { AuditOutcome } from '../audit/audit-record.ts';
import type { Call } from '../guard/pipeline.ts';

/** A client's request id is cut to this many characters in the log. */
const MAX_ID = 64;

export type CallTrace = { readonly traceId: string; readonly spanId?: string };

export function callLogFields(
  call: Call,
  outcome: AuditOutcome,
  latencyMs: number,
  trace: CallTrace | undefined,
): Record<string, unknown> {
  const { target, notes, session } = call;
  const id =
    typeof call.id === 'string' && call.id.length > MAX_ID ? `${call.id.slice(0, MAX_ID)}…` : call.id;
  return {
    requestId: id,
    ...(trace === undefined ? {} : trace),
    session: session.key,
    tenant: session.principal.tenantId,
    principal: session.principal.subject,
    face: session.face,
    method: call.method,
    ...(target === undefined ? {} : { server: target.server }),
    ...(target?.tool === undefined ? {} : { tool: target.tool }),
    ...(target?.prompt === undefined ? {} : { prompt: target.prompt }),
    outcome,
    latencyMs: round(latencyMs),
    ...(notes.upstreamMs === undefined ? {} : { upstreamMs: round(notes.upstreamMs) }),
    ...(notes.poolWaitMs === undefined ? {} : { poolWaitMs: round(notes.poolWaitMs) }),
    ...(notes.cpuMs === undefined ? {} : { cpuMs: notes.cpuMs }),
    ...(notes.decision?.effect === 'deny'
      ? { deniedBy: notes.decision.rule, policyMode: notes.decision.mode }
      : {}),
    ...(notes.findings.length === 0 ? {} : { findings: notes.findings.map((finding) => finding.detector) }),
  };
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
