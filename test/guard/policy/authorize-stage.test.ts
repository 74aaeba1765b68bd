import { describe, expect, it, vi } from 'vitest';
import { GatewayError } from '../../../src/errors.ts';
import {
  authorizeStage,
  type AuthorizeStageOptions,
  type CallFacts,
} from '../../../src/guard/authorize-stage.ts';
import {
  composePipeline,
  newCall,
  type Call,
  type CallTarget,
  type Next,
  type Reply,
} from '../../../src/guard/pipeline.ts';
import type { PolicySet } from '../../../src/guard/policy/policy-set.ts';
import { unqualify } from '../../../src/router/qualified-name.ts';
import { policy } from './policy-fixture.ts';

const FACTS: CallFacts = {
  tier: 'standard',
  role: 'reader',
  usage: { callsLastMinute: 1, callsLastHour: 1 },
  anomaly: { score: 0 },
};

const POLICY = policy(
  'rules:',
  '  - { name: hide-write, effect: deny, server: fs, tool: write_file }',
  '  - { name: hide-secret-prompt, effect: deny, prompt: secret }',
  '  - { name: hide-secrets, effect: deny, resource: "secret://*" }',
  '  - { name: no-etc, effect: deny, tool: read_file, when: "args.path.startsWith(\'/etc\')", reason: reading /etc is not allowed }',
  '  - { name: no-tmp, effect: deny, tool: read_file, when: "args.path.startsWith(\'/tmp\')" }',
  '  - { name: trial, effect: deny, mode: dry-run, tool: stat }',
);

/** Resources belong to the server named by their scheme, in these tests. */
function owner(kind: string, listed: string): { server: string; name: string } | undefined {
  if (kind === 'tool' || kind === 'prompt') return unqualify(listed, '__');
  const scheme = /^([a-z]+):/.exec(listed)?.[1];
  return scheme === undefined ? undefined : { server: scheme, name: listed };
}

function stage(options: Partial<AuthorizeStageOptions> = {}) {
  return authorizeStage({ policies: () => POLICY, facts: () => FACTS, owner, ...options });
}

function call(method: string, params: Record<string, unknown>, target?: CallTarget): Call {
  return newCall({
    id: 1,
    method,
    params,
    session: {
      key: 's1',
      principal: { tenantId: 'acme', subject: 'key:acme-1', scopes: ['*'], via: 'api-key' },
      face: 'stdio',
    },
    signal: new AbortController().signal,
    ...(target === undefined ? {} : { target }),
  });
}

const forwarded: Reply = { result: { content: [{ type: 'text', text: 'ok' }] } };

async function run(
  subject: Call,
  next: Next = async () => forwarded,
  options: Partial<AuthorizeStageOptions> = {},
) {
  const terminal = vi.fn(next);
  const reply = await composePipeline([stage(options)], terminal)(subject);
  return { reply, forwarded: terminal.mock.calls.length > 0 };
}

/** What the router answers for a name it does not know, as a session sends it. */
const unknown = (code: 'UNKNOWN_TOOL' | 'UNKNOWN_PROMPT' | 'UNKNOWN_RESOURCE') => ({
  error: new GatewayError(code).toJsonRpcError(),
});

