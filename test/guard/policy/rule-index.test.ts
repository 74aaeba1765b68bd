import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePolicies } from '../../../src/guard/policy/load-policies.ts';
import type { PolicyInput } from '../../../src/guard/policy/policy-input.ts';
import type { PolicySet } from '../../../src/guard/policy/policy-set.ts';
import { RuleIndex } from '../../../src/guard/policy/rule-index.ts';
import { input, policy } from './policy-fixture.ts';

// Conditions that hold, do not hold, and fail (a missing argument), some shared between rules.
const CONDITIONS = [
  'usage.callsLastMinute < 10',
  'usage.callsLastMinute >= 10',
  "args.path.startsWith('/data/' + tenant.id)",
  'args.missing == 1',
  'anomaly.score > 0.5',
] as const;

const ruleArb = fc.record({
  effect: fc.constantFrom('allow', 'deny'),
  mode: fc.constantFrom('enforce', 'dry-run'),
  server: fc.option(fc.constantFrom('fs', 'kb', 'f*'), { nil: undefined }),
  tool: fc.option(fc.constantFrom('read_file', 'read_*', 'write_file', ['stat', 'read_file']), {
    nil: undefined,
  }),
  method: fc.option(fc.constantFrom('tools/call', 'prompts/get'), { nil: undefined }),
  tenant: fc.option(fc.constantFrom('acme', 'globex'), { nil: undefined }),
  when: fc.option(fc.constantFrom(...CONDITIONS), { nil: undefined }),
});

const inputArb = fc
  .record({
    tenant: fc.constantFrom('acme', 'globex'),
    server: fc.constantFrom('fs', 'kb', 'other'),
    tool: fc.constantFrom('read_file', 'write_file', 'stat'),
    calls: fc.constantFrom(1, 50),
    score: fc.constantFrom(0.1, 0.9),
    path: fc.constantFrom('/data/acme/x', '/etc/shadow'),
  })
  .map((drawn): PolicyInput =>
    input({
      tenant: { id: drawn.tenant, tier: 'standard' },
      server: drawn.server,
      tool: drawn.tool,
      args: { path: drawn.path },
      usage: { callsLastMinute: drawn.calls, callsLastHour: drawn.calls },
      anomaly: { score: drawn.score },
    }),
  );

function text(rules: readonly Record<string, unknown>[]): string {
  const lines = rules.map((rule, index) => {
    const fields = Object.entries(rule.effect === 'allow' ? { ...rule, mode: undefined } : rule)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => `${key}: ${JSON.stringify(value)}`);
    return `  - { name: r${index}, ${fields.join(', ')} }`;
  });
  return `defaults: { '*': deny }\nrules:${lines.length === 0 ? ' []' : `\n${lines.join('\n')}`}\n`;
}

/** What listed() should say, from explain()'s outcome of every rule (no index, no memo). */
function listedByEveryRule(set: PolicySet, call: PolicyInput): boolean {
  let allowed = false;
  for (const { rule, outcome } of set.explain(call).rules) {
    if (rule.effect === 'allow' && allowed) continue;
    if (rule.effect === 'deny' && rule.mode === 'dry-run') continue;
    if (outcome.kind === 'no-match') continue;
    if (rule.condition?.readsArgs) {
      allowed ||= rule.effect === 'allow';
      continue;
    }
    if (outcome.kind === 'condition-false') continue;
    if (outcome.kind === 'condition-error' && rule.effect === 'allow') continue;
    if (rule.effect === 'deny') return false;
    allowed = true;
  }
  if (allowed) return true;
  const fallback = set.defaultFor(call.tenant.id);
  return fallback.effect === 'allow' || fallback.mode === 'dry-run';
}

