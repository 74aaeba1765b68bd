/**
 * One arm of `bench/telemetry.ts --core`, in a process of its own (the OpenTelemetry SDK is
 * process-wide): the gateway core in-process with the SDK client over an in-memory transport,
 * `calls` tools/call echo at concurrency 10, and the CPU this process spent per call (gateway and
 * client together: no HTTP, no load-generator thread, so the difference between arms is what the
 * arm adds). Prints one JSON line.
 *
 * `fixed` sends the same arguments every call; `unique` a different text each call. It matters
 * because the echo fixture returns the request's `_meta`, and with tracing on that holds a fresh
 * `traceparent` per call: with fixed arguments the off arm's results repeat (and the output
 * guard answers them from its scan cache) while every traced result is new and scanned in full,
 * a cost of the fixture echoing `_meta`, not of tracing. With unique arguments every arm's
 * results are new, as real tool results mostly are.
 *
 *   node bench/telemetry/core-arm.ts <off|metrics|unsampled|sampled|tracing|json|tracing-all> <calls> [plain|unique|fixed]
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ConfigSchema } from '../../src/config/schema.ts';
import { createGateway } from '../../src/gateway.ts';
import { localPrincipal } from '../../src/identity/principal.ts';
import { bindTransport } from '../../src/ingress/transport-binding.ts';
import { silentLogger } from '../../src/log.ts';
import { startTracing } from '../../src/telemetry/tracing.ts';
import { FIXTURE } from '../http/subjects.ts';
import { BENCH_TRACING, benchTracingEnv, startSpanSink } from './span-sink.ts';

const arm = process.argv[2] ?? 'off';
const calls = Number(process.argv[3] ?? 20_000);
const mode = process.argv[4] ?? 'plain';
const unique = mode !== 'fixed';
const omitMeta = mode === 'plain';
const traced = arm === 'tracing' || arm === 'tracing-all' || arm in BENCH_TRACING;
const sink = await startSpanSink();
const env = benchTracingEnv(sink, arm);
// The SDK reads its settings from the process environment.
if (traced) Object.assign(process.env, env);
const tracing = traced ? startTracing(env, { version: 'bench', log: silentLogger() }) : undefined;
const config = ConfigSchema.parse({
  gateway: {
    processIsolation: 'none',
    metrics: { enabled: arm !== 'off' },
    logs: { calls: 'off' },
    // `tracing` is the default (a stage span only when notable); `tracing-all` spans every stage.
    tracing: { stageSpans: arm === 'tracing-all' ? 'all' : 'notable' },
  },
  servers: {
    fx: { command: process.execPath, args: [FIXTURE], pool: { min: 1, max: 1, maxInflight: 1000 } },
  },
  tenants: { t: { name: 'Benchmark tenant' } },
});
const gateway = await createGateway(config, {
  log: silentLogger(),
  env: process.env,
  ...(tracing ? { tracer: tracing.tracer } : {}),
});
const session = gateway.connect(localPrincipal('t'));
const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
await bindTransport(session, serverSide, gateway.log);
const client = new Client({ name: 'bench', version: '1' });
await client.connect(clientSide);

let sent = 0;
async function run(count: number): Promise<void> {
  let left = count;
  await Promise.all(
    Array.from({ length: 10 }, async () => {
      while (left-- > 0) {
        const text = unique ? `x${sent++}` : 'x';
        await client.callTool({ name: 'fx__echo', arguments: omitMeta ? { text, omitMeta } : { text } });
      }
    }),
  );
}

await run(2_000);
const cpu = process.cpuUsage();
const started = performance.now();
await run(calls);
const seconds = (performance.now() - started) / 1000;
const used = process.cpuUsage(cpu);
await client.close();
await gateway.close();
await tracing?.shutdown();
await sink.close();
console.log(
  JSON.stringify({
    arm,
    callsPerSecond: calls / seconds,
    cpuMicrosPerCall: (used.user + used.system) / calls,
    spans: sink.counts.spans,
  }),
);
