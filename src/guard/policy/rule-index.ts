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

/** What a rule does when it matches, as a small number for the decision loop. */
export const ALLOWS = 0;
export const DENIES = 1;
export const DRY_RUN_DENIES = 2;

/**
 * The rules one call shape meets, in evaluation order, as parallel arrays so that a decision
 * walks them without an object per rule: what each does, its condition's slot (-1 without one),
 * and the match fields the shape did not settle (`undefined` when it settled them all).
 *
 * A rule whose shape settled every field is left out when an earlier one of the same list does
 * the same thing (effect and mode) under the same condition, or under none: its outcome is that
 * one's in every decision, and a decision takes the first rule of its kind that matches, so it
 * could never decide. Rules sharing a condition thus cost a decision one step, not one each.
 */
export type ShapeRules = {
  readonly count: number;
  readonly rules: readonly CompiledRule[];
  readonly kinds: Uint8Array;
  readonly slots: Int32Array;
  readonly rests: readonly (readonly FieldTest[] | undefined)[];
};

const SHAPE_FIELDS: ReadonlySet<MatchField> = new Set(['method', 'server', 'tool', 'prompt', 'resource']);

/** Shapes kept; past it the cache starts over (resource URIs are many). */
const MAX_SHAPES = 4_096;

const ABSENT = '\u0001';

export class RuleIndex {
  readonly #rules: readonly CompiledRule[];
  readonly #slots: readonly number[];
  readonly #byShape = new Map<string, ShapeRules>();
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

  /** The rules that pass the input's shape fields, in evaluation order (see {@link ShapeRules}). */
  candidates(input: PolicyInput): ShapeRules {
    const key = `${input.method}\u0000${input.server}\u0000${input.tool ?? ABSENT}\u0000${input.prompt ?? ABSENT}\u0000${input.resource ?? ABSENT}`;
    let found = this.#byShape.get(key);
    if (found === undefined) {
      found = this.#build(input);
      if (this.#byShape.size >= MAX_SHAPES) this.#byShape.clear();
      this.#byShape.set(key, found);
    }
    return found;
  }

  #build(input: PolicyInput): ShapeRules {
    const rules: CompiledRule[] = [];
    const kinds: number[] = [];
    const slots: number[] = [];
    const rests: (readonly FieldTest[] | undefined)[] = [];
    const settled = new Set<string>();
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
      const kind = rule.effect === 'allow' ? ALLOWS : rule.mode === 'enforce' ? DENIES : DRY_RUN_DENIES;
      const slot = this.#slots[index] as number;
      if (rest.length === 0) {
        const same = `${kind}:${slot}`;
        if (settled.has(same)) return;
        settled.add(same);
      }
      rules.push(rule);
      kinds.push(kind);
      slots.push(slot);
      rests.push(rest.length === 0 ? undefined : Object.freeze(rest));
    });
    return Object.freeze({
      count: rules.length,
      rules: Object.freeze(rules),
      kinds: Uint8Array.from(kinds),
      slots: Int32Array.from(slots),
      rests: Object.freeze(rests),
    });
  }
}

/** Whether the input passes the fields its shape left open. */
export function restMatches(rest: readonly FieldTest[], input: PolicyInput): boolean {
  for (const test of rest) {
    const value = test.read(input);
    if (value === undefined || !test.matches(value)) return false;
  }
  return true;
}
