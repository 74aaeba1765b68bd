/**
 * mcplane's OTLP/protobuf span serializer against the SDK's own (ProtobufTraceSerializer): the
 * same bytes for every kind of field a span can carry, including the lengths that need more than
 * the bytes reserved for them, and for attribute values fast-check makes up.
 */
import {
  createTraceState,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type HrTime,
  type TraceState,
} from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSpanSerializer } from '../../src/telemetry/otlp-span-serializer.ts';

type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const resource = (attributes: Attributes, schemaUrl?: string): Resource =>
  ({ attributes, ...(schemaUrl === undefined ? {} : { schemaUrl }) }) as unknown as Resource;

function span(fields: Partial<ReadableSpan> & { id?: string; traceState?: TraceState }): ReadableSpan {
  const { id = 'b7ad6b7169203331', traceState, ...rest } = fields;
  const context = {
    traceId: TRACE,
    spanId: id,
    traceFlags: TraceFlags.SAMPLED,
    ...(traceState === undefined ? {} : { traceState }),
  };
  return {
    name: 'tools/call echo',
    kind: SpanKind.CLIENT,
    spanContext: () => context,
    startTime: [1_764_000_000, 123_456_789] as HrTime,
    endTime: [1_764_000_000, 923_456_789] as HrTime,
    status: { code: SpanStatusCode.UNSET },
    attributes: {},
    links: [],
    events: [],
    duration: [0, 800_000_000] as HrTime,
    ended: true,
    resource: resource({ 'service.name': 'mcplane' }),
    instrumentationScope: { name: 'mcplane', version: '0.1.0' },
    droppedAttributesCount: 0,
    droppedEventsCount: 0,
    droppedLinksCount: 0,
    ...rest,
  };
}

const bytes = (data: Uint8Array | undefined): Buffer => Buffer.from(data ?? new Uint8Array());

function expectSameBytes(spans: ReadableSpan[]): void {
  const ours = createSpanSerializer().serializeRequest(spans);
  expect(bytes(ours).equals(bytes(ProtobufTraceSerializer.serializeRequest(spans)))).toBe(true);
}

