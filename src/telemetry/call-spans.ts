/**
 * The spans of a call, named and attributed after the OpenTelemetry MCP semantic conventions:
 *
 *   tools/call fixture__echo      SERVER  the client's request, child of the client's context
 *     mcplane.policy              INTERNAL the authorize stage's decision
 *     mcplane.guard.input         INTERNAL the input guard
 *     mcplane.pool.wait           INTERNAL waiting for a process (a pool slot, a session's own),
 *                                          when the call had to wait (1 ms or more)
 *     tools/call echo             CLIENT   the exchange with the child; its context is what the
 *                                          child receives in `_meta.traceparent`
 *     mcplane.guard.output        INTERNAL the output guard
 *
 * Which stage spans a call gets is `gateway.tracing.stageSpans`. With `notable` (the default) a
 * stage's span is made only when the stage did something worth a span: the policy denied or ran
 * in dry-run, a guard found something, or the stage took 1 ms or more; the same rule as the pool
 * wait's. Every span costs the gateway CPU to build and export (~10 µs each in the OTLP
 * serializer, docs/benchmarks.md), and an allowed call with clean text has three stage spans that
 * say only "allow, nothing found". Their decision is never lost: the request span carries the
 * policy's effect, rule and mode and the guards' finding count and detectors either way. With
 * `all`, every stage that ran has its span.
 *
 * Parents are passed explicitly (the call carries its request span's context), not
 * through the SDK's async context, so nothing depends on how promises are chained in between.
 * A stage span covers only that stage's own work, as Express middleware spans do: up to its call
 * of `next` for a stage that decides before (policy, input guard), from `next`'s return for one
 * that works on the reply (output guard; policy on lists, which it filters on the way back). The
 * span is made when the stage's work is over, with the times it began and ended, so that a stage
 * that turns out not to be notable costs two clock readings and nothing else.
 */