describe('the authorize stage on calls', () => {
  it('an allowed call goes ahead and its decision is noted for audit', async () => {
    const subject = call(
      'tools/call',
      { name: 'fs__read_file', arguments: { path: '/data/a' } },
      { server: 'fs', tool: 'read_file' },
    );
    expect(await run(subject)).toEqual({ reply: forwarded, forwarded: true });
    expect(subject.notes.decision).toEqual({ effect: 'allow', rule: 'default', mode: 'enforce' });
  });

  it('a denied tool, prompt or resource answers exactly as an unknown one does', async () => {
    const tool = call(
      'tools/call',
      { name: 'fs__write_file', arguments: {} },
      { server: 'fs', tool: 'write_file' },
    );
    expect(await run(tool)).toEqual({ reply: unknown('UNKNOWN_TOOL'), forwarded: false });
    expect(tool.notes.decision).toEqual({ effect: 'deny', rule: 'hide-write', mode: 'enforce' });

    const prompt = call('prompts/get', { name: 'p__secret' }, { server: 'p', prompt: 'secret' });
    expect(await run(prompt)).toEqual({ reply: unknown('UNKNOWN_PROMPT'), forwarded: false });

    const resource = call(
      'resources/read',
      { uri: 'secret://key' },
      { server: 'secret', uri: 'secret://key' },
    );
    expect(await run(resource)).toEqual({ reply: unknown('UNKNOWN_RESOURCE'), forwarded: false });
    const subscribe = call(
      'resources/subscribe',
      { uri: 'secret://key' },
      { server: 'secret', uri: 'secret://key' },
    );
    expect(await run(subscribe)).toEqual({ reply: unknown('UNKNOWN_RESOURCE'), forwarded: false });
  });

  it('the unknown-tool answer is the very one the router gives', () => {
    // The router throws GatewayError('UNKNOWN_TOOL'); the session sends its toJsonRpcError().
    expect(unknown('UNKNOWN_TOOL').error).toEqual({
      code: -32602,
      message: 'Unknown tool',
      data: { code: 'UNKNOWN_TOOL' },
    });
  });

  it('an argument constraint with a reason refuses with that reason; without one the tool looks unknown', async () => {
    const etc = call(
      'tools/call',
      { name: 'fs__read_file', arguments: { path: '/etc/passwd' } },
      { server: 'fs', tool: 'read_file' },
    );
    expect(await run(etc)).toEqual({
      reply: {
        error: { code: -32040, message: 'reading /etc is not allowed', data: { code: 'POLICY_DENIED' } },
      },
      forwarded: false,
    });
    const tmp = call(
      'tools/call',
      { name: 'fs__read_file', arguments: { path: '/tmp/x' } },
      { server: 'fs', tool: 'read_file' },
    );
    expect(await run(tmp)).toEqual({ reply: unknown('UNKNOWN_TOOL'), forwarded: false });
  });

  it('missing arguments count against a deny rule that reads them', async () => {
    const bare = call('tools/call', { name: 'fs__read_file' }, { server: 'fs', tool: 'read_file' });
    expect((await run(bare)).forwarded).toBe(false);
    expect(bare.notes.decision?.rule).toBe('no-etc');
  });

  it('a dry-run deny lets the call through and notes that it would have been denied', async () => {
    const subject = call('tools/call', { name: 'fs__stat', arguments: {} }, { server: 'fs', tool: 'stat' });
    expect(await run(subject)).toEqual({ reply: forwarded, forwarded: true });
    expect(subject.notes.decision).toEqual({ effect: 'deny', rule: 'trial', mode: 'dry-run' });
  });

  it('the input carries the session, the call and the facts the options provide', async () => {
    const seen: unknown[] = [];
    const spy = {
      decidedByDefault: () => undefined,
      decide: (input: unknown) => (seen.push(input), { effect: 'allow', rule: 'x', mode: 'enforce' }),
    };
    const subject = call(
      'tools/call',
      { name: 'fs__read_file', arguments: { path: '/data/a' } },
      { server: 'fs', tool: 'read_file' },
    );
    const time = new Date('2026-03-02T10:00:00Z');
    await run(subject, undefined, {
      policies: () => spy as unknown as PolicySet,
      facts: () => ({ ...FACTS, project: 'p1', anomaly: { score: 0.5 } }),
      now: () => time,
    });
    expect(seen).toEqual([
      {
        principal: { subject: 'key:acme-1', role: 'reader', via: 'api-key', scopes: ['*'] },
        tenant: { id: 'acme', tier: 'standard' },
        project: 'p1',
        server: 'fs',
        method: 'tools/call',
        tool: 'read_file',
        args: { path: '/data/a' },
        request: { time, face: 'stdio' },
        usage: FACTS.usage,
        anomaly: { score: 0.5 },
      },
    ]);
  });

  it('the policies are read per call, so a reloaded set applies from the next call', async () => {
    let current = POLICY;
    const options = { policies: () => current };
    const subject = () =>
      call('tools/call', { name: 'fs__write_file' }, { server: 'fs', tool: 'write_file' });
    expect((await run(subject(), undefined, options)).forwarded).toBe(false);
    current = policy('rules: []');
    expect((await run(subject(), undefined, options)).forwarded).toBe(true);
  });

  it('without a route target the stage refuses rather than allows', async () => {
    const subject = call('tools/call', { name: 'fs__write_file' });
    expect(await run(subject)).toEqual({
      reply: { error: { code: -32603, message: 'Internal error', data: { code: 'INTERNAL' } } },
      forwarded: false,
    });
  });

  it('other methods pass through untouched', async () => {
    const subject = call('completion/complete', { ref: { type: 'ref/prompt', name: 'p__secret' } });
    expect(await run(subject)).toEqual({ reply: forwarded, forwarded: true });
    expect(subject.notes.decision).toBeUndefined();
  });
});

