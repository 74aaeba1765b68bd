/**
 * `mcplane serve` as a real process, configured the way an operator would: OTEL_* variables that
 * point at an OTLP/HTTP receiver the test runs, and `gateway.admin.listen`. One call from a
 * client with a traceparent is then visible three ways: as spans the receiver decodes (protobuf,
 * the exporter's default, and JSON), on /metrics, and as the call's log line on stderr.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURE, eventually, textJson } from '../support/harness.ts';
import { killServes, startServe, writeServeConfig } from '../support/serve-cli.ts';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.ts';
import { parseExposition } from './prometheus-text.ts';

const receivers: OtlpReceiver[] = [];

afterEach(async () => {
  killServes();
  await Promise.all(receivers.splice(0).map((receiver) => receiver.close()));
});

const CONFIG = `gateway:
  auth: { anonymous: { tenant: local } }
  admin: { listen: '127.0.0.1:0' }
  store: { url: 'sqlite::memory:' }
servers:
  fixture:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(FIXTURE)}]
    pool: { min: 1, max: 1 }
    timeouts: { startup: 10s, call: 10s, shutdown: 500ms }
tenants:
  local: { name: Local }
`;

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const CLIENT_SPAN = 'eee19b7ec3c1b174';

type LogLine = Record<string, unknown>;

function logLines(stderr: string): LogLine[] {
  return stderr
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const PROTOCOLS = [
  { name: 'http/protobuf (the default)', env: {}, contentType: 'application/x-protobuf' },
  { name: 'http/json', env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }, contentType: 'application/json' },
];

describe('mcplane serve with OTEL_* set and an admin listener', () => {
  for (const protocol of PROTOCOLS) {
    it(`exports the call's gateway and upstream spans over OTLP ${protocol.name}, counts it on /metrics and logs one line for it`, async () => {
      const receiver = await startOtlpReceiver();
      receivers.push(receiver);
      const serve = await startServe(writeServeConfig(CONFIG), [], {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
        OTEL_SERVICE_NAME: 'mcplane-under-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        ...protocol.env,
      });
      const transport = new StreamableHTTPClientTransport(serve.url, {
        requestInit: { headers: { traceparent: `00-${TRACE_ID}-${CLIENT_SPAN}-01` } },
      });
      const client = new Client({ name: 'otlp-test', version: '1.0.0' });
      await client.connect(transport);
      const result = await client.callTool({ name: 'fixture__echo', arguments: { text: 'traced' } });
      const childSaw = String(textJson<{ meta: { traceparent?: string } }>(result).meta.traceparent);
      await client.close();

      // The metrics, on the admin listener the log names.
      await eventually(() => logLines(serve.stderr()).some((line) => line.msg === 'admin listener: metrics'));
      const adminLine = logLines(serve.stderr()).find((line) => line.msg === 'admin listener: metrics');
      const metrics = parseExposition(await (await fetch(String(adminLine?.url))).text());
      expect(
        metrics.value('mcplane_mcp_requests_total', {
          tenant: 'local',
          server: 'fixture',
          method: 'tools/call',
          tool: 'echo',
          outcome: 'ok',
        }),
      ).toBe(1);
      expect(metrics.types.get('mcplane_process_resident_memory_bytes')).toBe('gauge');

      // The spans, exported within the batch delay.
      await eventually(() => receiver.spans.some((span) => span.name === 'tools/call echo'));
      const trace = receiver.spans.filter((span) => span.traceId === TRACE_ID);
      const request = trace.find((span) => span.name === 'tools/call fixture__echo');
      const upstream = trace.find((span) => span.name === 'tools/call echo');
      expect(request).toMatchObject({ kind: 2, parentSpanId: CLIENT_SPAN });
      expect(request?.attributes).toMatchObject({
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'fixture__echo',
        'mcplane.tenant': 'local',
        'mcplane.server': 'fixture',
      });
      expect(request?.resource['service.name']).toBe('mcplane-under-test');
      expect(upstream).toMatchObject({ kind: 3, parentSpanId: request?.spanId });
      expect(childSaw).toBe(`00-${TRACE_ID}-${upstream?.spanId}-01`);
      expect(receiver.contentTypes.every((type) => type.startsWith(protocol.contentType))).toBe(true);

      // The call's log line, with the trace it belongs to.
      await eventually(() => logLines(serve.stderr()).some((line) => line.msg === 'call'));
      const calls = logLines(serve.stderr()).filter((line) => line.msg === 'call');
      expect(calls).toHaveLength(1);
      expect(calls[0]).toMatchObject({
        level: 30,
        requestId: expect.any(Number) as unknown,
        traceId: TRACE_ID,
        spanId: request?.spanId,
        tenant: 'local',
        principal: 'anonymous',
        server: 'fixture',
        tool: 'echo',
        method: 'tools/call',
        outcome: 'ok',
        latencyMs: expect.any(Number) as unknown,
        upstreamMs: expect.any(Number) as unknown,
      });

      serve.child.kill('SIGTERM');
      expect(await serve.exited).toBe(0);
    });
  }

  it('without OTEL_* variables it exports nothing and says nothing of tracing', async () => {
    const receiver = await startOtlpReceiver();
    receivers.push(receiver);
    const serve = await startServe(writeServeConfig(CONFIG), [], {
      OTEL_SERVICE_NAME: 'set-but-no-endpoint',
    });
    const client = new Client({ name: 'otlp-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(serve.url));
    await client.callTool({ name: 'fixture__echo', arguments: {} });
    await client.close();
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);
    expect(receiver.contentTypes).toEqual([]);
    expect(serve.stderr()).not.toMatch(/tracing/);
  });
});
