/**
 * What serializing spans costs, mcplane's OTLP/protobuf serializer against the SDK's own
 * (ProtobufTraceSerializer), on 512 spans of a traced call's shape (a request span and its upstream
 * span, with the attributes the pipeline gives them), made by the SDK. Checks the two agree byte
 * for byte, then times them in turns and prints µs per span.
 *
 *   node bench/telemetry/serializer-micro.ts [rounds]
 */
import { context, SpanKind, trace } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSpanSerializer } from '../../src/telemetry/otlp-span-serializer.ts';

const ROUNDS = Number(process.argv[2] ?? 4);
const EXPORTS_PER_ROUND = 300;

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const tracer = provider.getTracer('mcplane', '0.1.0');
for (let i = 0; i < 256; i++) {
  const request = tracer.startSpan('tools/call', {
    kind: SpanKind.SERVER,
    attributes: {
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'fixture__echo',
      'mcp.session.id': 'f3a1c0de-1111-2222-3333-444455556666',
      'jsonrpc.request.id': String(i),
      'mcplane.tenant': 'acme',
      'mcplane.principal': 'key:abc123',
      'mcplane.face': 'http',
      'network.transport': 'tcp',
      'gen_ai.operation.name': 'execute_tool',
      'mcplane.policy.effect': 'allow',
      'mcplane.policy.rule': 'default',
      'mcplane.guard.findings': 0,
    },
  });
  tracer
    .startSpan(
      'tools/call echo',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'mcp.method.name': 'tools/call',
          'mcplane.pool.wait_ms': 0.012,
          'mcplane.server': 'fixture',
          'process.pid': 4242,
          'gen_ai.tool.name': 'echo',
        },
      },
      trace.setSpan(context.active(), request),
    )
    .end();
  request.end();
}
await provider.forceFlush();
const spans = exporter.getFinishedSpans();
const ours = createSpanSerializer();
const sdkBytes = Buffer.from(ProtobufTraceSerializer.serializeRequest(spans) ?? []);
const ourBytes = Buffer.from(ours.serializeRequest(spans) ?? []);
console.log(`${spans.length} spans, ${sdkBytes.length} bytes; the same bytes: ${sdkBytes.equals(ourBytes)}`);
if (!sdkBytes.equals(ourBytes)) process.exitCode = 1;

const subjects = [
  ['sdk', ProtobufTraceSerializer],
  ['mcplane', ours],
] as const;
const perSpan: Record<string, number[]> = { sdk: [], mcplane: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, serializer] of subjects) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < EXPORTS_PER_ROUND; i++) serializer.serializeRequest(spans);
    const micros = Number(process.hrtime.bigint() - started) / 1000;
    perSpan[name]?.push(micros / EXPORTS_PER_ROUND / spans.length);
  }
}
const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;
for (const [name] of subjects)
  console.log(
    `${name.padEnd(8)} ${median(perSpan[name] ?? []).toFixed(2)} µs a span (median of ${ROUNDS} rounds)`,
  );
await provider.shutdown();
