/**
 * /metrics over a real admin listener, after a known sequence of calls over real Streamable HTTP
 * to the real fixture: every count is exact.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { GuardProfiles } from '../../src/guard/guard-profiles.ts';
import { compilePolicies } from '../../src/guard/policy/load-policies.ts';
import { bindAdmin, type AdminListener } from '../../src/ingress/admin-listener.ts';
import { silentLogger } from '../../src/log.ts';
import { VERSION } from '../../src/version.ts';
import {
  bearer,
  connectHttpClient,
  newApiKey,
  startHttpGateway,
  stopHttpGateways,
  type HttpGateway,
} from '../http/http-harness.ts';
import { fixtureServer, testConfig } from '../support/harness.ts';
import { parseExposition } from './prometheus-text.ts';

const POLICY = `
defaults: { '*': allow }
rules:
  - name: no-env
    effect: deny
    server: fixture
    tool: env
`;

/** An AWS access key id of the right shape (not AWS's documented example): the secrets detector's. */
const CLOUD_KEY = 'AKIA' + 'Q3EGRQZ2XKFMBN7W';

const admins: AdminListener[] = [];

afterEach(async () => {
  await Promise.all(admins.splice(0).map((admin) => admin.close()));
  expect(await stopHttpGateways()).toEqual([]);
});

async function scrape(admin: AdminListener): Promise<{ response: Response; text: string }> {
  const response = await fetch(`${admin.origin}/metrics`);
  return { response, text: await response.text() };
}

async function startWithAdmin(
  input: Record<string, unknown>,
  withPolicy = false,
): Promise<{ http: HttpGateway; admin: AdminListener }> {
  const http = await startHttpGateway(input, {
    ...(withPolicy
      ? {
          guarding: {
            policies: compilePolicies([{ file: 'test.yaml', text: POLICY }]),
            profiles: new GuardProfiles(testConfig(input).gateway.guards),
          },
        }
      : {}),
  });
  const admin = await bindAdmin({ host: '127.0.0.1', port: 0 }, silentLogger());
  admins.push(admin);
  admin.attach(http.gateway.metrics);
  return { http, admin };
}

