/**
 * Anomaly detection through the real pipeline: the real gateway over real fixture processes, a
 * client on the in-process stdio face, the audit log in a temp dir, and a stepped clock for the
 * call rate. A scripted history is followed by an outlier.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSchema } from '../../../src/audit/audit-schema.ts';
import { openAuditLog } from '../../../src/audit/open-audit-log.ts';
import { createGateway, type Gateway } from '../../../src/gateway.ts';
import { AnomalyDetection } from '../../../src/guard/anomaly/anomaly-detection.ts';
import { AnomalySchema } from '../../../src/guard/anomaly/anomaly-schema.ts';
import { GuardProfiles } from '../../../src/guard/guard-profiles.ts';
import { compilePolicies } from '../../../src/guard/policy/load-policies.ts';
import { silentLogger } from '../../../src/log.ts';
import { openStore } from '../../../src/store/open-store.ts';
import type { Store } from '../../../src/store/store.ts';
import { connectClient, fixtureServer, isRunning, testConfig, eventually } from '../../support/harness.ts';
import { steppedClock } from './history.ts';

const INPUT = {
  servers: { fx: fixtureServer({ pool: { min: 1, max: 1, maxInflight: 64 }, trust: 'auto' }) },
  gateway: { auth: { anonymous: { tenant: 'acme' } } },
};
const WARMUP = 20;

const POLICY = `
defaults: { '*': allow }
rules:
  - name: no-unusual-deletes
    effect: deny
    server: fx
    tool: delete_file
    when: anomaly.score >= 0.8
    reason: an unusual delete needs a human
`;

type Audited = Record<string, unknown> & { tool?: string; findings?: Record<string, unknown>[] };

const gateways: Gateway[] = [];
const stores: Store[] = [];
const pids: number[] = [];

afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
  await Promise.all(stores.splice(0).map((store) => store.close()));
  await eventually(() => pids.every((pid) => !isRunning(pid)));
  pids.length = 0;
});

async function start(options: { dir: string; clock: { now: () => number }; store?: Store; policy?: string }) {
  const config = testConfig(INPUT);
  const audit = await openAuditLog(
    AuditSchema.parse({ enabled: true, dir: options.dir, sync: false, flushMs: 10 }),
    { env: {}, log: silentLogger() },
  );
  const anomaly = new AnomalyDetection(AnomalySchema.parse({ warmup: WARMUP }), { now: options.clock.now });
  const gateway = await createGateway(config, {
    log: silentLogger(),
    audit,
    anomaly,
    guarding: {
      policies: compilePolicies(
        options.policy === undefined ? [] : [{ file: 'p.yaml', text: options.policy }],
      ),
      profiles: new GuardProfiles(config.gateway.guards),
    },
    ...(options.store === undefined ? {} : { store: options.store }),
  });
  gateways.push(gateway);
  pids.push(...gateway.pids());
  const { client } = await connectClient(gateway);
  return { gateway, client };
}

function records(dir: string): Audited[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Audited)
    .filter((record) => record.kind === 'tool-call');
}

const anomalyFindings = (record: Audited | undefined) =>
  (record?.findings ?? []).filter((finding) => finding.detector === 'anomaly');

const usual = (n: number) => ({ name: 'fx__echo', arguments: { path: `/data/acme/reports/${n % 7}.txt` } });

/** Six minutes of usual work, five calls a minute: past the warm-up, with a rate baseline. */
async function scriptedHistory(client: Client, clock: { advance(ms: number): void }): Promise<void> {
  for (let n = 0; n < 30; n++) {
    await client.callTool(usual(n));
    clock.advance(12_000);
  }
}