describe('the authorize stage on lists', () => {
  const list =
    (key: string, items: unknown[], extra: Record<string, unknown> = {}): Next =>
    async () => ({
      result: { [key]: items, ...extra },
    });

  it('a denied tool is absent from tools/list; the cursor and other fields stay', async () => {
    const tools = [
      { name: 'fs__read_file', description: 'r' },
      { name: 'fs__write_file' },
      { name: 'fs__stat' },
      { name: 'other__write_file' },
    ];
    const { reply } = await run(call('tools/list', {}), list('tools', tools, { nextCursor: 'c2' }));
    expect(reply).toEqual({
      result: {
        // read_file stays: its deny rules depend on arguments. stat stays: its deny is a dry run.
        tools: [
          { name: 'fs__read_file', description: 'r' },
          { name: 'fs__stat' },
          { name: 'other__write_file' },
        ],
        nextCursor: 'c2',
      },
    });
  });

  it('prompts, resources and resource templates are filtered the same way', async () => {
    const prompts = await run(
      call('prompts/list', {}),
      list('prompts', [{ name: 'p__secret' }, { name: 'p__hello' }]),
    );
    expect(prompts.reply).toEqual({ result: { prompts: [{ name: 'p__hello' }] } });

    const resources = await run(
      call('resources/list', {}),
      list('resources', [
        { uri: 'secret://key', name: 'k' },
        { uri: 'file:///a', name: 'a' },
      ]),
    );
    expect(resources.reply).toEqual({ result: { resources: [{ uri: 'file:///a', name: 'a' }] } });

    const templates = await run(
      call('resources/templates/list', {}),
      list('resourceTemplates', [{ uriTemplate: 'secret://{name}' }, { uriTemplate: 'file:///{path}' }]),
    );
    expect(templates.reply).toEqual({ result: { resourceTemplates: [{ uriTemplate: 'file:///{path}' }] } });
  });

  it('an item the owner function cannot place is left out', async () => {
    const { reply } = await run(
      call('tools/list', {}),
      list('tools', [{ name: 'no-separator' }, { name: 42 }, null, { name: 'fs__stat' }]),
    );
    expect(reply).toEqual({ result: { tools: [{ name: 'fs__stat' }] } });
  });

  it('the items are decided as calls without arguments, with the same facts', async () => {
    const inputs: unknown[] = [];
    const spy = { listedByDefault: () => undefined, listed: (input: unknown) => (inputs.push(input), true) };
    await run(call('tools/list', {}), list('tools', [{ name: 'fs__read_file' }]), {
      policies: () => spy as unknown as PolicySet,
      now: () => new Date(0),
    });
    expect(inputs).toEqual([
      expect.objectContaining({
        server: 'fs',
        method: 'tools/call',
        tool: 'read_file',
        args: {},
        tenant: { id: 'acme', tier: 'standard' },
      }),
    ]);
  });

  it('an error from further down, or a reply without a list, is passed back as it is', async () => {
    const failure: Reply = { error: { code: -32010, message: 'Server unavailable' } };
    expect((await run(call('tools/list', {}), async () => failure)).reply).toBe(failure);
    const odd: Reply = { result: { tools: 'not a list' } };
    expect((await run(call('tools/list', {}), async () => odd)).reply).toBe(odd);
  });
});
