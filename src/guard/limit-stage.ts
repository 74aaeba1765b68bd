/**
 * The `limit` stage (docs/limits.md): a request over its key's, its tenant's or its tool's rate,
 * or past a monthly quota, is refused here with RATE_LIMITED or QUOTA_EXCEEDED and the retry
 * time in its data, before it is routed; nothing is dropped or held.
 */
import { GatewayError } from '../errors.ts';
import type { CallLimits } from '../limits/call-limits.ts';
import type { Call, Next, Reply, Stage } from './pipeline.ts';

export function limitStage(limits: CallLimits): Stage {
  return {
    name: 'limit',
    async handle(call: Call, next: Next): Promise<Reply> {
      try {
        await limits.checkCall(call.session.principal, call.method, call.params);
      } catch (error) {
        if (error instanceof GatewayError) return { error: error.toJsonRpcError() };
        throw error;
      }
      return next(call);
    },
  };
}
