/**
 * A local OTLP/HTTP receiver for the benchmark: it takes `POST /v1/traces` (protobuf, the
 * exporter's default) and only counts what it receives, the spans by walking the protobuf wire
 * format (ExportTraceServiceRequest → 1 resource_spans → 2 scope_spans → 2 spans), so that it
 * costs the machine as little as it can.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type SpanSink = {
  readonly endpoint: string;
  readonly counts: { requests: number; bytes: number; spans: number };
  close(): Promise<void>;
};

export async function startSpanSink(): Promise<SpanSink> {
  const counts = { requests: 0, bytes: 0, spans: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      counts.requests++;
      counts.bytes += body.length;
      for (const resourceSpans of children(body, 1))
        for (const scopeSpans of children(resourceSpans, 2)) counts.spans += children(scopeSpans, 2).length;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The length-delimited fields numbered `wanted` of one message. */
function children(bytes: Uint8Array, wanted: number): Uint8Array[] {
  const found: Uint8Array[] = [];
  let at = 0;
  const varint = (): number => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = bytes[at++] ?? 0;
      result += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return result;
      scale *= 128;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const length = varint();
      if (key >>> 3 === wanted) found.push(bytes.subarray(at, at + length));
      at += length;
    } else break;
  }
  return found;
}

/** The samplers the core telemetry arms name, as OTEL_* settings (absent: the SDK's default, always on). */
export const BENCH_SAMPLERS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  unsampled: { OTEL_TRACES_SAMPLER: 'always_off' },
  sampled: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
};

/** The OTEL_* settings of a bench arm: export to `sink` in large batches, with `arm`'s sampler. */
export function benchTracingEnv(sink: SpanSink, arm: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_MAX_QUEUE_SIZE: '100000',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048',
    ...BENCH_SAMPLERS[arm],
  };
}
