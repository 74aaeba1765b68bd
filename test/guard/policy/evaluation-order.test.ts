import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/guard/policy/load-policies.ts';
import { input, policy, yaml } from './policy-fixture.ts';

describe('evaluation order', () => {
  it('the first matching deny wins over any allow, before or after it', () => {
    const set = policy(
      'rules:',
      '  - { name: allow-fs, effect: allow, server: fs }',
      '  - { name: deny-read, effect: deny, tool: read_* }',
      '  - { name: deny-acme, effect: deny, tenant: acme }',
      '  - { name: allow-all, effect: allow }',
    );
    expect(set.decide(input())).toEqual({ effect: 'deny', rule: 'deny-read', mode: 'enforce' });
    expect(set.decide(input({ tool: 'write_file' }))).toEqual({
      effect: 'deny',
      rule: 'deny-acme',
      mode: 'enforce',
    });
    const globex = input({ tool: 'write_file', tenant: { id: 'globex', tier: 'gold' } });
    expect(set.decide(globex)).toEqual({ effect: 'allow', rule: 'allow-fs', mode: 'enforce' });
  });

  it('without a matching deny, the first matching allow decides', () => {
    const set = policy(
      "defaults: { '*': deny }",
      'rules:',
      '  - { name: allow-other, effect: allow, server: other }',
      '  - { name: allow-read, effect: allow, tool: read_* }',
      '  - { name: allow-fs, effect: allow, server: fs }',
    );
    expect(set.decide(input())).toEqual({ effect: 'allow', rule: 'allow-read', mode: 'enforce' });
    expect(set.decide(input({ tool: 'stat' }))).toEqual({
      effect: 'allow',
      rule: 'allow-fs',
      mode: 'enforce',
    });
  });

  it('files are evaluated in the order given, so a deny in a later file still wins', () => {
    const set = compilePolicies([
      { file: '10-a.yaml', text: yaml('rules:', '  - { name: first-deny, effect: deny, tool: read_file }') },
      { file: '20-b.yaml', text: yaml('rules:', '  - { name: second-deny, effect: deny, server: fs }') },
    ]);
    expect(set.decide(input()).rule).toBe('first-deny');
    expect(set.decide(input({ tool: 'stat' })).rule).toBe('second-deny');
  });

  it('every named match field must match; a field that does not apply never matches', () => {
    const set = policy(
      'rules:',
      '  - { name: all-fields, effect: deny, tenant: acme, tier: standard, role: reader, principal: "key:*", server: fs, method: tools/call, tool: read_file, project: p-* }',
      '  - { name: prompt-rule, effect: deny, prompt: "*" }',
      '  - { name: resource-rule, effect: deny, resource: "file:///secret/*" }',
    );
    expect(set.decide(input({ project: 'p-1' })).rule).toBe('all-fields');
    // No project on the input: the rule naming one does not match.
    expect(set.decide(input()).rule).toBe('default');
    expect(set.decide(input({ project: 'q-1' })).rule).toBe('default');
    // A tool call is not a prompt or a resource.
    const prompt = input({ method: 'prompts/get', tool: undefined, prompt: 'greet' });
    expect(set.decide(prompt).rule).toBe('prompt-rule');
    const resource = input({ method: 'resources/read', tool: undefined, resource: 'file:///secret/key' });
    expect(set.decide(resource).rule).toBe('resource-rule');
    expect(set.decide({ ...resource, resource: 'file:///public/x' }).rule).toBe('default');
  });

  it('the tenant default decides when no rule matches: the tenant own, else "*", else allow', () => {
    const rules = yaml('rules:', '  - { name: allow-fs-read, effect: allow, server: fs, tool: read_file }');
    const withDefaults = compilePolicies([
      { file: '00-defaults.yaml', text: yaml('defaults:', "  '*': deny", '  globex: allow') },
      { file: '10-rules.yaml', text: rules },
    ]);
    expect(withDefaults.decide(input({ tool: 'write_file' }))).toEqual({
      effect: 'deny',
      rule: 'default',
      mode: 'enforce',
    });
    const globex = input({ tool: 'write_file', tenant: { id: 'globex', tier: 'standard' } });
    expect(withDefaults.decide(globex)).toEqual({ effect: 'allow', rule: 'default', mode: 'enforce' });
    expect(withDefaults.decide(input()).rule).toBe('allow-fs-read');

    const noDefaults = compilePolicies([{ file: 'rules.yaml', text: rules }]);
    expect(noDefaults.decide(input({ tool: 'write_file' }))).toEqual({
      effect: 'allow',
      rule: 'default',
      mode: 'enforce',
    });
  });

  it('a deny carries its reason; an allow and a default carry none', () => {
    const set = policy(
      'defaults: { acme: deny }',
      'rules:',
      '  - { name: no-write, effect: deny, tool: write_file, reason: writes are reviewed first }',
      '  - { name: reads, effect: allow, tool: read_file }',
    );
    expect(set.decide(input({ tool: 'write_file' }))).toEqual({
      effect: 'deny',
      rule: 'no-write',
      mode: 'enforce',
      reason: 'writes are reviewed first',
    });
    expect(set.decide(input())).toEqual({ effect: 'allow', rule: 'reads', mode: 'enforce' });
    expect(set.decide(input({ tool: 'stat' }))).toEqual({ effect: 'deny', rule: 'default', mode: 'enforce' });
  });
});

