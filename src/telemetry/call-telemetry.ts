/**
 * What the pipeline feeds telemetry with: one stage, placed right inside audit, that starts the
 * call's request span on the way in and, once the rest of the pipeline has answered, counts the
 * call, ends its span and writes its log line, all from the call's notes; plus spans around the
 * policy and guard stages. Whatever is switched off costs nothing: with metrics, tracing and the
 * call log all off the stage is not in the pipeline, and without tracing no stage is wrapped.
 *
 * A failure to record (a bug here) is logged once and never turns into a failure of the call.
 */
import type { Tracer } from '@opentelemetry/api';
import { INPUT_GUARDED_METHODS } from '../guard/input-guard-stage.ts';
import { OUTPUT_GUARDED_METHODS } from '../guard/output-guard-stage.ts';
import type { Call, Next, Reply, Stage } from '../guard/pipeline.ts';
import { unredacted, type Logger } from '../log.ts';
import { CallLineWriter, callLogFields, type CallTrace } from './call-log.ts';
import type { CallMetrics } from './call-metrics.ts';
import { callOutcome, type CallEnding } from './call-outcome.ts';
import {
  CallSpans,
  policyPhase,
  POLICY_SPAN,
  type EndCallSpan,
  type StagePhase,
  type StageSpans,
} from './call-spans.ts';
import type { LogsSettings } from './telemetry-schema.ts';
import { traceIdFromMeta } from './trace-context.ts';

/** The stages that get a span of their own, by stage name. */
const TRACED_STAGES: Readonly<Record<string, { span: string; phase: (call: Call) => StagePhase }>> = {
  authorize: { span: POLICY_SPAN, phase: policyPhase },
  'guard-input': {
    span: 'mcplane.guard.input',
    phase: (call) => (INPUT_GUARDED_METHODS.has(call.method) ? 'before' : 'none'),
  },
  'guard-output': {
    span: 'mcplane.guard.output',
    phase: (call) => (OUTPUT_GUARDED_METHODS.has(call.method) ? 'after' : 'none'),
  },
};

export type CallTelemetryOptions = {
  readonly metrics?: CallMetrics;
  readonly tracer?: Tracer;
  /** Which stage spans a traced call gets (`gateway.tracing.stageSpans`). */
  readonly stageSpans?: StageSpans;
  readonly log: Logger;
  readonly calls: LogsSettings['calls'];
};

export class CallTelemetry {
  readonly #metrics: CallMetrics | undefined;
  readonly #spans: CallSpans | undefined;
  readonly #log: Logger;
  /** The call lines, on the logger's destination and level, without pino's `redact`. */
  readonly #callLog: CallLineWriter | undefined;
  readonly #traces = new WeakMap<Call, CallTrace>();
  #failed = false;

  constructor(options: CallTelemetryOptions) {
    this.#metrics = options.metrics;
    this.#spans =
      options.tracer === undefined ? undefined : new CallSpans(options.tracer, options.stageSpans);
    this.#log = options.log;
    // pino's redaction is by key name, and the call line's keys are a fixed list of safe ones
    // (callLogFields never carries arguments, results, messages or headers), so it could never
    // censor anything there; with its wildcard paths it costs ~65 µs a line, 20× the line itself.
    this.#callLog =
      options.calls === 'off' ? undefined : new CallLineWriter(unredacted(options.log), options.calls);
  }

  /** The telemetry stage, or none when there is nothing to record. */
  stages(): Stage[] {
    if (!this.#metrics && !this.#spans && !this.#callLog) return [];
    return [{ name: 'telemetry', handle: (call, next) => this.#handle(call, next) }];
  }

  /** A stage with a span of its own when tracing is on (policy, the guards); else the stage itself. */
  traced(stage: Stage): Stage {
    const traced = TRACED_STAGES[stage.name];
    if (!this.#spans || traced === undefined) return stage;
    return this.#spans.traced(stage, traced.span, traced.phase);
  }

  /** The trace a call belongs to, for its audit record: its span's, else the client's traceparent. */
  traceIdOf(call: Call): string | undefined {
    return this.#traceOf(call)?.traceId ?? traceIdFromMeta(call.params);
  }

  #traceOf(call: Call): CallTrace | undefined {
    return this.#spans ? this.#spans.traceOf(call) : this.#traces.get(call);
  }

  async #handle(call: Call, next: Next): Promise<Reply> {
    const endSpan = this.#begin(call);
    let ending: CallEnding;
    try {
      ending = { reply: await next(call) };
    } catch (thrown) {
      ending = { thrown };
    }
    this.#end(call, endSpan, ending);
    if ('thrown' in ending) throw ending.thrown;
    return ending.reply;
  }

  #begin(call: Call): EndCallSpan | undefined {
    try {
      if (this.#spans) return this.#spans.begin(call);
      // No tracing: the call log still carries the client's trace id, if it sent one.
      if (this.#callLog) {
        const traceId = traceIdFromMeta(call.params);
        if (traceId !== undefined) this.#traces.set(call, { traceId });
      }
      return undefined;
    } catch (error) {
      this.#recordingFailed(error);
      return undefined;
    }
  }

  #end(call: Call, endSpan: EndCallSpan | undefined, ending: CallEnding): void {
    try {
      const latencyMs = performance.now() - call.startedAt;
      const outcome = callOutcome(call, ending);
      this.#metrics?.record(call, outcome, latencyMs);
      endSpan?.(outcome, ending);
      this.#callLog?.write(callLogFields(call, outcome, latencyMs, this.#traceOf(call)));
    } catch (error) {
      this.#recordingFailed(error);
    }
  }

  #recordingFailed(error: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#log.error(
      { err: error },
      'telemetry could not record a call (logged once); the call itself went on',
    );
  }
}
