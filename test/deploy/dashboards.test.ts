/**
 * The shipped Grafana dashboard (deploy/grafana/mcplane.json) and Prometheus alert rules
 * (deploy/prometheus/alerts.yaml): both parse, are well formed, and refer only to metrics that a
 * running gateway exports (it is scraped here, over its admin listener). Where promtool is
 * installed (Debian: `apt-get install prometheus`) the rules and every dashboard query are also
 * parsed as PromQL by Prometheus' own code, the rules' unit tests run, and the exposition passes
 * promtool's metric lint; elsewhere those tests are reported as skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { bindAdmin, type AdminListener } from '../../src/ingress/admin-listener.ts';
import { silentLogger } from '../../src/log.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { fixtureServer } from '../support/harness.ts';
import { parseExposition } from '../telemetry/prometheus-text.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(ROOT, 'deploy/grafana/mcplane.json');
const ALERTS = join(ROOT, 'deploy/prometheus/alerts.yaml');
const ALERT_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yaml');

type Target = { refId: string; expr: string; datasource?: { uid?: string } };
type Panel = {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
};
type Dashboard = { uid: string; title: string; panels: Panel[]; templating: { list: { name: string }[] } };
type Rule = {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
};
type RuleFile = { groups: { name: string; rules: Rule[] }[] };

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const rules = (parseYaml(readFileSync(ALERTS, 'utf8')) as RuleFile).groups.flatMap((group) => group.rules);
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel, target })),
);

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

/** Every `mcplane_…` name a PromQL expression refers to. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\bmcplane_[a-zA-Z0-9_]*[a-zA-Z0-9]\b/g)].map((match) => match[0]);
}

/** Brackets and quotes balance: a cheap check that holds without promtool too. */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  let quote: string | undefined;
  for (let index = 0; index < expr.length; index++) {
    const char = expr[index] as string;
    if (quote) {
      if (char === '\\') index++;
      else if (char === quote) quote = undefined;
      continue;
    }
    if (char === '"' || char === "'") quote = char;
    else if ('([{'.includes(char)) stack.push(char);
    else if (char in pairs && stack.pop() !== pairs[char]) return false;
  }
  return stack.length === 0 && quote === undefined;
}

/** A dashboard query with Grafana's variables replaced, as Grafana would send it with "All" chosen. */
function asPromql(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5m').replaceAll('$tenant', '.*').replaceAll('$server', '.*');
}

let admin: AdminListener;
let exported: Set<string>;
let exposition: string;

beforeAll(async () => {
  const http = await startHttpGateway({
    servers: { fixture: fixtureServer() },
    gateway: { auth: { anonymous: { tenant: 'acme' } } },
  });
  http.gateway.metrics?.addProcessMetrics();
  admin = await bindAdmin({ host: '127.0.0.1', port: 0 }, silentLogger());
  admin.attach(http.gateway.metrics);
  const { client } = await connectHttpClient(http, {});
  await client.callTool({ name: 'fixture__echo', arguments: {} });
  exposition = await (await fetch(`${admin.origin}/metrics`)).text();
  const { types } = parseExposition(exposition);
  exported = new Set(
    [...types].flatMap(([name, type]) =>
      type === 'histogram'
        ? [name, `${name}_bucket`, `${name}_sum`, `${name}_count`]
        : type === 'summary'
          ? [name, `${name}_sum`, `${name}_count`]
          : [name],
    ),
  );
});

afterAll(async () => {
  await admin.close();
  expect(await stopHttpGateways()).toEqual([]);
});