describe('dry-run', () => {
  it('a dry-run deny decides as a deny in mode dry-run, over any allow', () => {
    const set = policy(
      'rules:',
      '  - { name: allow-all, effect: allow }',
      '  - { name: trial-deny, effect: deny, mode: dry-run, tool: read_file, reason: not yet }',
    );
    expect(set.decide(input())).toEqual({
      effect: 'deny',
      rule: 'trial-deny',
      mode: 'dry-run',
      reason: 'not yet',
    });
    expect(set.decide(input({ tool: 'stat' }))).toEqual({
      effect: 'allow',
      rule: 'allow-all',
      mode: 'enforce',
    });
  });

  it('an enforced deny wins over a dry-run deny that comes first, so trying a rule out weakens nothing', () => {
    const set = policy(
      'rules:',
      '  - { name: trial, effect: deny, mode: dry-run, server: fs }',
      '  - { name: real, effect: deny, tool: read_file }',
    );
    expect(set.decide(input())).toEqual({ effect: 'deny', rule: 'real', mode: 'enforce' });
    expect(set.decide(input({ tool: 'stat' }))).toEqual({ effect: 'deny', rule: 'trial', mode: 'dry-run' });
  });

  it("a file in dry-run mode makes its deny rules and its default deny dry-run; a rule's own mode overrides", () => {
    const set = compilePolicies([
      {
        file: 'trial.yaml',
        text: yaml(
          'mode: dry-run',
          "defaults: { '*': deny }",
          'rules:',
          '  - { name: trial, effect: deny, tool: write_file }',
          '  - { name: real, effect: deny, mode: enforce, tool: delete_file }',
          '  - { name: reads, effect: allow, tool: read_file }',
        ),
      },
    ]);
    expect(set.decide(input({ tool: 'write_file' }))).toEqual({
      effect: 'deny',
      rule: 'trial',
      mode: 'dry-run',
    });
    expect(set.decide(input({ tool: 'delete_file' }))).toEqual({
      effect: 'deny',
      rule: 'real',
      mode: 'enforce',
    });
    expect(set.decide(input())).toEqual({ effect: 'allow', rule: 'reads', mode: 'enforce' });
    expect(set.decide(input({ tool: 'stat' }))).toEqual({ effect: 'deny', rule: 'default', mode: 'dry-run' });
  });
});

describe('listing', () => {
  it('an item is hidden when every call to it would be denied, and shown otherwise', () => {
    const set = policy(
      "defaults: { '*': deny }",
      'rules:',
      '  - { name: no-write, effect: deny, tool: write_file }',
      '  - { name: fs, effect: allow, server: fs }',
    );
    const listing = (tool: string, server = 'fs') => set.listed(input({ tool, server, args: {} }));
    expect(listing('read_file')).toBe(true);
    expect(listing('write_file')).toBe(false);
    expect(listing('read_file', 'other')).toBe(false);
  });

  it('a rule whose condition reads args cannot hide an item, but can make it visible', () => {
    const set = policy(
      "defaults: { '*': deny }",
      'rules:',
      '  - { name: no-etc, effect: deny, tool: read_file, when: "args.path.startsWith(\'/etc\')" }',
      '  - { name: own-data, effect: allow, tool: read_file, when: "args.path.startsWith(\'/data/\' + tenant.id)" }',
    );
    const item = input({ args: {} });
    expect(set.listed(item)).toBe(true);
    // The call itself is decided in full.
    expect(set.decide(input({ args: { path: '/etc/passwd' } })).rule).toBe('no-etc');
    expect(set.decide(input({ args: { path: '/data/acme/a' } })).rule).toBe('own-data');
    expect(set.decide(input({ args: { path: '/tmp/x' } })).rule).toBe('default');
  });

  it('conditions that do not read args are decided for the list with the call facts', () => {
    const set = policy('rules:', '  - { name: busy, effect: deny, when: "usage.callsLastMinute >= 100" }');
    expect(set.listed(input({ args: {}, usage: { callsLastMinute: 5, callsLastHour: 5 } }))).toBe(true);
    expect(set.listed(input({ args: {}, usage: { callsLastMinute: 100, callsLastHour: 100 } }))).toBe(false);
  });

  it('a dry-run deny, or a dry-run default deny, does not hide an item', () => {
    const set = policy(
      'mode: dry-run',
      "defaults: { '*': deny }",
      'rules:',
      '  - { name: trial, effect: deny, tool: read_file }',
    );
    expect(set.listed(input({ args: {} }))).toBe(true);
    expect(set.listed(input({ tool: 'stat', args: {} }))).toBe(true);
  });
});

