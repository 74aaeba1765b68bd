/**
 * The same policy conditions on `@bufbuild/cel`, for `bench/policy.ts` to measure against the
 * engine mcplane uses (`src/guard/policy/cel-condition.ts`, on `@marcbachmann/cel-js`). Bench
 * only: when the integrator drops `@bufbuild/cel` from package.json, this file and its one use
 * in bench/policy.ts go with it.
 *
 * Variables are bound as plain values (maps, strings, bigint counts, a protobuf Timestamp for
 * `request.time`); `readsArgs` is a textual approximation, which the benchmark does not use.
 */
import { celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import {
  ConditionFailure,
  type ConditionBindings,
  type ConditionEngine,
} from '../../src/guard/policy/condition.ts';

export function bufbuildConditionEngine(): ConditionEngine {
  const env = celEnv();
  return {
    name: '@bufbuild/cel',
    compile(source) {
      let program: ReturnType<typeof plan>;
      try {
        program = plan(env, parse(source));
      } catch (error) {
        return { problem: error instanceof Error ? error.message : String(error) };
      }
      return {
        source,
        readsArgs: /\bargs\b/.test(source),
        evaluate(bindings) {
          const value = program(bindings);
          if (isCelError(value)) return new ConditionFailure(value.message);
          return typeof value === 'boolean'
            ? value
            : new ConditionFailure('the condition did not yield a bool');
        },
      };
    },
    bind(input) {
      const bindings = {
        principal: { ...input.principal, role: input.principal.role ?? '' },
        tenant: input.tenant,
        request: { time: timestampFromDate(input.request.time), face: input.request.face },
        usage: {
          callsLastMinute: BigInt(Math.trunc(input.usage.callsLastMinute)),
          callsLastHour: BigInt(Math.trunc(input.usage.callsLastHour)),
        },
        anomaly: input.anomaly,
        args: input.args,
        project: input.project ?? '',
        server: input.server,
        method: input.method,
        tool: input.tool ?? '',
        prompt: input.prompt ?? '',
        resource: input.resource ?? '',
      };
      return bindings as unknown as ConditionBindings;
    },
  };
}
