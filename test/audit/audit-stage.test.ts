import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { AuditRecorder } from '../../src/audit/audit-recorder.ts';
import { auditStage } from '../../src/audit/audit-stage.ts';
import { GatewayError } from '../../src/errors.ts';
import {
  composePipeline,
  newCall,
  refusal,
  type Call,
  type Next,
  type Reply,
  type Stage,
} from '../../src/guard/pipeline.ts';
import type { Principal } from '../../src/identity/principal.ts';
import { canonicalHash } from '../../src/jsonrpc/canonical-json.ts';
import { silentLogger } from '../../src/log.ts';
import { signingKey } from './audit-fixture.ts';
import { MemorySink } from './memory-sink.ts';

const principal: Principal = { tenantId: 'acme', subject: 'key:k1', scopes: ['*'], via: 'api-key' };
const session = { key: 'session-1', principal, face: 'streamable-http' as const };

function call(method: string, params: Record<string, unknown>, id = 1): Call {
  return newCall({ id, method, params, session, signal: new AbortController().signal });
}

/** Stands in for route: it names the target and notes what authorize and the guards decided. */
const route: Stage = {
  name: 'route',
  async handle(current, next) {
    current.target = { server: 'echo', tool: 'say' };
    current.notes.decision = { effect: 'allow', rule: 'allow-echo', mode: 'enforce' };
    current.notes.findings.push({ detector: 'hidden-characters', action: 'flag', where: 'args.text' });
    return next(current);
  },
};

async function harness(terminal: Next, stages: Stage[] = [route]) {
  const sink = new MemorySink();
  const log = await AuditLog.open({ sink, key: signingKey(), log: silentLogger() });
  const recorder = new AuditRecorder(log, { log: silentLogger() });
  const pipeline = composePipeline(
    [auditStage(recorder, { context: () => ({ project: 'alpha', traceId: 'trace-1' }) }), ...stages],
    terminal,
  );
  const events = async () => {
    await log.flush();
    return sink.records.filter((record) => record.kind !== 'checkpoint');
  };
  return { pipeline, recorder, log, sink, events };
}

const ok: Next = async () => ({ result: { content: [{ type: 'text', text: 'hi' }] } });
const callSay = () => call('tools/call', { name: 'echo__say', arguments: { text: 'hello' } });

