/**
 * OTLP/protobuf for an export of spans (`ExportTraceServiceRequest`), byte for byte what the
 * OpenTelemetry SDK's own serializer (`ProtobufTraceSerializer` of @opentelemetry/otlp-transformer)
 * writes, at a fraction of its cost. The SDK's is the largest part of what a traced call costs the
 * gateway's event loop (docs/observability.md): it walks every message twice (once to size the
 * buffer, once to write it) and copies every string a character at a time, twice. This one walks
 * once into a buffer of its own per export (sized from the export before), writes long strings
 * and the hex ids with Buffer's native encoders, and hands back a view of exactly the bytes
 * written.
 *
 * A length-delimited field's length is written before its contents, so each message reserves
 * room for its length (a guess by the kind of message), writes the contents, and moves them if
 * the length turned out to need more or fewer bytes: the output has the shortest varints, as the
 * SDK's does. test/telemetry/otlp-span-serializer.test.ts holds the two serializers to the same
 * bytes over spans with every kind of field, so an SDK upgrade that changes the encoding fails
 * there rather than in a collector.
 */
import type { Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import {
  ProtobufTraceSerializer,
  type IExportTraceServiceResponse,
  type ISerializer,
} from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** Wire types. */
const VARINT = 0;
const FIXED64 = 1;
const DELIMITED = 2;
const FIXED32 = 5;

/** Span flags (the OTLP proto's `SpanFlags`): the low byte is the W3C trace flags. */
const HAS_IS_REMOTE = 0x100;
const IS_REMOTE = 0x200;

/** Strings this long or longer go through Buffer's native UTF-8 encoder; shorter ones through a loop. */
const NATIVE_STRING = 24;
/** The first export's buffer; each next one starts a quarter larger than the last export's bytes. */
const FIRST_BYTES = 64 * 1024;

const TWO_32 = 4_294_967_296;
const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

class Writer {
  buffer: Buffer;
  pos = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  ensure(bytes: number): void {
    const needed = this.pos + bytes;
    if (needed <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.pos);
    this.buffer = grown;
  }

  tag(field: number, wireType: number): void {
    const tag = (field << 3) | wireType;
    if (tag < 128) {
      this.ensure(1);
      this.buffer[this.pos++] = tag;
    } else this.varint32(tag);
  }

  /** A non-negative integer below 2^32. */
  varint32(value: number): void {
    this.ensure(5);
    const buffer = this.buffer;
    let v = value >>> 0;
    while (v > 127) {
      buffer[this.pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buffer[this.pos++] = v;
  }

  /** Any integer in the int64 range, negative ones in two's complement (ten bytes), as int64. */
  varint64(value: number): void {
    if (value >= 0 && value < TWO_32) {
      this.varint32(value);
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / TWO_32) >>> 0;
    } else {
      const abs = -value;
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / TWO_32) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    this.ensure(10);
    const buffer = this.buffer;
    while (high > 0 || low > 127) {
      buffer[this.pos++] = (low & 127) | 128;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buffer[this.pos++] = low & 127;
  }

  /** Four bytes, little-endian. */
  #word(value: number): void {
    const buffer = this.buffer;
    buffer[this.pos++] = value & 0xff;
    buffer[this.pos++] = (value >>> 8) & 0xff;
    buffer[this.pos++] = (value >>> 16) & 0xff;
    buffer[this.pos++] = value >>> 24;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.#word(value >>> 0);
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.#word(low >>> 0);
    this.#word(high >>> 0);
  }

  double(value: number): void {
    this.ensure(8);
    this.buffer.writeDoubleLE(value, this.pos);
    this.pos += 8;
  }

  /** An HrTime ([seconds, nanoseconds]) as fixed64 nanoseconds, without a BigInt. */
  time(time: HrTime): void {
    const [seconds, nanos] = time;
    const lowSeconds = seconds & 0xffff;
    const highSeconds = (seconds / 65_536) >>> 0;
    const fromLow = lowSeconds * 1e9;
    const fromHigh = highSeconds * 1e9;
    const low = (fromLow >>> 0) + (((fromHigh & 0xffff) * 65_536) >>> 0) + nanos;
    const carry = Math.floor(low / TWO_32);
    const high = Math.floor(fromLow / TWO_32) + ((fromHigh / 65_536) >>> 0) + carry;
    this.fixed64(low, high);
  }

  bytes(bytes: Uint8Array): void {
    this.varint32(bytes.length);
    this.ensure(bytes.length);
    this.buffer.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A trace or span id, given in hex, as its bytes. */
  hexId(hex: string): void {
    const length = hex.length >>> 1;
    this.varint32(length);
    this.ensure(length);
    const written = this.buffer.write(hex, this.pos, length, 'hex');
    // Buffer stops at a character that is not hex, where the SDK's hexToBinary reads on. Ids from
    // the SDK's generator and from a parsed traceparent are hex; this is for a hand-made link.
    for (let i = written; i < length; i++)
      this.buffer[this.pos + i] =
        (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
    this.pos += length;
  }

  string(text: string): void {
    const length = text.length;
    if (length < NATIVE_STRING) {
      // At most 3 bytes a UTF-16 unit, so the length fits one byte (72 < 128) either way.
      this.ensure(1 + 3 * length);
      const buffer = this.buffer;
      const start = this.pos;
      let at = start + 1;
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > 127) {
          this.pos = start;
          this.#nativeString(text);
          return;
        }
        buffer[at++] = code;
      }
      buffer[start] = length;
      this.pos = at;
      return;
    }
    this.#nativeString(text);
  }

  #nativeString(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.varint32(bytes);
    this.ensure(bytes);
    this.pos += this.buffer.write(text, this.pos, bytes, 'utf8');
  }

  /**
   * Reserves `reserve` bytes for a length and returns where the contents begin; `end` writes the
   * length there, moving the contents when it needs a different number of bytes.
   */
  begin(reserve: number): number {
    this.ensure(reserve);
    this.pos += reserve;
    return this.pos;
  }

  end(contents: number, reserve: number): void {
    const length = this.pos - contents;
    const size = varintSize(length);
    const start = contents - reserve;
    if (size !== reserve) {
      this.ensure(size - reserve);
      this.buffer.copyWithin(start + size, contents, this.pos);
      this.pos += size - reserve;
    }
    const buffer = this.buffer;
    let at = start;
    let v = length;
    while (v > 127) {
      buffer[at++] = (v & 127) | 128;
      v >>>= 7;
    }
    buffer[at] = v;
  }
}

/** A hex digit's value, as the SDK's hexToBinary reads it (anything else as if it were A–F). */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  if (value < 268_435_456) return 4;
  return 5;
}

