/** `mcplane policy explain`'s report: the decision, what the client sees, and every rule's outcome. */
import { describeDecision } from '../guard/policy/policy-cases.ts';
import type { CompiledRule, RuleOutcome } from '../guard/policy/policy-rule.ts';
import type { Explanation } from '../guard/policy/policy-set.ts';

/** The explanation as lines of text, newline-terminated. */
export function formatExplanation(explanation: Explanation, listed: boolean): string {
  const { decision, decidedBy, tenantDefault } = explanation;
  const lines = [
    `decision: ${describeDecision(decision)}${decidedBy === undefined ? '' : ` at ${where(decidedBy)}`}`,
    `the client: ${clientView(explanation)}`,
    `in lists: ${listed ? 'shown' : 'hidden'}`,
    '',
    'rules, in evaluation order:',
  ];
  if (explanation.rules.length === 0) lines.push('  (none)');
  const width = Math.max(0, ...explanation.rules.map(({ rule }) => rule.name.length));
  for (const { rule, outcome } of explanation.rules) {
    const mark = rule === decidedBy ? '>' : ' ';
    const effect = rule.effect === 'deny' && rule.mode === 'dry-run' ? 'deny (dry-run)' : rule.effect;
    lines.push(
      `${mark} ${rule.name.padEnd(width)}  ${effect.padEnd(14)}  ${outcomeText(rule, outcome)}  ${where(rule)}`,
    );
  }
  const origin =
    tenantDefault.origin === undefined ? 'no default set: allow' : `set at ${where(tenantDefault.origin)}`;
  lines.push(
    '',
    `tenant default: ${tenantDefault.effect} (${origin})${decidedBy === undefined ? ', which decided' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}

function clientView({ decision }: Explanation): string {
  if (decision.effect === 'allow') return 'the call goes ahead';
  if (decision.mode === 'dry-run')
    return 'the call goes ahead (dry-run: audit records that it would have been denied)';
  if (decision.reason !== undefined) return `refused with the rule's reason: ${decision.reason}`;
  return 'refused as unknown (the same error as for a tool, prompt or resource that does not exist)';
}

function outcomeText(rule: CompiledRule, outcome: RuleOutcome): string {
  switch (outcome.kind) {
    case 'no-match':
      return `no match: ${outcome.field}`;
    case 'match':
      return 'matches';
    case 'condition-false':
      return 'no match: condition is false';
    case 'condition-error':
      return rule.effect === 'deny'
        ? `matches: the condition failed, which a deny rule counts as a match (${outcome.message})`
        : `no match: the condition failed, which an allow rule counts as no match (${outcome.message})`;
  }
}

function where(
  origin: { readonly origin: { file: string; line: number } } | { file: string; line: number },
): string {
  const { file, line } = 'origin' in origin ? origin.origin : origin;
  return `${file}:${line}`;
}
