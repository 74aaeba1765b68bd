/**
 * The request span of one call, with a tracer of its own (not the process-wide SDK): what the
 * sampler is given to decide by, what an unsampled call still does (its trace id for the audit
 * record, the traceparent for the child) and what a sampled one records.
 */
import { propagation, SamplingDecision, type Attributes } from '@opentelemetry/api';
// The SDK's pieces, which @opentelemetry/sdk-node depends on and starts from its options.
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attachContext, type CallContext } from '../../src/guard/call-context.ts';
import type { Call } from '../../src/guard/pipeline.ts';
import { CallSpans } from '../../src/telemetry/call-spans.ts';

beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});
afterAll(() => {
  propagation.disable();
});

/** A sampler that keeps or drops every span, and remembers the attributes it was shown. */
function sampler(keep: boolean): Sampler & { readonly seen: Attributes[] } {
  const seen: Attributes[] = [];
  return {
    seen,
    shouldSample: (_context, _traceId, _name, _kind, attributes) => {
      seen.push({ ...attributes });
      return { decision: keep ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD };
    },
    toString: () => 'test sampler',
  };
}

function setUp(keep: boolean) {
  const exporter = new InMemorySpanExporter();
  const decides = sampler(keep);
  const provider = new TracerProvider({
    sampler: decides,
    spanProcessors: [new SimpleSpanProcessor({ exporter })],
  });
  return { exporter, sampler: decides, spans: new CallSpans(provider.getTracer('test')) };
}

function toolCall(): { call: Call; context: CallContext } {
  const call: Call = {
    id: 7,
    method: 'tools/call',
    params: { name: 'fx__echo', arguments: { text: 'hi' } },
    session: {
      key: 'session-1',
      principal: { tenantId: 'acme', subject: 'key:k1' },
      face: 'http',
    } as unknown as Call['session'],
    signal: new AbortController().signal,
    startedAt: performance.now(),
    notes: { findings: [] },
  };
  const context: CallContext = {
    link: undefined as never,
    forward: () => Promise.resolve({ result: {} }),
  };
  attachContext(call, context);
  return { call, context };
}

/** What the forwarding step does once the call has its process: the upstream hook, then the end. */
function forward(call: Call, context: CallContext): void {
  call.target = { server: 'fx', tool: 'echo' };
  context.onUpstream?.(call, { pid: 42 })?.();
}

describe('a call the sampler drops', () => {
  it('shows the sampler the method and tool, records no span, and still sends the child its trace, flagged unsampled', () => {
    const { exporter, sampler, spans } = setUp(false);
    const { call, context } = toolCall();
    const end = spans.begin(call);
    forward(call, context);
    end('ok', { reply: { result: {} } });

    expect(sampler.seen).toEqual([{ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'fx__echo' }]);
    expect(exporter.getFinishedSpans()).toEqual([]);
    const trace = spans.traceOf(call);
    expect(trace?.traceId).toMatch(/^[0-9a-f]{32}$/);
    const meta = call.params._meta as Record<string, unknown>;
    expect(meta.traceparent).toBe(`00-${trace?.traceId}-${trace?.spanId}-00`);
  });
});

describe('a call the sampler keeps', () => {
  it('records its request span with every attribute, though the sampler was shown only the method and tool', () => {
    const { exporter, sampler, spans } = setUp(true);
    const { call, context } = toolCall();
    const end = spans.begin(call);
    forward(call, context);
    end('ok', { reply: { result: {} } });

    expect(sampler.seen[0]).toEqual({ 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'fx__echo' });
    const finished = exporter.getFinishedSpans();
    const request = finished.find((span) => span.name === 'tools/call fx__echo');
    expect(request?.attributes).toEqual({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'fx__echo',
      'gen_ai.operation.name': 'execute_tool',
      'mcp.session.id': 'session-1',
      'jsonrpc.request.id': '7',
      'mcplane.tenant': 'acme',
      'mcplane.principal': 'key:k1',
      'mcplane.face': 'http',
      'network.transport': 'tcp',
      'mcplane.server': 'fx',
      'mcplane.outcome': 'ok',
    });
    const upstream = finished.find((span) => span.name === 'tools/call echo');
    expect(upstream?.parentSpanContext?.spanId).toBe(request?.spanContext().spanId);
    expect(spans.traceOf(call)).toEqual({
      traceId: request?.spanContext().traceId,
      spanId: request?.spanContext().spanId,
    });
    const meta = call.params._meta as Record<string, unknown>;
    expect(meta.traceparent).toBe(
      `00-${upstream?.spanContext().traceId}-${upstream?.spanContext().spanId}-01`,
    );
  });
});