/** Each own property as a `KeyValue` in `field`: an Attributes list, or an AnyValue's kvlist. */
function writeAttributes(writer: Writer, attributes: Readonly<Record<string, unknown>>, field: number): void {
  for (const key in attributes) {
    if (!Object.hasOwn(attributes, key)) continue;
    writer.tag(field, DELIMITED);
    const pair = writer.begin(1);
    writer.tag(1, DELIMITED);
    writer.string(key);
    writer.tag(2, DELIMITED);
    const value = writer.begin(1);
    writeAnyValue(writer, attributes[key]);
    writer.end(value, 1);
    writer.end(pair, 1);
  }
}

/** An `AnyValue`'s fields, as the SDK's serializer chooses them (integers as int, else double). */
function writeAnyValue(writer: Writer, value: unknown): void {
  switch (typeof value) {
    case 'string':
      writer.tag(1, DELIMITED);
      writer.string(value);
      return;
    case 'boolean':
      writer.tag(2, VARINT);
      writer.varint32(value ? 1 : 0);
      return;
    case 'number':
      if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
        writer.tag(3, VARINT);
        writer.varint64(value);
      } else {
        writer.tag(4, FIXED64);
        writer.double(value);
      }
      return;
    default:
  }
  if (value instanceof Uint8Array) {
    writer.tag(7, DELIMITED);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.tag(5, DELIMITED);
    const array = writer.begin(2);
    for (const item of value as unknown[]) {
      writer.tag(1, DELIMITED);
      const element = writer.begin(1);
      writeAnyValue(writer, item);
      writer.end(element, 1);
    }
    writer.end(array, 2);
  } else if (typeof value === 'object' && value !== null) {
    writer.tag(6, DELIMITED);
    const list = writer.begin(2);
    writeAttributes(writer, value as Record<string, unknown>, 1);
    writer.end(list, 2);
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | HAS_IS_REMOTE | (isRemote ? IS_REMOTE : 0);
}

function writeEvent(writer: Writer, event: TimedEvent): void {
  const start = writer.begin(1);
  writer.tag(1, FIXED64);
  writer.time(event.time);
  writer.tag(2, DELIMITED);
  writer.string(event.name);
  if (event.attributes) writeAttributes(writer, event.attributes, 3);
  writer.tag(4, VARINT);
  writer.varint32(event.droppedAttributesCount ?? 0);
  writer.end(start, 1);
}

/** Fields 1-3 of a Span and of a Span.Link alike: trace id, span id, trace state. */
function writeContext(writer: Writer, context: SpanContext): void {
  writer.tag(1, DELIMITED);
  writer.hexId(context.traceId);
  writer.tag(2, DELIMITED);
  writer.hexId(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    writer.tag(3, DELIMITED);
    writer.string(traceState);
  }
}

function writeLink(writer: Writer, link: Link & { droppedAttributesCount?: number }): void {
  const start = writer.begin(1);
  const context = link.context;
  writeContext(writer, context);
  if (link.attributes) writeAttributes(writer, link.attributes, 4);
  writer.tag(5, VARINT);
  writer.varint32(link.droppedAttributesCount ?? 0);
  writer.tag(6, FIXED32);
  writer.fixed32(spanFlags(context.traceFlags, context.isRemote));
  writer.end(start, 1);
}