describe('/metrics on the admin listener', () => {
  it('counts a known sequence of calls exactly: requests by tenant, server, method, tool and outcome, durations, denials, findings, sessions, pools', async () => {
    const acme = newApiKey();
    const globex = newApiKey();
    const input = {
      servers: { fixture: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 8 } }) },
      tenants: {
        acme: { name: 'Acme', apiKeys: [acme.entry] },
        globex: { name: 'Globex', apiKeys: [globex.entry] },
      },
    };
    const { http, admin } = await startWithAdmin(input, true);
    const a: Client = (await connectHttpClient(http, bearer(acme.key))).client;
    const g: Client = (await connectHttpClient(http, bearer(globex.key))).client;

    await a.listTools();
    await a.callTool({ name: 'fixture__echo', arguments: { text: 'one' } });
    await a.callTool({ name: 'fixture__echo', arguments: { text: 'two' } });
    await a.callTool({ name: 'fixture__echo', arguments: { text: `key ${CLOUD_KEY}` } });
    await expect(a.callTool({ name: 'fixture__env', arguments: { names: ['PATH'] } })).rejects.toThrow(
      /Unknown tool/,
    );
    await expect(a.callTool({ name: 'fixture__no_such_tool', arguments: {} })).rejects.toThrow(
      /Unknown tool/,
    );
    expect((await a.callTool({ name: 'fixture__slow', arguments: {} })).isError).toBe(true);
    await expect(a.getPrompt({ name: 'fixture__greet', arguments: {} })).rejects.toThrow(
      /Missing required argument/,
    );
    await g.callTool({ name: 'fixture__echo', arguments: { text: 'hello' } });

    const { response, text } = await scrape(admin);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const m = parseExposition(text);
    const requests = (labels: Record<string, string>): number | undefined =>
      m.value('mcplane_mcp_requests_total', labels);
    const call = { server: 'fixture', method: 'tools/call' };
    expect(requests({ tenant: 'acme', server: '', method: 'tools/list', tool: '', outcome: 'ok' })).toBe(1);
    expect(requests({ tenant: 'acme', ...call, tool: 'echo', outcome: 'ok' })).toBe(3);
    // A denied tool looks unknown to the client; to the operator it is the tool, refused.
    expect(requests({ tenant: 'acme', ...call, tool: 'env', outcome: 'UNKNOWN_TOOL' })).toBe(1);
    // A name no server lists never becomes a label value.
    expect(
      requests({ tenant: 'acme', server: '', method: 'tools/call', tool: '', outcome: 'UNKNOWN_TOOL' }),
    ).toBe(1);
    expect(requests({ tenant: 'acme', ...call, tool: 'slow', outcome: 'tool-error' })).toBe(1);
    expect(
      requests({
        tenant: 'acme',
        server: 'fixture',
        method: 'prompts/get',
        tool: '',
        outcome: 'upstream-error',
      }),
    ).toBe(1);
    expect(requests({ tenant: 'globex', ...call, tool: 'echo', outcome: 'ok' })).toBe(1);
    expect(m.series('mcplane_mcp_requests_total').reduce((sum, sample) => sum + sample.value, 0)).toBe(9);
    expect(text).not.toContain('no_such_tool');

    // Durations: every request; upstream only for what reached the server (echo ×3, slow, greet).
    const count = (name: string, labels: Record<string, string>): number | undefined =>
      m.value(`${name}_count`, labels);
    expect(count('mcplane_mcp_request_duration_seconds', { tenant: 'acme', ...call, tool: 'echo' })).toBe(3);
    expect(count('mcplane_mcp_upstream_duration_seconds', { tenant: 'acme', ...call, tool: 'echo' })).toBe(3);
    expect(
      count('mcplane_mcp_upstream_duration_seconds', { tenant: 'acme', ...call, tool: 'env' }),
    ).toBeUndefined();
    expect(count('mcplane_pool_wait_seconds', { tenant: 'acme', server: 'fixture' })).toBe(5);
    expect(count('mcplane_pool_wait_seconds', { tenant: 'globex', server: 'fixture' })).toBe(1);
    expect(count('mcplane_mcp_gateway_overhead_seconds', { server: 'fixture', method: 'tools/call' })).toBe(
      6,
    );
    const sum = (name: string, labels: Record<string, string>): number =>
      m.value(`${name}_sum`, labels) ?? NaN;
    const echo = { tenant: 'acme', ...call, tool: 'echo' };
    expect(sum('mcplane_mcp_upstream_duration_seconds', echo)).toBeLessThanOrEqual(
      sum('mcplane_mcp_request_duration_seconds', echo),
    );

    expect(
      m.value('mcplane_policy_denials_total', {
        tenant: 'acme',
        server: 'fixture',
        rule: 'no-env',
        mode: 'enforce',
      }),
    ).toBe(1);
    expect(m.series('mcplane_policy_denials_total')).toHaveLength(1);
    expect(
      m.value('mcplane_guard_findings_total', {
        tenant: 'acme',
        server: 'fixture',
        detector: 'secrets',
        action: 'redact',
      }),
    ).toBe(1);

    expect(m.value('mcplane_sessions_open', { face: 'streamable-http', tenant: 'acme' })).toBe(1);
    expect(m.value('mcplane_sessions_open', { face: 'streamable-http', tenant: 'globex' })).toBe(1);
    expect(m.value('mcplane_pool_processes', { server: 'fixture', tenant: '', state: 'ready' })).toBe(1);
    expect(m.value('mcplane_pool_processes', { server: 'fixture', tenant: '', state: 'starting' })).toBe(0);
    expect(m.value('mcplane_pool_inflight', { server: 'fixture', tenant: '' })).toBe(0);
    expect(m.value('mcplane_pool_queue_depth', { server: 'fixture', tenant: '' })).toBe(0);
    expect(m.value('mcplane_pool_queue_capacity', { server: 'fixture', tenant: '' })).toBe(256);
    expect(m.value('mcplane_pool_spawns_total', { server: 'fixture' })).toBe(1);
    expect(m.value('mcplane_pool_exits_total', { server: 'fixture', reason: 'crashed' })).toBe(0);
    expect(m.value('mcplane_pool_restarts_total', { server: 'fixture' })).toBe(0);
    expect(m.value('mcplane_unattributable_messages_total', { server: 'fixture' })).toBe(0);
    expect(m.value('mcplane_audit_backlog_records')).toBe(0);
    expect(m.series('mcplane_build_info')).toEqual([
      { name: 'mcplane_build_info', labels: { version: VERSION }, value: 1 },
    ]);
  });

  it('a process that crashes is counted as an exit and a restart, and its replacement as a spawn', async () => {
    const { http, admin } = await startWithAdmin({
      servers: { fixture: fixtureServer({ pool: { min: 1, max: 1 } }) },
      gateway: { auth: { anonymous: { tenant: 'acme' } } },
    });
    const { client } = await connectHttpClient(http, {});
    await expect(client.callTool({ name: 'fixture__crash', arguments: {} })).rejects.toThrow(/exited/);
    await client.callTool({ name: 'fixture__echo', arguments: {} });
    const m = parseExposition((await scrape(admin)).text);
    expect(m.value('mcplane_pool_exits_total', { server: 'fixture', reason: 'crashed' })).toBe(1);
    expect(m.value('mcplane_pool_restarts_total', { server: 'fixture' })).toBe(1);
    expect(m.value('mcplane_pool_spawns_total', { server: 'fixture' })).toBe(2);
    expect(
      m.value('mcplane_mcp_requests_total', {
        tenant: 'acme',
        server: 'fixture',
        method: 'tools/call',
        tool: 'crash',
        outcome: 'UPSTREAM_EXITED',
      }),
    ).toBe(1);
  });

  it('the admin listener serves only GET /metrics, and the MCP port does not serve it at all', async () => {
    const { http, admin } = await startWithAdmin({
      servers: { fixture: fixtureServer() },
      gateway: { auth: { anonymous: { tenant: 'acme' } } },
    });
    expect((await fetch(`${admin.origin}/`)).status).toBe(404);
    expect((await fetch(`${admin.origin}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${admin.origin}/metrics`, { headers: { host: 'evil.example' } })).status).toBe(200);
    const onMcpPort = await fetch(`${http.origin}/metrics`);
    expect(onMcpPort.status).toBe(404);
    expect(await onMcpPort.text()).not.toContain('mcplane_');
  });

  it('with gateway.metrics.enabled false nothing is counted and /metrics says so', async () => {
    const { http, admin } = await startWithAdmin({
      servers: { fixture: fixtureServer() },
      gateway: { auth: { anonymous: { tenant: 'acme' } }, metrics: { enabled: false } },
    });
    expect(http.gateway.metrics).toBeUndefined();
    const { response, text } = await scrape(admin);
    expect(response.status).toBe(404);
    expect(text).toMatch(/gateway\.metrics\.enabled: false/);
  });
});