describe('the OTLP/protobuf span serializer', () => {
  it('writes what the SDK writes for spans the SDK itself made', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('mcplane', '1.2.3');
    for (let i = 0; i < 20; i++) {
      const root = tracer.startSpan('tools/call', {
        kind: SpanKind.SERVER,
        attributes: {
          'mcp.method.name': 'tools/call',
          'jsonrpc.request.id': String(i),
          n: i,
          ok: i % 2 === 0,
        },
      });
      root.addEvent('retry', { attempt: 2 });
      root.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream failed: ü' });
      root.end();
    }
    await provider.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(20);
    expectSameBytes(spans);
    await provider.shutdown();
  });

  it('writes every field: parent, trace state, events, links, status, drops, schema urls, scopes and resources', () => {
    const state = createTraceState('vendor=abc,other=x-y');
    const scoped = {
      name: 'other',
      version: '2',
      schemaUrl: 'https://opentelemetry.io/schemas/1.30.0',
    } as Scope;
    const plain = { name: 'bare' } as Scope;
    const second = resource({ 'service.name': 'second', 'host.name': 'h' }, 'https://example.com/schema');
    const spans = [
      span({
        kind: SpanKind.SERVER,
        traceState: state,
        parentSpanContext: { traceId: TRACE, spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true },
        attributes: { a: 'x', b: 1, c: true },
        events: [
          { name: 'first', time: [1, 2], attributes: { at: 1 }, droppedAttributesCount: 3 },
          { name: 'second', time: [4_294_967_296, 999_999_999] },
        ],
        links: [
          {
            context: { traceId: TRACE, spanId: '1111111111111111', traceFlags: 0, traceState: state },
            attributes: { why: 'follows' },
            droppedAttributesCount: 2,
          },
          { context: { traceId: TRACE, spanId: '2222222222222222', traceFlags: 1, isRemote: true } },
        ],
        status: { code: SpanStatusCode.ERROR, message: 'refused by policy' },
        droppedAttributesCount: 4,
        droppedEventsCount: 5,
        droppedLinksCount: 6,
      }),
      span({ id: '3333333333333333', kind: SpanKind.INTERNAL, instrumentationScope: scoped }),
      span({ id: '4444444444444444', kind: undefined, instrumentationScope: plain }),
      span({
        id: '5555555555555555',
        resource: second,
        parentSpanContext: { traceId: TRACE, spanId: '', traceFlags: 1 },
      }),
      span({ id: '6666666666666666', kind: SpanKind.PRODUCER, startTime: [0, 0], endTime: [2 ** 33, 5] }),
    ];
    expectSameBytes(spans);
  });

  it('writes ids that are not lowercase hex as the SDK reads them', () => {
    expectSameBytes([span({ id: 'ABCDEF0123456789' }), span({ id: 'zz00ffq1g2h3i4j5' })]);
  });

  it('writes values of every type: strings of every length and script, integers, doubles, arrays, bytes, maps', () => {
    const long = 'x'.repeat(200);
    const attributes = {
      empty: '',
      ascii: 'tools/call',
      short: 'ünïcödé',
      emoji: '🙂 launch',
      lone: 'bad \ud800 surrogate',
      long,
      longUnicode: 'ж'.repeat(100),
      ключ: 'non-ASCII key',
      [`k${'y'.repeat(300)}`]: 'a key longer than 127 bytes',
      zero: 0,
      negative: -1,
      big: 2 ** 40,
      huge: 2 ** 53 + 2,
      min: -(2 ** 63),
      max: 2 ** 63,
      minusZero: -0,
      pi: 3.141592653589793,
      nan: Number.NaN,
      inf: Number.POSITIVE_INFINITY,
      yes: true,
      no: false,
      strings: ['a', 'b', long],
      numbers: [1, 2.5, -3],
      mixed: [true, 'x', 7, null, undefined],
      emptyList: [],
      binary: new Uint8Array([0, 1, 2, 255]),
      map: { inner: 'v', deeper: { list: [1, { x: 'y' }] } },
      missing: undefined,
      nothing: null,
    } as unknown as Attributes;
    expectSameBytes([span({ attributes })]);
  });

  it('writes lengths that outgrow the bytes reserved for them: a 20 KB value, a span over 16 KB, an export over 2 MB', () => {
    const value = 'v'.repeat(20_000);
    const big = span({ attributes: { value, list: Array.from({ length: 300 }, (_, i) => `item-${i}`) } });
    expectSameBytes([big]);
    const many = Array.from({ length: 160 }, (_, i) =>
      span({ id: i.toString(16).padStart(16, '0'), attributes: { value: `${i}:${'v'.repeat(14_000)}` } }),
    );
    const ours = createSpanSerializer().serializeRequest(many);
    expect(ours?.length).toBeGreaterThan(2 * 1024 * 1024);
    expectSameBytes(many);
  });

  it('writes an export of no spans as the SDK does', () => {
    expectSameBytes([]);
  });

  it('keeps each export to its own bytes: a serializer reused for a smaller export hands back only that one', () => {
    const serializer = createSpanSerializer();
    const first = bytes(serializer.serializeRequest([span({ attributes: { a: 'x'.repeat(70_000) } })]));
    const second = bytes(serializer.serializeRequest([span({})]));
    expect(second.equals(bytes(ProtobufTraceSerializer.serializeRequest([span({})])))).toBe(true);
    // The first is intact after the second was written.
    expect(
      first.equals(
        bytes(ProtobufTraceSerializer.serializeRequest([span({ attributes: { a: 'x'.repeat(70_000) } })])),
      ),
    ).toBe(true);
  });

  it('agrees with the SDK on any attribute values', () => {
    const scalar = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 40 }),
      fc.string({ maxLength: 300 }),
      fc.boolean(),
      fc.integer(),
      fc.maxSafeInteger(),
      fc.double(),
      fc.constantFrom(undefined, null),
    );
    const value = fc.letrec((tie) => ({
      any: fc.oneof(
        { depthSize: 'small' },
        scalar,
        tie('list'),
        tie('map'),
        fc.uint8Array({ maxLength: 20 }),
      ),
      list: fc.array(tie('any'), { maxLength: 4 }),
      map: fc.dictionary(fc.string({ maxLength: 12 }), tie('any'), { maxKeys: 4 }),
    })).any;
    const attributes = fc.dictionary(fc.string({ unit: 'binary', maxLength: 30 }), value, { maxKeys: 8 });
    fc.assert(
      fc.property(
        fc.array(attributes, { minLength: 1, maxLength: 4 }),
        fc.string({ maxLength: 50 }),
        (sets, name) => {
          const spans = sets.map((set, i) => span({ id: `${i}`.padStart(16, '0'), name, attributes: set }));
          const ours = bytes(createSpanSerializer().serializeRequest(spans));
          return ours.equals(bytes(ProtobufTraceSerializer.serializeRequest(spans)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