import {
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { AuditOutcome } from '../audit/audit-record.ts';
import { findContext } from '../guard/call-context.ts';
import type { Call, CallNotes, Next, Reply, Stage } from '../guard/pipeline.ts';
import { LIST_METHODS } from '../router/router.ts';
import type { CallTrace } from './call-log.ts';
import type { CallEnding } from './call-outcome.ts';
import { ATTR } from './mcp-attributes.ts';
import { extractFromMeta, injectIntoMeta } from './trace-context.ts';

/** Client input kept in a span attribute is cut to this many characters. */
const MAX_TEXT = 256;

export const POLICY_SPAN = 'mcplane.policy';

/** A wait for a process, or a stage's work, this long (ms) or longer gets a span of its own. */
export const SPAN_WORTH_MS = 1;

/** `gateway.tracing.stageSpans`: a span for every stage that ran, or only for notable ones. */
export type StageSpans = 'all' | 'notable';

/** Where a stage does its work: before it calls `next`, on the reply after, or (for this call) not at all. */
export type StagePhase = 'before' | 'after' | 'none';

/** The end of a call's request span, with what became of the call. */
export type EndCallSpan = (outcome: AuditOutcome, ending: CallEnding) => void;

/** What the stage spans and the audit record need of a call that began a request span. */
type Traced = {
  readonly trace: CallTrace;
  /** The request span's context, the parent of the stage and upstream spans; only if sampled. */
  readonly context?: Context;
};

const NOT_RECORDED: EndCallSpan = () => undefined;

/**
 * Where a call keeps what its request span began: a property under this module's symbol, as the
 * call context is kept (guard/call-context.ts), not a WeakMap entry per call, which the collector
 * must trace as an ephemeron.
 */
const TRACED: unique symbol = Symbol('mcplane.traced');
type WithTraced = Call & { [TRACED]?: Traced };

const tracedOf = (call: Call): Traced | undefined => (call as WithTraced)[TRACED];
const setTraced = (call: Call, traced: Traced): void => {
  (call as WithTraced)[TRACED] = traced;
};

export class CallSpans {
  readonly #tracer: Tracer;
  readonly #all: boolean;

  constructor(tracer: Tracer, stageSpans: StageSpans = 'notable') {
    this.#tracer = tracer;
    this.#all = stageSpans === 'all';
  }

  /**
   * Starts the request span of a call that enters the pipeline. The sampler sees the span's name,
   * kind, parent and the attributes it might decide by (the method and the tool or prompt); the
   * rest are built only for a span that is recorded, so an unsampled call costs the sampling
   * decision, its ids and the traceparent for the child, and nothing else.
   */
  begin(call: Call): EndCallSpan {
    const parent = extractFromMeta(call.params);
    const span = this.#tracer.startSpan(
      call.method,
      { kind: SpanKind.SERVER, attributes: samplingAttributes(call), startTime: call.startedAt },
      parent,
    );
    const { traceId, spanId } = span.spanContext();
    const callContext = findContext(call);
    if (!span.isRecording()) {
      setTraced(call, { trace: { traceId, spanId } });
      // Not sampled: no child spans, but the child still hears of the trace (flagged unsampled),
      // so a server that traces keeps to the same decision.
      if (callContext) {
        callContext.onUpstream = (routed) => {
          routed.params = injectIntoMeta(routed.params, trace.setSpan(parent, span));
          return undefined;
        };
      }
      return NOT_RECORDED;
    }
    span.setAttributes(requestAttributes(call));
    const context = trace.setSpan(parent, span);
    setTraced(call, { trace: { traceId, spanId }, context });
    if (callContext)
      callContext.onUpstream = (routed, process) => this.#upstream(routed, process.pid, context);
    // The name as the client asked for it (routing replaces it with the server's bare name).
    const asked = typeof call.params.name === 'string' ? call.params.name : undefined;
    return (outcome, ending) => endRequest(span, call, asked, outcome, ending);
  }

  /** The trace and request span of a call this began, for its audit record and log line. */
  traceOf(call: Call): CallTrace | undefined {
    return tracedOf(call)?.trace;
  }

  /** A stage whose own work gets a span of its own under the call's request span (if it is sampled). */
  traced(stage: Stage, name: string, phase: (call: Call) => StagePhase): Stage {
    return {
      name: stage.name,
      handle: (call, next) => {
        const parent = tracedOf(call)?.context;
        const where = phase(call);
        if (parent === undefined || where === 'none') return stage.handle(call, next);
        return where === 'before'
          ? this.#before(stage, name, call, next, parent)
          : this.#after(stage, name, call, next, parent);
      },
    };
  }

  async #before(stage: Stage, name: string, call: Call, next: Next, parent: Context): Promise<Reply> {
    const from = call.notes.findings.length;
    const started = performance.now();
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      this.#endStage(name, call, from, parent, started);
    };
    try {
      return await stage.handle(call, (passed) => {
        close();
        return next(passed);
      });
    } finally {
      close();
    }
  }

  async #after(stage: Stage, name: string, call: Call, next: Next, parent: Context): Promise<Reply> {
    let started: number | undefined;
    let from = 0;
    try {
      return await stage.handle(call, async (passed) => {
        const answer = await next(passed);
        from = call.notes.findings.length;
        started = performance.now();
        return answer;
      });
    } finally {
      if (started !== undefined) this.#endStage(name, call, from, parent, started);
    }
  }

  /** A stage's work is over: its span, from `started` to now, if every stage gets one or this one is notable. */
  #endStage(name: string, call: Call, fromFinding: number, parent: Context, started: number): void {
    const ended = performance.now();
    const withDecision = name === POLICY_SPAN;
    const { decision, findings } = call.notes;
    const notable =
      this.#all ||
      ended - started >= SPAN_WORTH_MS ||
      findings.length > fromFinding ||
      (withDecision &&
        decision !== undefined &&
        (decision.effect !== 'allow' || decision.mode !== 'enforce'));
    if (!notable) return;
    const span = this.#tracer.startSpan(name, { kind: SpanKind.INTERNAL, startTime: started }, parent);
    if (withDecision) setDecision(span, decision);
    setFindings(span, findings.slice(fromFinding));
    span.end(ended);
  }

  /**
   * The call has its process: a wait for it becomes a span (it is over), the exchange starts one,
   * and that span's context goes into the `_meta` of the request to the child. A call that found
   * a free slot at once has no wait worth a span (every span costs the gateway CPU to make and
   * export); its wait is an attribute of the upstream span.
   */
  #upstream(call: Call, pid: number | undefined, parent: Context): () => void {
    const now = performance.now();
    const waited = Math.round((call.notes.poolWaitMs ?? 0) * 1000) / 1000;
    if (waited >= SPAN_WORTH_MS) {
      this.#tracer
        .startSpan('mcplane.pool.wait', { kind: SpanKind.INTERNAL, startTime: now - waited }, parent)
        .end(now);
    }
    const tool = call.method === 'tools/call' ? call.target?.tool : call.target?.prompt;
    const attributes: Attributes = {
      [ATTR.mcpMethodName]: call.method,
      [ATTR.poolWaitMs]: waited,
    };
    if (call.target !== undefined) attributes[ATTR.server] = call.target.server;
    if (pid !== undefined) attributes[ATTR.processPid] = pid;
    if (tool !== undefined)
      attributes[call.method === 'tools/call' ? ATTR.genAiToolName : ATTR.genAiPromptName] = tool;
    const span = this.#tracer.startSpan(
      tool === undefined ? call.method : `${call.method} ${tool}`,
      { kind: SpanKind.CLIENT, startTime: now, attributes },
      parent,
    );
    call.params = injectIntoMeta(call.params, trace.setSpan(parent, span));
    return () => span.end();
  }
}

