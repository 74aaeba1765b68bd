/**
 * The audit stage: the last to see every reply. It awaits the rest of the pipeline, then records
 * one event from the call, the stages' notes and the reply. Appending only queues (audit-log.ts),
 * so the reply never waits on I/O, and a failure to record is counted by the recorder, never
 * turned into a failure of the call.
 *
 * Place it FIRST in the stage list given to composePipeline: the outermost stage is the last on
 * the way back, so it also records the calls that admit, limit or authorize refused.
 */
import type { Call, Next, Reply, Stage } from '../guard/pipeline.ts';
import type { AuditRecorder } from './audit-recorder.ts';
import { callEvent, type CallEnd } from './call-event.ts';

export type AuditStageOptions = {
  /**
   * What the call does not carry yet: its project and trace id. Must not throw; a throw is counted
   * as a recording failure.
   */
  readonly context?: (call: Call) => { readonly project?: string; readonly traceId?: string };
};

export function auditStage(recorder: AuditRecorder, options: AuditStageOptions = {}): Stage {
  const { context } = options;
  const record = (
    end: { call: Call; params: Record<string, unknown> } & ({ reply: Reply } | { thrown: unknown }),
  ) => {
    const latencyMs = performance.now() - end.call.startedAt;
    recorder.record(() => {
      const extra = context?.(end.call);
      // One object for the event's source, not a spread copy of one per call.
      const full = end as unknown as Mutable<CallEnd>;
      full.latencyMs = latencyMs;
      if (extra !== undefined) full.extra = extra;
      return callEvent(full);
    });
  };
  return {
    name: 'audit',
    async handle(call: Call, next: Next): Promise<Reply> {
      // The params as the client sent them: later stages may replace them (redaction).
      const params = call.params;
      let reply: Reply;
      try {
        reply = await next(call);
      } catch (thrown) {
        record({ call, params, thrown });
        throw thrown;
      }
      record({ call, params, reply });
      return reply;
    },
  };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