function writeSpan(writer: Writer, span: ReadableSpan): void {
  const start = writer.begin(2);
  const context = span.spanContext();
  writeContext(writer, context);
  const parent = span.parentSpanContext;
  if (parent?.spanId) {
    writer.tag(4, DELIMITED);
    writer.hexId(parent.spanId);
  }
  writer.tag(5, DELIMITED);
  writer.string(span.name);
  // The proto's SpanKind counts from UNSPECIFIED = 0; the API's from INTERNAL = 0.
  if ((span.kind as number | undefined) != null) {
    writer.tag(6, VARINT);
    writer.varint32(span.kind + 1);
  }
  writer.tag(7, FIXED64);
  writer.time(span.startTime);
  writer.tag(8, FIXED64);
  writer.time(span.endTime);
  writeAttributes(writer, span.attributes, 9);
  writer.tag(10, VARINT);
  writer.varint32(span.droppedAttributesCount);
  for (const event of span.events) {
    writer.tag(11, DELIMITED);
    writeEvent(writer, event);
  }
  writer.tag(12, VARINT);
  writer.varint32(span.droppedEventsCount);
  for (const link of span.links) {
    writer.tag(13, DELIMITED);
    writeLink(writer, link);
  }
  writer.tag(14, VARINT);
  writer.varint32(span.droppedLinksCount);
  writer.tag(15, DELIMITED);
  const status = writer.begin(1);
  if (span.status.message) {
    writer.tag(2, DELIMITED);
    writer.string(span.status.message);
  }
  writer.tag(3, VARINT);
  writer.varint32(span.status.code);
  writer.end(status, 1);
  writer.tag(16, FIXED32);
  writer.fixed32(spanFlags(context.traceFlags, parent?.isRemote));
  writer.end(start, 2);
}

function writeScope(
  writer: Writer,
  scope: Scope & { attributes?: Attributes; droppedAttributesCount?: number },
): void {
  writer.tag(1, DELIMITED);
  const start = writer.begin(1);
  writer.tag(1, DELIMITED);
  writer.string(scope.name);
  if (scope.version) {
    writer.tag(2, DELIMITED);
    writer.string(scope.version);
  }
  if (scope.attributes) writeAttributes(writer, scope.attributes, 3);
  if (scope.droppedAttributesCount) {
    writer.tag(4, VARINT);
    writer.varint32(scope.droppedAttributesCount);
  }
  writer.end(start, 1);
}

function writeResourceSpans(writer: Writer, resource: Resource, scopes: Map<Scope, ReadableSpan[]>): void {
  writer.tag(1, DELIMITED);
  const start = writer.begin(3);
  writer.tag(1, DELIMITED);
  const fields = writer.begin(2);
  writeAttributes(writer, resource.attributes, 1);
  writer.tag(2, VARINT);
  writer.varint32(0);
  writer.end(fields, 2);
  for (const spans of scopes.values()) {
    writer.tag(2, DELIMITED);
    const scopeSpans = writer.begin(3);
    const scope = (spans[0] as ReadableSpan).instrumentationScope;
    writeScope(writer, scope);
    for (const span of spans) {
      writer.tag(2, DELIMITED);
      writeSpan(writer, span);
    }
    if (scope.schemaUrl) {
      writer.tag(3, DELIMITED);
      writer.string(scope.schemaUrl);
    }
    writer.end(scopeSpans, 3);
  }
  if (resource.schemaUrl) {
    writer.tag(3, DELIMITED);
    writer.string(resource.schemaUrl);
  }
  writer.end(start, 3);
}

/** Spans grouped by resource, then by instrumentation scope, each by identity, in first-seen order. */
function grouped(spans: readonly ReadableSpan[]): Map<Resource, Map<Scope, ReadableSpan[]>> {
  const resources = new Map<Resource, Map<Scope, ReadableSpan[]>>();
  for (const span of spans) {
    let scopes = resources.get(span.resource);
    if (scopes === undefined) {
      scopes = new Map();
      resources.set(span.resource, scopes);
    }
    const list = scopes.get(span.instrumentationScope);
    if (list === undefined) scopes.set(span.instrumentationScope, [span]);
    else list.push(span);
  }
  return resources;
}

/**
 * Serializes spans as the SDK's protobuf serializer does. Each export is written into a buffer of
 * its own, sized from the export before, and handed out as it is: no copy, and nothing shared with
 * an export still being sent.
 */
export function createSpanSerializer(): ISerializer<ReadableSpan[], IExportTraceServiceResponse> {
  let size = FIRST_BYTES;
  return {
    serializeRequest(spans) {
      const writer = new Writer(size);
      for (const [resource, scopes] of grouped(spans)) writeResourceSpans(writer, resource, scopes);
      size = Math.max(FIRST_BYTES, Math.ceil(writer.pos * 1.25));
      return writer.buffer.subarray(0, writer.pos);
    },
    deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
  };
}
