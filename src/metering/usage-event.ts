/**
 * The usage event of a call the meter stage saw end: who (tenant, key, project), what (server,
 * kind, tool), how it went (status, latency) and how much passed (bytes of the params as the
 * client sent them, and of the reply as the client got it).
 */
import { auditKind, replyOutcome } from '../audit/call-event.ts';
import { ERROR_CODES, asGatewayError, type ErrorCode } from '../errors.ts';
import type { Call, Reply } from '../guard/pipeline.ts';
import type { UsageEvent, UsageKind } from '../store/usage-records.ts';
import { isoNow } from '../iso-time.ts';

/** The methods that are metered; lists, pings and subscriptions are not. */
export const METERED: ReadonlyMap<string, UsageKind> = new Map([
  ['tools/call', 'tool-call'],
  ['prompts/get', 'prompt-get'],
  ['resources/read', 'resource-read'],
]);

export type CallAttribution = {
  readonly projectId?: string | undefined;
  /** `cost.perCall` of the server, or 0. */
  readonly perCall: number;
};

/** The key id of a `key:<id>` subject. */
export function apiKeyIdOf(subject: string): string | undefined {
  return subject.startsWith('key:') ? subject.slice(4) : undefined;
}

/** An HTTP-like status for an outcome: 200 for a reply (a tool's own error too), else the code's. */
export function statusCodeOf(status: string): number {
  if (status === 'ok' || status === 'tool-error') return 200;
  if (status === 'upstream-error') return 502;
  if (status === 'cancelled') return 499;
  return Object.hasOwn(ERROR_CODES, status) ? ERROR_CODES[status as ErrorCode].http : 500;
}

export function byteSize(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value) ?? '');
  } catch {
    return 0;
  }
}

/** The bare name the server knows (after routing), or what the client asked for. */
function itemOf(call: Call, params: Record<string, unknown>): string | undefined {
  const target = call.target;
  const named = target?.tool ?? target?.prompt ?? target?.uri;
  if (named !== undefined) return named;
  const asked = typeof params.name === 'string' ? params.name : params.uri;
  return typeof asked === 'string' ? asked : undefined;
}

/** A usage event as it is built: the optional fields are added only when they have a value. */
type Draft = { -readonly [K in keyof UsageEvent]: UsageEvent[K] };

export function usageEventOf(
  end: { call: Call; params: Record<string, unknown>; bytesIn: number; now: number } & (
    { reply: Reply } | { thrown: unknown }
  ),
  attribution: CallAttribution,
): UsageEvent {
  const { call, params } = end;
  const { principal } = call.session;
  const status =
    'reply' in end
      ? replyOutcome(end.reply)
      : call.signal.aborted
        ? 'cancelled'
        : asGatewayError(end.thrown).code;
  const apiKeyId = apiKeyIdOf(principal.subject);
  const tool = itemOf(call, params);
  const statusCode = statusCodeOf(status);
  // Built field by field rather than with conditional spreads: one object, not one per field.
  const event: Draft = {
    ts: isoNow(),
    tenantId: principal.tenantId,
    principal: principal.subject,
    kind: (METERED.get(call.method) ?? auditKind(call.method)) as UsageKind,
    latencyMs: Math.round((end.now - call.startedAt) * 1000) / 1000,
    status,
    statusCode,
    bytesIn: end.bytesIn,
    bytesOut: 'reply' in end ? byteSize(end.reply) : 0,
    // A refused call reached no server: only what a server served costs.
    cost: call.target !== undefined && statusCode < 400 ? attribution.perCall : 0,
  };
  if (attribution.projectId) event.projectId = attribution.projectId;
  if (apiKeyId !== undefined) event.apiKeyId = apiKeyId;
  if (call.target !== undefined) event.server = call.target.server;
  if (tool !== undefined) event.tool = tool;
  return event;
}
