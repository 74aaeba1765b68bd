/**
 * A minimal OTLP/HTTP trace receiver for tests: `POST /v1/traces` on 127.0.0.1, port 0, that
 * decodes what it receives, protobuf (the exporter's default, `http/protobuf`) with a small
 * reader of the protobuf wire format written against opentelemetry-proto's trace.proto, or JSON
 * (`http/json`), into plain spans.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceivedSpan = {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Record<string, unknown>;
  /** The resource's attributes (service.name, …). */
  readonly resource: Record<string, unknown>;
};

export type OtlpReceiver = {
  /** `http://127.0.0.1:<port>`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly endpoint: string;
  readonly spans: ReceivedSpan[];
  /** The content types of the requests received. */
  readonly contentTypes: string[];
  close(): Promise<void>;
};

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const type = request.headers['content-type'] ?? '';
      contentTypes.push(type);
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      spans.push(...(type.includes('json') ? decodeJson(body.toString('utf8')) : decodeProtobuf(body)));
      // An empty ExportTraceServiceResponse: no partial success.
      response.writeHead(200, {
        'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf',
      });
      response.end(type.includes('json') ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- JSON (OTLP/JSON: hex ids, AnyValue objects) ----

type JsonKeyValue = { key: string; value: Record<string, unknown> };
type JsonRequest = {
  resourceSpans?: {
    resource?: { attributes?: JsonKeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind: number;
        attributes?: JsonKeyValue[];
      }[];
    }[];
  }[];
};

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const { key, value } of list ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.intValue ?? value.doubleValue ?? value.arrayValue;
    out[key] = typeof v === 'string' && 'intValue' in value ? Number(v) : v;
  }
  return out;
}

function decodeJson(text: string): ReceivedSpan[] {
  const request = JSON.parse(text) as JsonRequest;
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const resource = jsonAttributes(resourceSpans.resource?.attributes);
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
      (scope.spans ?? []).map((span) => ({
        traceId: span.traceId,
        spanId: span.spanId,
        parentSpanId: span.parentSpanId ?? '',
        name: span.name,
        kind: span.kind,
        attributes: jsonAttributes(span.attributes),
        resource,
      })),
    );
  });
}

// ---- protobuf (the wire format: varints, fixed64/32, length-delimited) ----

type Field = { readonly number: number; readonly wire: number; readonly value: bigint | Uint8Array };

function fields(bytes: Uint8Array): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = bytes[at++];
      if (byte === undefined) throw new Error('truncated varint');
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = Number(varint());
    const number = key >> 3;
    const wire = key & 7;
    if (wire === 0) out.push({ number, wire, value: varint() });
    else if (wire === 1) {
      out.push({ number, wire, value: Buffer.from(bytes.subarray(at, at + 8)).readBigUInt64LE() });
      at += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ number, wire, value: bytes.subarray(at, at + length) });
      at += length;
    } else if (wire === 5) {
      out.push({ number, wire, value: BigInt(Buffer.from(bytes.subarray(at, at + 4)).readUInt32LE()) });
      at += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const nested = (list: Field[], number: number): Uint8Array[] =>
  list.filter((field) => field.number === number).map((field) => field.value as Uint8Array);
const first = (list: Field[], number: number): Field | undefined =>
  list.find((field) => field.number === number);
const utf8 = (bytes: Uint8Array | undefined): string => (bytes ? Buffer.from(bytes).toString('utf8') : '');
const hex = (bytes: Uint8Array | undefined): string => (bytes ? Buffer.from(bytes).toString('hex') : '');

/** AnyValue: 1 string, 2 bool, 3 int64, 4 double, 5 array. */
function anyValue(bytes: Uint8Array): unknown {
  const [field] = fields(bytes);
  if (!field) return undefined;
  switch (field.number) {
    case 1:
      return utf8(field.value as Uint8Array);
    case 2:
      return field.value === 1n;
    case 3:
      return Number(BigInt.asIntN(64, field.value as bigint));
    case 4: {
      const buffer = Buffer.alloc(8);
      buffer.writeBigUInt64LE(field.value as bigint);
      return buffer.readDoubleLE();
    }
    case 5:
      return nested(fields(field.value as Uint8Array), 1).map(anyValue);
    default:
      return undefined;
  }
}

/** KeyValue: 1 key, 2 value. */
function protoAttributes(list: Uint8Array[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const bytes of list) {
    const kv = fields(bytes);
    const value = nested(kv, 2)[0];
    out[utf8(nested(kv, 1)[0])] = value === undefined ? undefined : anyValue(value);
  }
  return out;
}

/**
 * ExportTraceServiceRequest: 1 ResourceSpans (1 Resource{1 attributes}, 2 ScopeSpans
 * (2 Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 9 attributes)).
 */
function decodeProtobuf(body: Uint8Array): ReceivedSpan[] {
  return nested(fields(body), 1).flatMap((resourceSpansBytes) => {
    const resourceSpans = fields(resourceSpansBytes);
    const resourceBytes = nested(resourceSpans, 1)[0];
    const resource = resourceBytes ? protoAttributes(nested(fields(resourceBytes), 1)) : {};
    return nested(resourceSpans, 2).flatMap((scopeBytes) =>
      nested(fields(scopeBytes), 2).map((spanBytes) => {
        const span = fields(spanBytes);
        return {
          traceId: hex(nested(span, 1)[0]),
          spanId: hex(nested(span, 2)[0]),
          parentSpanId: hex(nested(span, 4)[0]),
          name: utf8(nested(span, 5)[0]),
          kind: Number(first(span, 6)?.value ?? 0n),
          attributes: protoAttributes(nested(span, 9)),
          resource,
        };
      }),
    );
  });
}
