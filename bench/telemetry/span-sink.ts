/**
 * A local OTLP/HTTP receiver for the benchmark: it takes `POST /v1/traces` (protobuf, the
 * exporter's default, or JSON) and only counts what it receives, the spans of a protobuf export by
 * walking its wire format (ExportTraceServiceRequest → 1 resource_spans → 2 scope_spans → 2
 * spans), so that it costs the machine as little as it can.
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
      const json = request.headers['content-type']?.startsWith('application/json') === true;
      counts.spans += json ? jsonSpans(body) : protobufSpans(body);
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      response.end(json ? '{}' : undefined);
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

function protobufSpans(body: Uint8Array): number {
  let spans = 0;
  for (const resourceSpans of children(body, 1))
    for (const scopeSpans of children(resourceSpans, 2)) spans += children(scopeSpans, 2).length;
  return spans;
}

/** The spans of an OTLP/JSON export (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=http/json). */
function jsonSpans(body: Buffer): number {
  type Export = { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
  let spans = 0;
  for (const resource of (JSON.parse(body.toString('utf8')) as Export).resourceSpans ?? [])
    for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
  return spans;
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

/**
 * The telemetry arms' OTEL_* settings beyond the endpoint, by core arm name (absent: the SDK's
 * defaults, always on and protobuf); the HTTP arms name the same entries.
 */
export const BENCH_TRACING = {
  unsampled: { OTEL_TRACES_SAMPLER: 'always_off' },
  sampled: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' },
  // Every trace, exported in OTLP's JSON encoding rather than the default protobuf.
  json: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' },
} as const satisfies Record<string, Readonly<Record<string, string>>>;

/** The OTEL_* settings of a core arm: export to `sink` in large batches, with `arm`'s settings. */
export function benchTracingEnv(sink: SpanSink, arm: string): Record<string, string> {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_BSP_MAX_QUEUE_SIZE: '100000',
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2048',
    ...(Object.hasOwn(BENCH_TRACING, arm) ? BENCH_TRACING[arm as keyof typeof BENCH_TRACING] : {}),
  };
}