describe('the audit stage', () => {
  it('records a call that went through: who, what, the decision, the findings and ok', async () => {
    const { pipeline, events, log } = await harness(ok);
    const reply = await pipeline(callSay());
    expect(reply).toEqual({ result: { content: [{ type: 'text', text: 'hi' }] } });
    const [record] = await events();
    expect(record).toMatchObject({
      seq: 1,
      kind: 'tool-call',
      tenant: 'acme',
      project: 'alpha',
      principal: 'key:k1',
      session: 'session-1',
      face: 'streamable-http',
      method: 'tools/call',
      server: 'echo',
      tool: 'echo__say',
      decision: { effect: 'allow', rule: 'allow-echo', mode: 'enforce' },
      findings: [{ detector: 'hidden-characters', action: 'flag', where: 'args.text' }],
      argsDigest: canonicalHash({ text: 'hello' }),
      outcome: 'ok',
      traceId: 'trace-1',
    });
    expect(record).not.toHaveProperty('args');
    expect(record?.latencyMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(record?.time as string)).not.toBeNaN();
    await log.close();
  });

  it.each<{ name: string; terminal: Next; outcome: string }>([
    {
      name: 'an upstream JSON-RPC error',
      terminal: async () => ({ error: { code: -32602, message: 'bad arguments' } }),
      outcome: 'upstream-error',
    },
    {
      name: 'an upstream error that borrows a gateway code',
      terminal: async () => ({ error: { code: -32000, message: 'no', data: { code: 'FORBIDDEN' } } }),
      outcome: 'upstream-error',
    },
    {
      name: 'a tool result flagged isError',
      terminal: async () => ({ result: { isError: true, content: [] } }),
      outcome: 'tool-error',
    },
    {
      name: 'a gateway failure thrown further in',
      terminal: async () => {
        throw new GatewayError('UPSTREAM_TIMEOUT');
      },
      outcome: 'UPSTREAM_TIMEOUT',
    },
  ])('records the outcome of $name as $outcome', async ({ terminal, outcome }) => {
    const { pipeline, events, log } = await harness(terminal);
    await pipeline(callSay());
    expect((await events())[0]).toMatchObject({ outcome });
    await log.close();
  });

  it('records a refusal by a later stage with its gateway code and the deciding rule', async () => {
    const deny: Stage = {
      name: 'authorize',
      async handle(current) {
        current.notes.decision = { effect: 'deny', rule: 'no-deletes', mode: 'enforce', reason: 'not here' };
        return refusal('UNKNOWN_TOOL');
      },
    };
    const { pipeline, events, log } = await harness(ok, [deny]);
    const reply = await pipeline(callSay());
    expect(reply).toMatchObject({ error: { data: { code: 'UNKNOWN_TOOL' } } });
    expect((await events())[0]).toMatchObject({
      outcome: 'UNKNOWN_TOOL',
      tool: 'echo__say',
      decision: { effect: 'deny', rule: 'no-deletes', mode: 'enforce', reason: 'not here' },
    });
    expect((await events())[0]).not.toHaveProperty('server');
    await log.close();
  });

  it('a dry-run deny is recorded as would-deny on a call that went through', async () => {
    const dryRun: Stage = {
      name: 'authorize',
      async handle(current, next) {
        current.notes.decision = { effect: 'deny', rule: 'no-deletes', mode: 'dry-run' };
        return next(current);
      },
    };
    const { pipeline, events, log } = await harness(ok, [dryRun]);
    await pipeline(callSay());
    expect((await events())[0]).toMatchObject({
      outcome: 'ok',
      decision: { effect: 'deny', rule: 'no-deletes', mode: 'dry-run', wouldDeny: true },
    });
    await log.close();
  });

  it('digests the arguments the client sent, not what a later stage replaced them with', async () => {
    const redactInput: Stage = {
      name: 'guard-input',
      async handle(current, next) {
        current.params = { ...current.params, arguments: { text: '[redacted]' } };
        return next(current);
      },
    };
    const { pipeline, events, log } = await harness(ok, [redactInput]);
    await pipeline(callSay());
    expect((await events())[0]?.argsDigest).toBe(canonicalHash({ text: 'hello' }));
    await log.close();
  });

  it('names the kind of each method', async () => {
    const { pipeline, events, log } = await harness(async () => ({ result: {} }), []);
    await pipeline(call('prompts/get', { name: 'greet', arguments: { who: 'x' } }));
    await pipeline(call('resources/read', { uri: 'file:///data/a.txt' }));
    await pipeline(call('tools/list', { cursor: 'c1' }));
    await pipeline(call('completion/complete', { ref: { type: 'ref/prompt', name: 'greet' } }));
    expect((await events()).map((record) => [record.kind, record.prompt ?? record.uri ?? null])).toEqual([
      ['prompt-get', 'greet'],
      ['resource-read', 'file:///data/a.txt'],
      ['list', null],
      ['request', null],
    ]);
    await log.close();
  });

  it('records a cancelled call as cancelled and lets the cancellation through', async () => {
    const { log, events } = await harness(ok);
    const recorder = new AuditRecorder(log, { log: silentLogger() });
    const controller = new AbortController();
    const cancelled = newCall({
      id: 1,
      method: 'tools/call',
      params: { name: 'x' },
      session,
      signal: controller.signal,
    });
    const stage = auditStage(recorder);
    const failure = new Error('cancelled');
    await expect(
      stage.handle(cancelled, async () => {
        controller.abort();
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect((await events())[0]).toMatchObject({ outcome: 'cancelled' });
    await log.close();
  });

  it('never holds the reply on the sink: a stalled disk does not delay the call', async () => {
    const { pipeline, sink, log, recorder } = await harness(ok);
    const release = sink.hold();
    const replies = await Promise.all([pipeline(callSay()), pipeline(callSay())]);
    expect(replies.every((reply) => 'result' in reply)).toBe(true);
    expect(sink.lines).toHaveLength(0);
    expect(recorder.stats()).toEqual({ failures: 0, dropped: 0 });
    release();
    await log.close();
    expect(sink.lines).toHaveLength(3);
  });

  it('a failing audit sink does not fail the call', async () => {
    const { pipeline, sink, log } = await harness(ok);
    sink.failures = 1_000;
    const reply = await pipeline(callSay());
    expect(reply).toMatchObject({ result: {} });
    await expect(log.flush()).rejects.toThrow('disk full');
    expect(log.backlog()).toMatchObject({ records: 1, written: 0 });
    await expect(log.close()).rejects.toMatchObject({ code: 'AUDIT_LOG_CLOSED' });
  });

  it('a closed log or a throwing context hook does not fail the call, and each is counted', async () => {
    const { log } = await harness(ok);
    await log.close();
    const recorder = new AuditRecorder(log, { log: silentLogger() });
    const throwing = composePipeline(
      [
        auditStage(recorder, {
          context: () => {
            throw new Error('no trace');
          },
        }),
      ],
      ok,
    );
    const plain = composePipeline([auditStage(recorder)], ok);
    const replies: Reply[] = [await throwing(callSay()), await plain(callSay())];
    expect(replies.every((reply) => 'result' in reply)).toBe(true);
    expect(recorder.stats().failures).toBe(2);
  });
});

describe('the audit recorder', () => {
  it('records admin changes and server-to-client requests', async () => {
    const sink = new MemorySink();
    const log = await AuditLog.open({ sink, key: signingKey(), log: silentLogger() });
    const recorder = new AuditRecorder(log, { log: silentLogger() });
    recorder.adminChange({
      tenant: 'acme',
      principal: 'key:admin',
      action: 'tenant.update',
      resource: 'tenants/acme',
      body: { tier: 'pro' },
      outcome: 'ok',
      latencyMs: 2,
    });
    recorder.serverRequest({
      session,
      server: 'echo',
      method: 'sampling/createMessage',
      params: { messages: [], _meta: { progressToken: 1 } },
      outcome: 'client-error',
      latencyMs: 12,
    });
    recorder.finding({
      tenant: 'acme',
      server: 'echo',
      tool: 'say',
      method: 'tools/list',
      findings: [{ detector: 'tool-poisoning', action: 'flag', where: 'description' }],
    });
    await log.close();
    expect(sink.records.slice(0, 3)).toMatchObject([
      {
        kind: 'admin-change',
        face: 'admin-api',
        tenant: 'acme',
        principal: 'key:admin',
        method: 'tenant.update',
        resource: 'tenants/acme',
        argsDigest: canonicalHash({ tier: 'pro' }),
        outcome: 'ok',
      },
      {
        kind: 'server-request',
        face: 'streamable-http',
        session: 'session-1',
        server: 'echo',
        method: 'sampling/createMessage',
        argsDigest: canonicalHash({ messages: [] }),
        outcome: 'client-error',
      },
      {
        kind: 'guard-finding',
        face: 'gateway',
        principal: 'gateway',
        tool: 'say',
        findings: [{ detector: 'tool-poisoning' }],
      },
    ]);
  });
});
