import { describe, expect, it } from 'vitest';
import { celConditionEngine } from '../../../src/guard/policy/cel-condition.ts';
import type { ConditionEngine } from '../../../src/guard/policy/condition.ts';
import { compilePolicies } from '../../../src/guard/policy/load-policies.ts';
import { input, policy, yaml } from './policy-fixture.ts';

/** A policy that denies by default and allows when `condition` holds. */
function allowWhen(condition: string) {
  return policy(
    "defaults: { '*': deny }",
    'rules:',
    '  - name: cond',
    '    effect: allow',
    `    when: ${JSON.stringify(condition)}`,
  );
}

/** A policy that allows by default and denies when `condition` holds. */
function denyWhen(condition: string) {
  return policy('rules:', '  - name: cond', '    effect: deny', `    when: ${JSON.stringify(condition)}`);
}

const allowed = (set: ReturnType<typeof policy>, overrides: Parameters<typeof input>[0] = {}) =>
  set.decide(input(overrides)).effect === 'allow';

describe('CEL conditions', () => {
  it('an argument constraint reads the call arguments and the tenant', () => {
    const set = allowWhen("args.path.startsWith('/data/' + tenant.id + '/')");
    expect(allowed(set, { args: { path: '/data/acme/a.txt' } })).toBe(true);
    expect(allowed(set, { args: { path: '/data/globex/a.txt' } })).toBe(false);
    expect(allowed(set, { args: { path: '/data/acme-evil/a.txt' } })).toBe(false);
    expect(
      allowed(set, { args: { path: '/data/globex/a.txt' }, tenant: { id: 'globex', tier: 'gold' } }),
    ).toBe(true);
  });

  it('arguments of every JSON type can be constrained', () => {
    const set = allowWhen(
      "args.limit <= 100 && args.recursive == false && 'txt' in args.types && args.options.depth < 3 && size(args.note) < 10",
    );
    const args = { limit: 50, recursive: false, types: ['txt', 'md'], options: { depth: 2 }, note: 'short' };
    expect(allowed(set, { args })).toBe(true);
    expect(allowed(set, { args: { ...args, limit: 101 } })).toBe(false);
    expect(allowed(set, { args: { ...args, recursive: true } })).toBe(false);
    expect(allowed(set, { args: { ...args, types: ['md'] } })).toBe(false);
    expect(allowed(set, { args: { ...args, options: { depth: 3 } } })).toBe(false);
  });

  it('a time window reads request.time in UTC, or in a named time zone', () => {
    const hours = allowWhen('request.time.getHours() >= 9 && request.time.getHours() < 17');
    const at = (iso: string) => ({ request: { time: new Date(iso), face: 'stdio' } });
    expect(allowed(hours, at('2026-03-02T09:00:00Z'))).toBe(true);
    expect(allowed(hours, at('2026-03-02T16:59:59Z'))).toBe(true);
    expect(allowed(hours, at('2026-03-02T17:00:00Z'))).toBe(false);
    expect(allowed(hours, at('2026-03-02T08:59:59Z'))).toBe(false);

    const weekdays = allowWhen('request.time.getDayOfWeek() >= 1 && request.time.getDayOfWeek() <= 5');
    expect(allowed(weekdays, at('2026-03-06T12:00:00Z'))).toBe(true); // a Friday
    expect(allowed(weekdays, at('2026-03-07T12:00:00Z'))).toBe(false); // a Saturday

    const berlin = allowWhen("request.time.getHours('Europe/Berlin') >= 9");
    expect(allowed(berlin, at('2026-03-02T08:30:00Z'))).toBe(true); // 09:30 in Berlin
    expect(allowed(berlin, at('2026-03-02T07:30:00Z'))).toBe(false);

    const until = allowWhen("request.time < timestamp('2026-04-01T00:00:00Z')");
    expect(allowed(until, at('2026-03-31T23:59:59Z'))).toBe(true);
    expect(allowed(until, at('2026-04-01T00:00:00Z'))).toBe(false);
  });

  it('usage and the anomaly score are numbers a condition compares', () => {
    const set = allowWhen('usage.callsLastMinute < 100 && usage.callsLastHour < 1000 && anomaly.score < 0.8');
    expect(allowed(set, { usage: { callsLastMinute: 99, callsLastHour: 999 } })).toBe(true);
    expect(allowed(set, { usage: { callsLastMinute: 100, callsLastHour: 1 } })).toBe(false);
    expect(allowed(set, { usage: { callsLastMinute: 1, callsLastHour: 1000 } })).toBe(false);
    expect(allowed(set, { anomaly: { score: 0.79 } })).toBe(true);
    expect(allowed(set, { anomaly: { score: 0.8 } })).toBe(false);
  });

  it('the principal, method, server and tool are readable, and a missing role reads as empty', () => {
    const set = allowWhen(
      "principal.role == 'reader' && principal.via == 'api-key' && 'tools:call' in principal.scopes && " +
        "principal.subject.startsWith('key:') && method == 'tools/call' && server == 'fs' && tool == 'read_file' && " +
        "request.face == 'streamable-http' && tenant.tier == 'standard' && project == '' && prompt == ''",
    );
    expect(allowed(set)).toBe(true);
    const noRole = { principal: { subject: 'key:acme-1', via: 'api-key', scopes: ['tools:call'] } };
    expect(allowed(set, noRole)).toBe(false);
    expect(allowed(allowWhen("principal.role == ''"), noRole)).toBe(true);
  });

  it('a failing condition denies in a deny rule and does not allow in an allow rule', () => {
    // No `path` argument: the condition cannot be evaluated.
    const noPath = { args: {} };
    const deny = denyWhen("args.path.startsWith('/etc')");
    expect(deny.decide(input(noPath))).toEqual({ effect: 'deny', rule: 'cond', mode: 'enforce' });
    expect(deny.decide(input({ args: { path: '/data/acme/a' } })).effect).toBe('allow');

    const allow = allowWhen("args.path.startsWith('/data/')");
    expect(allow.decide(input(noPath))).toEqual({ effect: 'deny', rule: 'default', mode: 'enforce' });

    // A wrong type fails the same way: a number has no startsWith.
    expect(deny.decide(input({ args: { path: 42 } })).effect).toBe('deny');
    expect(allow.decide(input({ args: { path: 42 } })).effect).toBe('deny');
  });

  it('a condition that yields something other than a bool at run time counts as failing', () => {
    const deny = denyWhen('args.flag');
    expect(deny.decide(input({ args: { flag: 'yes' } })).effect).toBe('deny');
    expect(deny.decide(input({ args: { flag: false } })).effect).toBe('allow');
    const allow = allowWhen('args.flag');
    expect(allow.decide(input({ args: { flag: 'yes' } })).effect).toBe('deny');
    expect(allow.decide(input({ args: { flag: true } })).effect).toBe('allow');
  });

  it('has() and optional fields let a condition avoid failing on a missing argument', () => {
    const deny = denyWhen("has(args.path) && args.path.startsWith('/etc')");
    expect(deny.decide(input({ args: {} })).effect).toBe('allow');
    expect(deny.decide(input({ args: { path: '/etc/shadow' } })).effect).toBe('deny');
    const optional = denyWhen("args.?path.orValue('').startsWith('/etc')");
    expect(optional.decide(input({ args: {} })).effect).toBe('allow');
  });

  it('a condition knows whether it reads the arguments', () => {
    const set = policy(
      'rules:',
      '  - { name: reads, effect: deny, when: "size(args) > 3" }',
      '  - { name: nested, effect: deny, when: "tenant.id == \'x\' || args.a == 1" }',
      '  - { name: other, effect: deny, when: "usage.callsLastMinute > 3" }',
      '  - { name: bound, effect: deny, when: "[1, 2].exists(args, args > 5)" }',
    );
    expect(set.rules.map((rule) => [rule.name, rule.condition?.readsArgs])).toEqual([
      ['reads', true],
      ['nested', true],
      ['other', false],
      // A macro variable named args shadows the call's arguments; the rule does not read them.
      ['bound', false],
    ]);
  });

  it('conditions are compiled once when the policies load, never per decision', () => {
    const real = celConditionEngine();
    const counts = { compile: 0, bind: 0 };
    const counting: ConditionEngine = {
      name: real.name,
      compile: (source) => (counts.compile++, real.compile(source)),
      bind: (facts) => (counts.bind++, real.bind(facts)),
    };
    const text = yaml(
      'rules:',
      '  - { name: a, effect: deny, when: "anomaly.score > 0.9" }',
      '  - { name: b, effect: deny, when: "usage.callsLastMinute > 1000" }',
      '  - { name: c, effect: allow, tool: write_file, when: "true" }',
    );
    const set = compilePolicies([{ file: 'p.yaml', text }], { engine: counting });
    expect(counts.compile).toBe(3);
    for (let call = 0; call < 10; call++) set.decide(input());
    expect(counts).toEqual({ compile: 3, bind: 10 });
  });
});