describe('the Prometheus alert rules', () => {
  it('refer only to metrics a running gateway exports', () => {
    const used = new Set(rules.flatMap((rule) => metricNames(rule.expr)));
    expect(used.size).toBeGreaterThan(5);
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('cover the error rate, an open breaker, a quota at 80% and queue saturation, each with a severity and a summary', () => {
    const byName = new Map(rules.map((rule) => [rule.alert, rule]));
    expect(byName.size).toBe(rules.length);
    for (const rule of rules) {
      expect(balanced(rule.expr), rule.alert).toBe(true);
      expect(['info', 'warning', 'critical'], rule.alert).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, rule.alert).toEqual(expect.any(String));
    }
    expect(byName.get('McplaneHighErrorRate')?.expr).toMatch(
      /mcplane_mcp_requests_total\{outcome!~"ok\|tool-error\|cancelled"\}/,
    );
    expect(byName.get('McplaneCircuitBreakerOpen')?.expr).toMatch(/mcplane_circuit_breaker_state\) == 2/);
    expect(byName.get('McplaneQuotaAt80Percent')?.expr).toMatch(/mcplane_quota_usage_ratio\) >= 0\.8/);
    expect(byName.get('McplanePoolQueueSaturated')?.expr).toMatch(
      /mcplane_pool_queue_depth\)\s*\/\s*sum by \(server, tenant\) \(mcplane_pool_queue_capacity\)\s*> 0\.8/,
    );
  });

  it.skipIf(!promtool)(
    'parse as PromQL and pass their unit tests (promtool check rules, promtool test rules)',
    () => {
      expect(execFileSync('promtool', ['check', 'rules', ALERTS], { encoding: 'utf8' })).toMatch(
        /SUCCESS: \d+ rules found/,
      );
      const test = spawnSync('promtool', ['test', 'rules', ALERT_TESTS], { encoding: 'utf8' });
      expect(test.stdout + test.stderr).toMatch(/SUCCESS/);
      expect(test.status).toBe(0);
    },
  );
});

describe('the Grafana dashboard', () => {
  it('refers only to metrics a running gateway exports, and uses every panel kind of metric family', () => {
    const used = new Set(queries.flatMap(({ target }) => metricNames(target.expr)));
    expect([...used].filter((name) => !exported.has(name))).toEqual([]);
    for (const family of [
      'mcplane_mcp_',
      'mcplane_pool_',
      'mcplane_sessions_',
      'mcplane_policy_',
      'mcplane_guard_',
      'mcplane_audit_',
    ]) {
      expect(
        [...used].some((name) => name.startsWith(family)),
        family,
      ).toBe(true);
    }
  });

  it('is well formed: unique panel ids on a 24-column grid, every query on the chosen data source, every variable defined', () => {
    expect(dashboard.uid).toBe('mcplane-gateway');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    const variables = new Set(dashboard.templating.list.map((variable) => variable.name));
    expect(variables).toEqual(new Set(['datasource', 'tenant', 'server']));
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource?.uid, panel.title).toBe('${datasource}');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
    }
    for (const { panel, target } of queries) {
      expect(balanced(target.expr), `${panel.title}: ${target.expr}`).toBe(true);
      const referenced = [...target.expr.matchAll(/\$(\w+)/g)].map((match) => match[1] as string);
      const unknown = referenced.filter((name) => !name.startsWith('__') && !variables.has(name));
      expect(unknown, panel.title).toEqual([]);
    }
  });

  it.skipIf(!promtool)(
    'every query parses as PromQL (as recording rules, through promtool check rules)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-dashboard-'));
      const file = join(dir, 'queries.yaml');
      const recorded = queries.map(({ target }, index) => ({
        record: `dashboard:query_${index}`,
        expr: asPromql(target.expr),
      }));
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: recorded }] }));
      const check = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(check.stdout + check.stderr).toMatch(new RegExp(`SUCCESS: ${recorded.length} rules found`));
    },
  );
});

describe("the gateway's exposition", () => {
  it.skipIf(!promtool)("passes promtool's metric lint, but for prom-client's own Node.js gauges", () => {
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
    const problems = (lint.stdout + lint.stderr)
      .split('\n')
      .filter((line) => line.trim() !== '')
      .filter((line) => !/^mcplane_nodejs_active_(handles|requests|resources)_total /.test(line));
    expect(problems).toEqual([]);
  });
});
