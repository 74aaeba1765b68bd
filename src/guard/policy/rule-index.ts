/**
 * Which rules a decision needs to look at. A rule's match fields on the call's shape (method,
 * server, tool, prompt, resource) give the same answer for every call of that shape, so the
 * rules that pass them are found once per shape and kept (in evaluation order); a decision then
 * checks only the remaining fields (tenant, tier, project, role, principal) and the conditions.
 * A set of 100 rules over ten servers thus costs a call the ten rules of its server.
 *
 * Each rule also gets the slot of its condition: identical conditions (the same CEL text) are
 * one compiled program, and a decision evaluates each at most once (a condition reads only the
 * decision's own input, so its value cannot differ between two rules of one decision).
 */
import type { Condition } from './condition.ts';
import type { PolicyInput } from './policy-input.ts';
import type { CompiledRule, FieldTest } from './policy-rule.ts';
import type { MatchField } from './policy-schema.ts';

/** A rule as one call shape meets it. */
export type Candidate = {
  readonly rule: CompiledRule;
  /** The match fields the shape did not settle. */
  readonly rest: readonly FieldTest[];
  /** The condition's slot in a decision's memo; -1 without a condition. */
  readonly slot: number;
};

const SHAPE_FIELDS: ReadonlySet<MatchField> = new Set(['method', 'server', 'tool', 'prompt', 'resource']);

/** Shapes kept; past it the cache starts over (resource URIs are many). */
const MAX_SHAPES = 4_096;

const ABSENT = '\u0001';

export class RuleIndex {
  readonly #rules: readonly CompiledRule[];
  readonly #slots: readonly number[];
  readonly #byShape = new Map<string, readonly Candidate[]>();
  /** How many distinct conditions the rules have: a decision's memo size. */
  readonly conditions: number;

  constructor(rules: readonly CompiledRule[]) {
    this.#rules = rules;
    const slots = new Map<Condition, number>();
    this.#slots = rules.map((rule) => {
      if (rule.condition === undefined) return -1;
      let slot = slots.get(rule.condition);
      if (slot === undefined) {
        slot = slots.size;
        slots.set(rule.condition, slot);
      }
      return slot;
    });
    this.conditions = slots.size;
  }

  /** The rules that pass the input's shape fields, in evaluation order. */
  candidates(input: PolicyInput): readonly Candidate[] {
    const key = `${input.method}\u0000${input.server}\u0000${input.tool ?? ABSENT}\u0000${input.prompt ?? ABSENT}\u0000${input.resource ?? ABSENT}`;
    let found = this.#byShape.get(key);
    if (found === undefined) {
      found = this.#build(input);
      if (this.#byShape.size >= MAX_SHAPES) this.#byShape.clear();
      this.#byShape.set(key, found);
    }
    return found;
  }

  #build(input: PolicyInput): readonly Candidate[] {
    const out: Candidate[] = [];
    this.#rules.forEach((rule, index) => {
      const rest: FieldTest[] = [];
      for (const test of rule.fields) {
        if (!SHAPE_FIELDS.has(test.field)) {
          rest.push(test);
          continue;
        }
        const value = test.read(input);
        if (value === undefined || !test.matches(value)) return;
      }
      out.push(Object.freeze({ rule, rest: Object.freeze(rest), slot: this.#slots[index] as number }));
    });
    return Object.freeze(out);
  }
}

/** Whether the input passes the fields its shape left open. */
export function restMatches(candidate: Candidate, input: PolicyInput): boolean {
  for (const test of candidate.rest) {
    const value = test.read(input);
    if (value === undefined || !test.matches(value)) return false;
  }
  return true;
}
