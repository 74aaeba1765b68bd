/**
 * A rule as a decision uses it: its match fields compiled to globs, its condition to a CEL
 * program, and where it was written. Built once per load.
 */
import type { Condition } from './condition.ts';
import { compileGlobs, type Matcher } from './glob.ts';
import type { PolicyInput } from './policy-input.ts';
import type { Effect, MatchField, Mode, RuleSpec } from './policy-schema.ts';
import { MATCH_FIELDS } from './policy-schema.ts';

/** Where a rule (or a default) was written. */
export type Origin = { readonly file: string; readonly line: number };

export type FieldTest = {
  readonly field: MatchField;
  /** The globs as written, for listings. */
  readonly globs: readonly string[];
  readonly read: (input: PolicyInput) => string | undefined;
  readonly matches: Matcher;
};

export type CompiledRule = {
  readonly name: string;
  readonly effect: Effect;
  /** Always `enforce` for an allow rule: the mode only changes what a deny does. */
  readonly mode: Mode;
  readonly reason?: string;
  readonly origin: Origin;
  readonly fields: readonly FieldTest[];
  readonly condition?: Condition;
};

/** What one rule made of one input. */
export type RuleOutcome =
  /** A match field did not match; the condition was not evaluated. */
  | { readonly kind: 'no-match'; readonly field: MatchField }
  | { readonly kind: 'match' }
  | { readonly kind: 'condition-false' }
  /** The condition failed: a deny rule counts it as a match, an allow rule as no match. */
  | { readonly kind: 'condition-error'; readonly message: string };

export function compileRule(
  spec: RuleSpec,
  fileMode: Mode,
  origin: Origin,
  condition: Condition | undefined,
): CompiledRule {
  const fields: FieldTest[] = [];
  for (const field of MATCH_FIELDS) {
    const globs = spec[field];
    if (globs !== undefined)
      fields.push({
        field,
        globs: Object.freeze(typeof globs === 'string' ? [globs] : [...globs]),
        read: FIELD_VALUES[field],
        matches: compileGlobs(globs),
      });
  }
  Object.freeze(fields);
  return Object.freeze({
    name: spec.name,
    effect: spec.effect,
    mode: spec.effect === 'allow' ? 'enforce' : (spec.mode ?? fileMode),
    ...(spec.reason === undefined ? {} : { reason: spec.reason }),
    origin,
    fields,
    ...(condition === undefined ? {} : { condition }),
  });
}

/** The value each match field is tested against; a field that does not apply never matches. */
const FIELD_VALUES: Readonly<Record<MatchField, (input: PolicyInput) => string | undefined>> = {
  tenant: (input) => input.tenant.id,
  tier: (input) => input.tenant.tier,
  project: (input) => input.project,
  role: (input) => input.principal.role,
  principal: (input) => input.principal.subject,
  server: (input) => input.server,
  method: (input) => input.method,
  tool: (input) => input.tool,
  prompt: (input) => input.prompt,
  resource: (input) => input.resource,
};

/** The first match field the input fails, or `undefined` when all of them match. */
export function failedField(rule: CompiledRule, input: PolicyInput): MatchField | undefined {
  for (const test of rule.fields) {
    const value = test.read(input);
    if (value === undefined || !test.matches(value)) return test.field;
  }
  return undefined;
}
