/**
 * The structured log with the gateway's real logger settings (its redact paths), captured in
 * memory: one line per call with the fields an operator searches by, and no canary secret from
 * the credential, the arguments, the child's environment or an object logged whole by mistake.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSchema } from '../../src/audit/audit-schema.ts';
import { openAuditLog } from '../../src/audit/open-audit-log.ts';
import { createLogger, silentLogger, type Logger } from '../../src/log.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
} from '../http/http-harness.ts';
import { eventually, fixtureServer } from '../support/harness.ts';

afterEach(async () => {
  expect(await stopHttpGateways()).toEqual([]);
});

type Line = Record<string, unknown> & { msg?: string; level: number };

/** The gateway's own logger (createLogger: its level, name and redact paths), into memory. */
function gatewayLog(level = 'info'): { log: Logger; lines(): Line[]; text(): string } {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return {
    log: createLogger({ level, destination }),
    text: () => chunks.join(''),
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Line),
  };
}

const ARG_CANARY = 'arg-canary-c0ffee-91b2';
const ENV_CANARY = 'env-canary-7d3e-41aa';
const TRACE_ID = 'a3ce929d0e0e47364bf92f3577b34da6';

describe('the call log', () => {
  it('writes one line per call with request id, trace id, tenant, principal, server, tool, outcome and latency, and no canary secret', async () => {
    const captured = gatewayLog();
    const acme = newApiKey();
    const http = await startHttpGateway(
      {
        servers: { fixture: fixtureServer({ env: { UPSTREAM_TOKEN: ENV_CANARY } }) },
        tenants: { acme: { name: 'Acme', apiKeys: [acme.entry] } },
      },
      { log: captured.log },
    );
    const { client } = await connectHttpClient(http, {
      ...bearer(acme.key),
      traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
    });
    await client.callTool({ name: 'fixture__echo', arguments: { text: ARG_CANARY } });
    await expect(
      client.callTool({ name: 'fixture__nope', arguments: { text: ARG_CANARY } }),
    ).rejects.toThrow();
    await client.callTool({ name: 'fixture__stderr', arguments: { line: `token is ${ENV_CANARY}` } });
    await eventually(() =>
      captured.lines().some((line) => line.stream === 'stderr' && /token is/.test(String(line.msg))),
    );
    // A mistake the redact paths catch: an object with a credential logged whole.
    http.gateway.log.warn(
      { headers: { authorization: `Bearer ${acme.key}` }, env: { UPSTREAM_TOKEN: ENV_CANARY } },
      'oops',
    );

    const calls = captured.lines().filter((line) => line.msg === 'call');
    expect(calls).toHaveLength(3);
    expect(calls[0]).toEqual({
      level: 30,
      time: expect.any(Number) as unknown,
      pid: process.pid,
      hostname: expect.any(String) as unknown,
      name: 'mcplane',
      msg: 'call',
      requestId: expect.any(Number) as unknown,
      traceId: TRACE_ID,
      session: expect.any(String) as unknown,
      tenant: 'acme',
      principal: `key:${acme.id}`,
      face: 'streamable-http',
      method: 'tools/call',
      server: 'fixture',
      tool: 'echo',
      outcome: 'ok',
      latencyMs: expect.any(Number) as unknown,
      upstreamMs: expect.any(Number) as unknown,
      poolWaitMs: expect.any(Number) as unknown,
    });
    expect(calls[0]?.upstreamMs as number).toBeLessThanOrEqual(calls[0]?.latencyMs as number);
    // An unknown tool: no server, no tool name (it is client input), the outcome says why.
    expect(calls[1]).toMatchObject({ method: 'tools/call', outcome: 'UNKNOWN_TOOL', traceId: TRACE_ID });
    expect(calls[1]).not.toHaveProperty('tool');
    expect(calls[1]).not.toHaveProperty('server');

    // Child stderr stays labelled with its server and process, its secret redacted.
    const stderr = captured
      .lines()
      .find((line) => line.stream === 'stderr' && /token is/.test(String(line.msg)));
    expect(stderr).toMatchObject({
      server: 'fixture',
      pid: http.gateway.pids()[0],
      msg: 'token is [redacted]',
    });
    expect(captured.lines().find((line) => line.msg === 'oops')).toMatchObject({
      headers: { authorization: '[redacted]' },
      env: '[redacted]',
    });

    const text = captured.text();
    expect(text).not.toContain(acme.key);
    expect(text).not.toContain(ARG_CANARY);
    expect(text).not.toContain(ENV_CANARY);
  });

  it("a secret the child found itself and printed to stderr is caught by the guard's secrets detector", async () => {
    const captured = gatewayLog();
    const http = await startHttpGateway(
      { servers: { fixture: fixtureServer() }, gateway: { auth: { anonymous: { tenant: 'acme' } } } },
      { log: captured.log },
    );
    const { client } = await connectHttpClient(http, {});
    const token = `ghp_${'a1B2c3D4e5'.repeat(3)}Zz9Yy8`;
    await client.callTool({
      name: 'fixture__stderr',
      arguments: { line: `using token ${token} for the API` },
    });
    await eventually(() =>
      captured.lines().some((line) => line.stream === 'stderr' && /using token/.test(String(line.msg))),
    );
    const line = captured
      .lines()
      .find((entry) => entry.stream === 'stderr' && /using token/.test(String(entry.msg)));
    expect(line?.msg).toBe('using token [redacted:github-token] for the API');
    expect(captured.text()).not.toContain(token);
  });

  it('gateway.logs.calls: debug writes call lines at debug, and off writes none', async () => {
    for (const [setting, expected] of [
      ['debug', 20],
      ['off', undefined],
    ] as const) {
      const captured = gatewayLog('debug');
      const http = await startHttpGateway(
        {
          servers: { fixture: fixtureServer() },
          gateway: { auth: { anonymous: { tenant: 'acme' } }, logs: { calls: setting } },
        },
        { log: captured.log },
      );
      const { client } = await connectHttpClient(http, {});
      await client.callTool({ name: 'fixture__echo', arguments: {} });
      const calls = captured.lines().filter((line) => line.msg === 'call');
      expect(calls.map((line) => line.level)).toEqual(expected === undefined ? [] : [expected]);
      expect(await stopHttpGateways()).toEqual([]);
    }
  });

  it("the audit record of a call carries the trace id of the client's traceparent", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-audit-'));
    const audit = await openAuditLog(AuditSchema.parse({ enabled: true, dir, sync: false, flushMs: 10 }), {
      env: {},
      log: silentLogger(),
    });
    const http = await startHttpGateway(
      { servers: { fixture: fixtureServer() }, gateway: { auth: { anonymous: { tenant: 'acme' } } } },
      { audit },
    );
    const { client } = await connectHttpClient(http, { traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01` });
    await client.callTool({ name: 'fixture__echo', arguments: {} });
    expect(await stopHttpGateways()).toEqual([]);
    const records = readdirSync(dir)
      .filter((file) => file.endsWith('.jsonl'))
      .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.find((record) => record.kind === 'tool-call')).toMatchObject({
      tool: 'fixture__echo',
      traceId: TRACE_ID,
      upstreamMs: expect.any(Number) as unknown,
    });
  });
});
