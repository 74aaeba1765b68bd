/**
 * The call pipeline end to end: real fixture processes, the real gateway, over Streamable HTTP
 * and over the in-process stdio face (the same session code `mcplane stdio` runs).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditSchema } from '../../src/audit/audit-schema.ts';
import { openAuditLog } from '../../src/audit/open-audit-log.ts';
import { auditCommand } from '../../src/cli/audit-command.ts';
import { GuardProfiles } from '../../src/guard/guard-profiles.ts';
import { compilePolicies } from '../../src/guard/policy/load-policies.ts';
import { silentLogger } from '../../src/log.ts';
import { connectHttpClient, startHttpGateway, stopHttpGateways } from '../http/http-harness.ts';
import { connectClient, fixtureServer, testConfig } from '../support/harness.ts';
import { createGateway, type Gateway } from '../../src/gateway.ts';

const POLICY = `
defaults: { '*': allow }
rules:
  - name: no-env
    effect: deny
    server: fx
    tool: env
  - name: echo-no-forbidden
    effect: deny
    server: fx
    tool: echo
    when: "args.text == 'forbidden'"
    reason: that text may not be echoed
  - name: pid-trial
    effect: deny
    mode: dry-run
    server: fx
    tool: pid
`;

const INPUT = {
  servers: { fx: fixtureServer() },
  gateway: { auth: { anonymous: { tenant: 'acme' } } },
};

function guarding() {
  return {
    policies: compilePolicies([{ file: 'test.yaml', text: POLICY }]),
    profiles: new GuardProfiles(testConfig(INPUT).gateway.guards),
  };
}

async function auditLog(dir: string) {
  return openAuditLog(AuditSchema.parse({ enabled: true, dir, sync: false, flushMs: 10 }), {
    env: {},
    log: silentLogger(),
  });
}

type Face = { name: string; connect(audit: string): Promise<Client> };

const gateways: Gateway[] = [];
const FACES: Face[] = [
  {
    name: 'Streamable HTTP',
    async connect(dir) {
      const http = await startHttpGateway(INPUT, { guarding: guarding(), audit: await auditLog(dir) });
      return (await connectHttpClient(http, {})).client;
    },
  },
  {
    name: 'stdio',
    async connect(dir) {
      const gateway = await createGateway(testConfig(INPUT), {
        log: silentLogger(),
        guarding: guarding(),
        audit: await auditLog(dir),
      });
      gateways.push(gateway);
      return (await connectClient(gateway)).client;
    },
  },
];

function records(dir: string): Record<string, unknown>[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.jsonl'))
    .flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

async function closeAll(): Promise<void> {
  await stopHttpGateways();
  await Promise.all(gateways.splice(0).map((gateway) => gateway.close()));
}

for (const face of FACES) {
  describe(`the pipeline over ${face.name}`, () => {
    afterEach(closeAll);

    it('a denied tool is absent from tools/list, and calling it cannot be told from calling an unknown tool', async () => {
      const client = await face.connect(mkdtempSync(join(tmpdir(), 'mcplane-audit-')));
      const names = (await client.listTools()).tools.map((tool) => tool.name);
      expect(names).toContain('fx__echo');
      expect(names).not.toContain('fx__env');
      const denied = await client
        .callTool({ name: 'fx__env', arguments: { names: ['PATH'] } })
        .catch((e: unknown) => e);
      const unknown = await client.callTool({ name: 'fx__nosuch', arguments: {} }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(Error);
      expect(JSON.stringify(denied).replace('fx__env', 'X')).toBe(
        JSON.stringify(unknown).replace('fx__nosuch', 'X'),
      );
      expect(String(denied)).toBe(String(unknown).replace('fx__nosuch', 'fx__env'));
    });

    it('a rule with a reason refuses that call with the reason; others to the same tool pass', async () => {
      const client = await face.connect(mkdtempSync(join(tmpdir(), 'mcplane-audit-')));
      await expect(client.callTool({ name: 'fx__echo', arguments: { text: 'forbidden' } })).rejects.toThrow(
        /that text may not be echoed/,
      );
      const fine = await client.callTool({ name: 'fx__echo', arguments: { text: 'fine' } });
      expect(JSON.stringify(fine)).toContain('fine');
    });

    it('dry-run lets the call through and the audit log records that it would have been denied', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-audit-'));
      const client = await face.connect(dir);
      const result = await client.callTool({ name: 'fx__pid', arguments: {} });
      expect(JSON.stringify(result)).toContain('pid');
      await client.callTool({ name: 'fx__env', arguments: { names: [] } }).catch(() => undefined);
      await closeAll();
      const calls = records(dir).filter((record) => record.kind === 'tool-call');
      const pid = calls.find((record) => record.tool === 'fx__pid');
      expect(pid).toMatchObject({
        outcome: 'ok',
        decision: { mode: 'dry-run', wouldDeny: true, rule: 'pid-trial' },
      });
      const env = calls.find((record) => record.tool === 'fx__env');
      expect(env).toMatchObject({ decision: { effect: 'deny', rule: 'no-env', mode: 'enforce' } });
      const lines: string[] = [];
      const code = await auditCommand(['verify', dir], {
        stdout: (t) => lines.push(t),
        stderr: (t) => lines.push(t),
        env: {},
      });
      expect([code, lines.join('')]).toEqual([0, expect.any(String)]);
    });

    it('the output guard redacts a cloud key in a tool result and records the finding', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mcplane-audit-'));
      const client = await face.connect(dir);
      const leaked = 'AKIA2E3A7F3B2Z4CQ6RT';
      const result = await client.callTool({ name: 'fx__echo', arguments: { text: `key ${leaked}` } });
      expect(JSON.stringify(result)).not.toContain(leaked);
      expect(JSON.stringify(result)).toContain('[redacted:');
      await closeAll();
      const echo = records(dir).find((record) => record.tool === 'fx__echo');
      expect(JSON.stringify(echo?.findings)).toContain('secrets');
      expect(JSON.stringify(records(dir))).not.toContain(leaked);
    });
  });
}