describe('the rule index and the per-decision condition memo', () => {
  it('decide and listed agree with evaluating every rule in order, for any rules and calls', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 12 }),
        fc.array(inputArb, { minLength: 1, maxLength: 6 }),
        (rules, inputs) => {
          const set = compilePolicies([{ file: 'p.yaml', text: text(rules) }]);
          for (const call of inputs) {
            // explain() reads every rule and every field, with no index and no memo.
            expect(set.decide(call)).toEqual(set.explain(call).decision);
            // Asked twice: the cached shape gives the same answer.
            expect(set.decide(call)).toEqual(set.explain(call).decision);
            const item = { ...call, args: {} };
            expect(set.listed(item)).toBe(listedByEveryRule(set, item));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a shared condition is compiled once, and a failing one still denies on a deny rule', () => {
    const set = policy(
      "defaults: { '*': allow }",
      'rules:',
      "  - { name: allow-a, effect: allow, tenant: globex, when: 'args.missing == 1' }",
      "  - { name: deny-b, effect: deny, when: 'args.missing == 1' }",
    );
    expect(set.rules[0]?.condition).toBe(set.rules[1]?.condition);
    expect(set.decide(input())).toMatchObject({ effect: 'deny', rule: 'deny-b' });
  });

  it('a tool of another shape meets only its own rules, after a call of the first shape', () => {
    const set = policy(
      "defaults: { '*': deny }",
      'rules:',
      '  - { name: allow-read, effect: allow, server: fs, tool: read_file }',
      '  - { name: allow-kb, effect: allow, server: kb }',
    );
    expect(set.decide(input())).toMatchObject({ effect: 'allow', rule: 'allow-read' });
    expect(set.decide(input({ tool: 'write_file' }))).toMatchObject({ effect: 'deny', rule: 'default' });
    expect(set.decide(input({ server: 'kb', tool: 'write_file' }))).toMatchObject({ rule: 'allow-kb' });
    expect(set.decide(input({ method: 'prompts/get', tool: undefined, prompt: 'read_file' }))).toMatchObject({
      rule: 'default',
    });
  });

  it('a rule that repeats an earlier one of its shape (effect, mode, condition) is walked once, and the first decides', () => {
    const set = policy(
      "defaults: { '*': deny }",
      'rules:',
      "  - { name: deny-1, effect: deny, server: fs, when: 'usage.callsLastMinute >= 10' }",
      "  - { name: allow-1, effect: allow, server: fs, when: 'anomaly.score < 0.5' }",
      "  - { name: deny-2, effect: deny, server: 'f*', when: 'usage.callsLastMinute >= 10' }",
      "  - { name: allow-2, effect: allow, tool: 'read_*', when: 'anomaly.score < 0.5' }",
      "  - { name: deny-3, effect: deny, mode: dry-run, when: 'usage.callsLastMinute >= 10' }",
      "  - { name: allow-acme, effect: allow, tenant: acme, when: 'anomaly.score < 0.5' }",
      "  - { name: allow-3, effect: allow, when: 'anomaly.score < 0.5' }",
    );
    const shape = new RuleIndex(set.rules).candidates(input());
    // deny-2 and allow-2, allow-3 repeat deny-1 and allow-1; allow-acme's tenant is still open.
    expect(shape.rules.map((rule) => rule.name)).toEqual(['deny-1', 'allow-1', 'deny-3', 'allow-acme']);
    const busy = { usage: { callsLastMinute: 50, callsLastHour: 50 } };
    expect(set.decide(input())).toMatchObject({ effect: 'allow', rule: 'allow-1' });
    expect(set.decide(input(busy))).toMatchObject({ effect: 'deny', rule: 'deny-1', mode: 'enforce' });
    expect(set.decide(input({ anomaly: { score: 0.9 } }))).toMatchObject({ effect: 'deny', rule: 'default' });
    for (const call of [input(), input(busy), input({ anomaly: { score: 0.9 } })]) {
      expect(set.decide(call)).toEqual(set.explain(call).decision);
      expect(set.listed(call)).toBe(listedByEveryRule(set, call));
    }
  });
});
