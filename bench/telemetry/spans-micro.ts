/**
 * What the call's spans cost the event loop, without the rest of the gateway: a call's telemetry
 * hooks (request span, policy and guard stage spans, the upstream span with `_meta` injection,
 * the ends) run `calls` times in a loop against the started SDK, exporting over OTLP/HTTP to a
 * local receiver (bench/telemetry/span-sink.ts). Prints µs of CPU per call for the hooks alone
 * and for hooks plus export (the batch processor's serializing, which runs on the same thread).
 *
 *   node bench/telemetry/spans-micro.ts <off|unsampled|sampled|tracing> [calls]
 */
import { attachContext, contextOf, type CallContext } from '../../src/guard/call-context.ts';
import type { Call, Reply, Stage } from '../../src/guard/pipeline.ts';
import { silentLogger } from '../../src/log.ts';
import { CallTelemetry } from '../../src/telemetry/call-telemetry.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import { benchTracingEnv, startSpanSink } from './span-sink.ts';

const arm = process.argv[2] ?? 'tracing';
const calls = Number(process.argv[3] ?? 50_000);
const sink = await startSpanSink();
const env = benchTracingEnv(sink, arm);
Object.assign(process.env, env);
const tracing = arm === 'off' ? undefined : startTracing(env, { version: 'bench', log: silentLogger() });
const telemetry = new CallTelemetry({
  log: silentLogger(),
  calls: 'off',
  ...(tracing ? { tracer: tracing.tracer } : {}),
});
const outer = telemetry.stages()[0] ?? { name: 'telemetry', handle: (call, next) => next(call) };
const pass: Stage = { name: 'pass', handle: (call, next) => next(call) };
const policy = telemetry.traced({ ...pass, name: 'authorize' });
const input = telemetry.traced({ ...pass, name: 'guard-input' });
const output = telemetry.traced({ ...pass, name: 'guard-output' });
const session = {
  key: 'session-1',
  principal: { tenantId: 't', subject: 'key:bench' },
  face: 'http',
} as unknown as Call['session'];
const reply: Reply = { result: { content: [{ type: 'text', text: 'x' }] } };

function makeCall(id: number): Call {
  const call: Call = {
    id,
    method: 'tools/call',
    params: { name: 'fx__echo', arguments: { text: 'x' } },
    session,
    signal,
    startedAt: performance.now(),
    notes: {
      findings: [],
      decision: { effect: 'allow', rule: 'default', mode: 'enforce' } as never,
      poolWaitMs: 0.01,
    },
  };
  const context: CallContext = {
    link: undefined as never,
    forward: (routed) => {
      routed.target = { server: 'fx', tool: 'echo' };
      context.onUpstream?.(routed, { pid: 42 })?.();
      return Promise.resolve(reply);
    },
  };
  attachContext(call, context);
  return call;
}

const signal = new AbortController().signal;
const chain = (call: Call): Promise<Reply> =>
  outer.handle(call, (c) =>
    policy.handle(c, (c2) => input.handle(c2, (c3) => output.handle(c3, (c4) => contextOf(c4).forward(c4)))),
  );

async function run(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await chain(makeCall(i));
    // Let the batch processor's timer and the exporter's sockets run, as between real calls.
    if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
  }
}

await run(5_000);
const cpu = process.cpuUsage();
await run(calls);
const hooks = process.cpuUsage(cpu);
// Let the batch processor export what is queued, and count that too.
await new Promise((resolve) => setTimeout(resolve, 600));
await tracing?.shutdown();
const all = process.cpuUsage(cpu);
await sink.close();
const micros = (usage: NodeJS.CpuUsage): number => (usage.user + usage.system) / calls;
console.log(
  JSON.stringify({
    arm,
    hooksMicrosPerCall: micros(hooks),
    withExportMicrosPerCall: micros(all),
    spans: sink.counts.spans,
  }),
);
