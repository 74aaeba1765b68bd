/**
 * The one log line per call: who (tenant, principal, session, face), what (method, server, tool
 * or prompt, as resolved), how it ended (outcome, latency, the server's part) and how to find it
 * elsewhere (the JSON-RPC request id, the trace id, the span id). Never the arguments, a result,
 * an error's message or a name the router did not resolve: those are client input or server
 * output, and may hold secrets.
 */
import { pino } from 'pino';
import type { AuditOutcome } from '../audit/audit-record.ts';
import type { Call } from '../guard/pipeline.ts';
import type { Logger } from '../log.ts';

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

const MESSAGE = 'call';
const { chindingsSym, formattersSym, hooksSym, lsCacheSym, messageKeySym, mixinSym } = pino.symbols;
const { nestedKeySym, serializersSym, streamSym, timeSym } = pino.symbols;
// A child's `msgPrefix`: in pino's symbols, not in its types.
const msgPrefixSym = (pino.symbols as unknown as Record<string, symbol>)['msgPrefixSym'] as symbol;
const NEEDS_METADATA = pino.symbols.needsMetadataGsym;

type PinoInternals = Record<symbol, unknown>;
type LineStream = { write(line: string): unknown };

/**
 * Writes call lines as the logger's `info` or `debug` would, the same line, for less: pino
 * serializes an object value by value (~3.4 µs for a call's fields), where the fields of a call
 * line, flat strings, numbers and a list of names, are one `JSON.stringify` (~1 µs). The line is
 * put together from the logger's own parts (its level prefix, time, bindings and message key) and
 * written to its own destination, so it lands where pino's would, in the same order.
 *
 * Only for a logger with the options this layout covers; one with a mixin, a `log` formatter, a
 * nested key, hooks, a serializer for a key other than `err` (which a call line never has) or a
 * destination that wants pino's metadata (a multistream) gets its lines from pino itself.
 * test/telemetry/call-log-line.test.ts holds the two lines equal.
 */
export class CallLineWriter {
  readonly #log: Logger;
  readonly #level: 'info' | 'debug';
  readonly #fast: boolean;
  /** What a line starts with (the level) and ends with (the message), fixed for the logger. */
  readonly #start: string;
  readonly #end: string;

  constructor(log: Logger, level: 'info' | 'debug') {
    this.#log = log;
    this.#level = level;
    const internals = log as unknown as PinoInternals;
    const formatters = internals[formattersSym] as { log?: unknown } | undefined;
    const hooks = internals[hooksSym] as Record<string, unknown> | undefined;
    const stream = internals[streamSym] as (LineStream & PinoInternals) | undefined;
    const serializers = Object.keys((internals[serializersSym] as object | undefined) ?? {});
    this.#fast =
      serializers.every((key) => key === 'err') &&
      internals[mixinSym] === undefined &&
      formatters?.log === undefined &&
      internals[nestedKeySym] === null &&
      hooks !== undefined &&
      Object.values(hooks).every((hook) => hook === undefined) &&
      typeof internals[timeSym] === 'function' &&
      typeof stream?.write === 'function' &&
      stream[NEEDS_METADATA] !== true;
    this.#start = (internals[lsCacheSym] as Record<number, string>)[log.levels.values[level] as number] ?? '';
    const message = `${(internals[msgPrefixSym] as string | undefined) ?? ''}${MESSAGE}`;
    this.#end = `,${JSON.stringify(internals[messageKeySym])}:${JSON.stringify(message)}}\n`;
  }

  write(fields: Readonly<Record<string, unknown>>): void {
    const log = this.#log;
    if (!this.#fast) {
      log[this.#level](fields, MESSAGE);
      return;
    }
    if (!log.isLevelEnabled(this.#level)) return;
    const internals = log as unknown as PinoInternals;
    const time = (internals[timeSym] as () => string)();
    const body = JSON.stringify(fields);
    const members = body.length > 2 ? `,${body.slice(1, -1)}` : '';
    // The bindings are read per line: `setBindings` may change them.
    (internals[streamSym] as LineStream).write(
      `${this.#start}${time}${internals[chindingsSym] as string}${members}${this.#end}`,
    );
  }
}
