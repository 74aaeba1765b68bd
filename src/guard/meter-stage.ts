/**
 * The meter stage: one usage event per tool call, prompt get and resource read, refused or not,
 * with what the stages inside decided and the reply the client gets. Like audit it is outermost
 * (it must see the final reply and `call.notes`), and like audit it only queues: the reply never
 * waits on the store (metering/usage-buffer.ts).
 */
import type { Meter } from '../metering/meter.ts';
import { byteSize, METERED } from '../metering/usage-event.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

export function meterStage(meter: Meter): Stage {
  return {
    name: 'meter',
    async handle(call: Call, next: Next): Promise<Reply> {
      if (!METERED.has(call.method)) return next(call);
      // The params as the client sent them: later stages may replace them (redaction, routing).
      const params = call.params;
      const bytesIn = byteSize(params);
      let reply: Reply;
      try {
        reply = await next(call);
      } catch (thrown) {
        meter.record({ call, params, bytesIn, now: performance.now(), thrown });
        throw thrown;
      }
      meter.record({ call, params, bytesIn, now: performance.now(), reply });
      return reply;
    },
  };
}