describe('explain', () => {
  const set = policy(
    'defaults: { acme: deny }',
    'rules:',
    '  - { name: other-server, effect: allow, server: other }',
    '  - { name: no-etc, effect: deny, when: "args.path.startsWith(\'/etc\')" }',
    '  - { name: busy, effect: deny, mode: dry-run, when: "usage.callsLastMinute >= 100" }',
    '  - { name: reads, effect: allow, tool: read_* }',
  );

  it("reports every rule's outcome and the rule that decided", () => {
    const explanation = set.explain(input({ args: {} }));
    expect(explanation.decision).toEqual({ effect: 'deny', rule: 'no-etc', mode: 'enforce' });
    expect(explanation.decidedBy?.name).toBe('no-etc');
    expect(explanation.rules.map(({ rule, outcome }) => [rule.name, outcome])).toEqual([
      ['other-server', { kind: 'no-match', field: 'server' }],
      ['no-etc', { kind: 'condition-error', message: 'No such key: path (at character 6 of the condition)' }],
      ['busy', { kind: 'condition-false' }],
      ['reads', { kind: 'match' }],
    ]);
    expect(set.explain(input({ tool: 'stat' })).decidedBy).toBeUndefined();
    expect(set.explain(input({ tool: 'stat' })).tenantDefault).toMatchObject({
      effect: 'deny',
      origin: { line: 1 },
    });
  });

  it('decides exactly as decide does, for any input', () => {
    const arbitraryInput = fc.record({
      server: fc.constantFrom('fs', 'other'),
      tool: fc.constantFrom('read_file', 'write_file', 'stat'),
      tenant: fc.constantFrom('acme', 'globex'),
      path: fc.option(fc.constantFrom('/etc/passwd', '/data/acme/x', 7), { nil: undefined }),
      calls: fc.integer({ min: 0, max: 200 }),
    });
    fc.assert(
      fc.property(arbitraryInput, ({ server, tool, tenant, path, calls }) => {
        const call = input({
          server,
          tool,
          tenant: { id: tenant, tier: 'standard' },
          args: path === undefined ? {} : { path },
          usage: { callsLastMinute: calls, callsLastHour: calls },
        });
        expect(set.explain(call).decision).toEqual(set.decide(call));
      }),
      { numRuns: 300 },
    );
  });

  it('without rules, decides and lists every call of a tenant by its default, as decide and listed do', () => {
    const sets = [
      policy(),
      policy("defaults: { '*': deny, globex: allow }"),
      policy('mode: dry-run', "defaults: { '*': deny }"),
    ];
    const inputs = [input(), input({ tenant: { id: 'globex', tier: 'gold' }, tool: 'write_file' })];
    for (const set of sets) {
      for (const each of inputs) {
        expect(set.decidedByDefault(each.tenant.id)).toEqual(set.decide(each));
        expect(set.listedByDefault(each.tenant.id)).toBe(set.listed(each));
      }
    }
    expect(sets[1]?.decidedByDefault('acme')).toMatchObject({ effect: 'deny', rule: 'default' });
    expect(sets[1]?.listedByDefault('acme')).toBe(false);
    expect(sets[2]?.listedByDefault('acme')).toBe(true);
    // With any rule, the answer is per call: there is none by default.
    const ruled = policy('rules:', '  - { name: no-env, effect: deny, tool: env }');
    expect(ruled.decidedByDefault('acme')).toBeUndefined();
    expect(ruled.listedByDefault('acme')).toBeUndefined();
  });
});