describe('anomaly detection in the pipeline', () => {
  it('after a scripted history the outlier is flagged and audited, and the same usual calls are not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-anomaly-'));
    const clock = steppedClock();
    const { gateway, client } = await start({ dir, clock });
    await scriptedHistory(client, clock);
    await client.callTool({ name: 'fx__echo', arguments: { path: '/etc/shadow' } });
    clock.advance(12_000);
    for (let n = 0; n < 5; n++) {
      await client.callTool(usual(n));
      clock.advance(12_000);
    }
    expect(gateway.anomalyFlags()).toEqual({
      calls: 1,
      byComponent: { rate: 0, tool: 0, prefix: 1, size: 0 },
    });
    await gateway.close();

    const calls = records(dir);
    expect(calls).toHaveLength(36);
    const outlier = calls[30];
    expect(anomalyFindings(outlier)).toEqual([
      {
        detector: 'anomaly',
        action: 'flag',
        where: 'prefix',
        detail:
          "prefix 1.00 of score 1.00: 1 argument path or URL prefix outside this principal's usual ones",
      },
    ]);
    expect(outlier).toMatchObject({ tool: 'fx__echo', outcome: 'ok' });
    for (const [index, record] of calls.entries()) {
      if (index !== 30) expect(anomalyFindings(record), `call ${index}`).toEqual([]);
    }
    expect(JSON.stringify(calls)).not.toContain('/etc');
  });

  it('a new tool and an oversized argument are flagged by their own component', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-anomaly-'));
    const clock = steppedClock();
    const { gateway, client } = await start({ dir, clock });
    await scriptedHistory(client, clock);
    await client.callTool({ name: 'fx__pid', arguments: {} });
    await client.callTool({
      name: 'fx__echo',
      arguments: { path: '/data/acme/reports/1.txt', text: 'y'.repeat(20_000) },
    });
    await gateway.close();
    const [pid, big] = records(dir).slice(30);
    expect(anomalyFindings(pid).map((finding) => finding.where)).toEqual(['tool']);
    expect(anomalyFindings(big).map((finding) => finding.where)).toEqual(['size']);
  });

  it('a burst far above the usual rate is flagged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-anomaly-'));
    const clock = steppedClock();
    const { gateway, client } = await start({ dir, clock });
    await scriptedHistory(client, clock);
    for (let n = 0; n < 70; n++) {
      await client.callTool(usual(n));
      clock.advance(100);
    }
    expect(gateway.anomalyFlags().calls).toBeGreaterThan(0);
    expect(gateway.anomalyFlags().byComponent).toMatchObject({ tool: 0, prefix: 0, size: 0 });
    await gateway.close();
    const burst = records(dir).slice(30);
    expect(anomalyFindings(burst[0])).toEqual([]);
    expect(anomalyFindings(burst.at(-1)).map((finding) => finding.where)).toEqual(['rate']);
  });

  it('a policy rule on anomaly.score denies the unusual use of a destructive tool, and keeps denying it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-anomaly-'));
    const clock = steppedClock();
    const { gateway, client } = await start({ dir, clock, policy: POLICY });
    await client.callTool({ name: 'fx__add_tool', arguments: { name: 'delete_file' } });
    await eventually(async () =>
      (await client.listTools()).tools.some((tool) => tool.name === 'fx__delete_file'),
    );
    for (let n = 0; n < 30; n++) {
      const tool = n % 3 === 0 ? 'fx__delete_file' : 'fx__echo';
      await client.callTool({ name: tool, arguments: { path: `/data/acme/tmp/${n}.txt` } });
      clock.advance(12_000);
    }
    const unusual = { name: 'fx__delete_file', arguments: { path: '/etc/shadow' } };
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(client.callTool(unusual)).rejects.toThrow(/an unusual delete needs a human/);
    }
    const fine = await client.callTool({
      name: 'fx__delete_file',
      arguments: { path: '/data/acme/tmp/x.txt' },
    });
    expect(JSON.stringify(fine)).toContain('/data/acme/tmp/x.txt');
    await gateway.close();
    const denied = records(dir).filter((record) => record.outcome !== 'ok');
    expect(denied).toHaveLength(3);
    for (const record of denied) {
      expect(record).toMatchObject({ decision: { effect: 'deny', rule: 'no-unusual-deletes' } });
      expect(anomalyFindings(record).map((finding) => finding.where)).toEqual(['prefix']);
    }
  });

  it('baselines survive a restart through the store', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mcplane-anomaly-'));
    const url = `sqlite:${join(dir, 'state', 'mcplane.db')}`;
    const clock = steppedClock();
    const first = await openStore(url);
    stores.push(first);
    const before = await start({ dir: join(dir, 'audit-1'), clock, store: first });
    await scriptedHistory(before.client, clock);
    await before.gateway.close();
    await first.close();

    const second = await openStore(url);
    stores.push(second);
    const saved = await second.baselines.load('acme');
    expect(saved.map((row) => [row.principal, row.baseline.calls])).toEqual([
      ['*', 30],
      ['local', 30],
    ]);
    const after = await start({ dir: join(dir, 'audit-2'), clock, store: second });
    await after.client.callTool(usual(3));
    await after.client.callTool({ name: 'fx__echo', arguments: { path: '/etc/shadow' } });
    expect(after.gateway.anomalyFlags()).toMatchObject({ calls: 1, byComponent: { prefix: 1 } });
    await after.gateway.close();
    const [usualCall, outlier] = records(join(dir, 'audit-2'));
    expect(anomalyFindings(usualCall)).toEqual([]);
    expect(anomalyFindings(outlier).map((finding) => finding.where)).toEqual(['prefix']);
  });
});