/** What a sampler is given to decide by: the method, and the tool or prompt it names. */
function samplingAttributes(call: Call): Attributes {
  const name = call.params.name;
  if (typeof name === 'string') {
    if (call.method === 'tools/call')
      return { [ATTR.mcpMethodName]: call.method, [ATTR.genAiToolName]: text(name) };
    if (call.method === 'prompts/get')
      return { [ATTR.mcpMethodName]: call.method, [ATTR.genAiPromptName]: text(name) };
  }
  return { [ATTR.mcpMethodName]: call.method };
}

/** The rest of a recorded request span's attributes (samplingAttributes has the others). */
function requestAttributes(call: Call): Attributes {
  const attributes: Attributes = {
    [ATTR.mcpSessionId]: call.session.key,
    [ATTR.jsonrpcRequestId]: text(String(call.id)),
    [ATTR.tenant]: call.session.principal.tenantId,
    [ATTR.principal]: call.session.principal.subject,
    [ATTR.face]: call.session.face,
    [ATTR.networkTransport]: call.session.face === 'stdio' ? 'pipe' : 'tcp',
  };
  if (call.method === 'tools/call' && typeof call.params.name === 'string')
    attributes[ATTR.genAiOperationName] = 'execute_tool';
  const uri = call.params.uri;
  if (typeof uri === 'string') attributes[ATTR.mcpResourceUri] = text(uri);
  return attributes;
}

function endRequest(
  span: Span,
  call: Call,
  asked: string | undefined,
  outcome: AuditOutcome,
  ending: CallEnding,
): void {
  if (call.target !== undefined) span.setAttribute(ATTR.server, call.target.server);
  span.setAttribute(ATTR.outcome, outcome);
  // What the stages decided, whether or not they have spans of their own.
  setDecision(span, call.notes.decision);
  setFindings(span, call.notes.findings);
  // Only a name the router resolved goes into the span name, which must stay low in cardinality.
  const resolved = call.target?.tool ?? call.target?.prompt;
  if (resolved !== undefined && asked !== undefined) span.updateName(`${call.method} ${text(asked)}`);
  const error = errorType(outcome, ending);
  if (error !== undefined) {
    span.setAttribute(ATTR.errorType, error.type);
    if (error.code !== undefined) span.setAttribute(ATTR.rpcResponseStatusCode, String(error.code));
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Per the MCP conventions: the JSON-RPC error code, or `tool_error` for a result with isError. */
function errorType(outcome: AuditOutcome, ending: CallEnding): { type: string; code?: number } | undefined {
  if (outcome === 'ok' || outcome === 'cancelled') return undefined;
  if (outcome === 'tool-error') return { type: 'tool_error' };
  if ('reply' in ending && 'error' in ending.reply) {
    return { type: String(ending.reply.error.code), code: ending.reply.error.code };
  }
  return { type: outcome };
}

/** The policy's decision on a span: its effect, the rule that decided and the mode. */
function setDecision(span: Span, decision: CallNotes['decision']): void {
  if (decision === undefined) return;
  span.setAttributes({
    [ATTR.policyEffect]: decision.effect,
    [ATTR.policyRule]: decision.rule,
    [ATTR.policyMode]: decision.mode,
  });
}

/** A span's share of the call's guard findings: how many, and by which detectors. */
function setFindings(span: Span, findings: readonly { readonly detector: string }[]): void {
  if (findings.length === 0) return;
  span.setAttribute(ATTR.guardFindings, findings.length);
  span.setAttribute(ATTR.guardDetectors, [...new Set(findings.map((finding) => finding.detector))]);
}

/** Lists are filtered on the way back; calls are decided before they go on. */
export function policyPhase(call: Call): StagePhase {
  return LIST_METHODS.has(call.method) ? 'after' : 'before';
}

function text(value: string): string {
  return value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value;
}
