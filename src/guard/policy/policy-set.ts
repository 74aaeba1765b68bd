/**
 * A compiled set of policies and the decisions it makes. Built by `loadPolicies` once per load;
 * immutable, so a reload builds a new set and swaps it in.
 *
 * ## Evaluation order
 *
 * 1. Rules are taken in one order: files by name (byte order of the file name), and rules in
 *    the order they are written in each file.
 * 2. A rule matches when every match field it names matches the input (unnamed fields match
 *    anything; a field that does not apply to the input, such as `tool` on a `prompts/get`, or
 *    `role` for a principal without one, never matches) and its `when:` condition holds.
 *    A condition that fails to evaluate (a missing argument, a wrong type) counts as holding
 *    for a deny rule and as not holding for an allow rule: an error never grants access.
 * 3. The first matching deny rule in `enforce` mode decides: the call is denied, whatever
 *    allow rules match, before or after it.
 * 4. Otherwise, the first matching deny rule in `dry-run` mode decides: the decision is a deny
 *    in mode `dry-run`, and the call goes ahead (audit records "would have been denied").
 * 5. Otherwise, the first matching allow rule decides: allowed.
 * 6. Otherwise, the tenant's default decides: `defaults.<tenant id>`, else `defaults['*']`,
 *    else allow. A default deny takes the mode of the file that set it.
 *
 * Lists are decided per item with {@link PolicySet.listed}: the item is hidden when the call
 * would be denied (in `enforce` mode) whatever its arguments. Rules whose condition reads
 * `args` cannot be decided without arguments, so a deny among them does not hide an item, and
 * an allow among them counts as matching; the call itself is still decided in full.
 */
import type { Decision } from '../pipeline.ts';
import type { Condition, ConditionBindings, ConditionEngine } from './condition.ts';
import { ConditionFailure } from './condition.ts';
import type { PolicyInput } from './policy-input.ts';
import { failedField, type CompiledRule, type Origin, type RuleOutcome } from './policy-rule.ts';
import { ALLOWS, DENIES, DRY_RUN_DENIES, RuleIndex, restMatches } from './rule-index.ts';
import type { Effect, Mode } from './policy-schema.ts';

/** What happens to a tenant's calls that no rule matches. */
export type TenantDefault = { readonly effect: Effect; readonly mode: Mode; readonly origin?: Origin };

const ALLOW_BY_DEFAULT: TenantDefault = { effect: 'allow', mode: 'enforce' };

/** Every rule's outcome for one input, and what decided. */
export type Explanation = {
  readonly decision: Decision;
  /** The deciding rule, or `undefined` when the tenant default decided. */
  readonly decidedBy: CompiledRule | undefined;
  readonly tenantDefault: TenantDefault;
  readonly rules: readonly { readonly rule: CompiledRule; readonly outcome: RuleOutcome }[];
};

export class PolicySet {
  /** Every rule, in evaluation order. */
  readonly rules: readonly CompiledRule[];
  /** The policy files, in the order their rules are evaluated. */
  readonly files: readonly string[];
  readonly #defaults: ReadonlyMap<string, TenantDefault>;
  readonly #engine: ConditionEngine;
  readonly #index: RuleIndex;
  readonly #conditions: Conditions;

  constructor(options: {
    rules: readonly CompiledRule[];
    defaults: ReadonlyMap<string, TenantDefault>;
    files: readonly string[];
    engine: ConditionEngine;
  }) {
    this.rules = Object.freeze([...options.rules]);
    this.files = Object.freeze([...options.files]);
    this.#defaults = options.defaults;
    this.#engine = options.engine;
    this.#index = new RuleIndex(this.rules);
    this.#conditions = new Conditions(this.#engine, this.#index.conditions);
    Object.freeze(this);
  }

  /** The default that applies to a tenant. */
  defaultFor(tenantId: string): TenantDefault {
    return this.#defaults.get(tenantId) ?? this.#defaults.get('*') ?? ALLOW_BY_DEFAULT;
  }

  /** The decision for one call (see the evaluation order above). */
  decide(input: PolicyInput): Decision {
    const shape = this.#index.candidates(input);
    const { kinds, slots, rests } = shape;
    const conditions = this.#conditions.start(input);
    let dryRunDeny = -1;
    let allow = -1;
    for (let index = 0; index < shape.count; index++) {
      const kind = kinds[index];
      // Past the first of its kind, a rule can no longer change the decision: skip its work.
      if (kind === ALLOWS ? allow >= 0 : kind === DRY_RUN_DENIES && dryRunDeny >= 0) continue;
      const rest = rests[index];
      if (rest !== undefined && !restMatches(rest, input)) continue;
      const slot = slots[index] as number;
      if (slot >= 0 && !conditions.hold(shape.rules[index] as CompiledRule, slot, kind !== ALLOWS)) continue;
      if (kind === ALLOWS) allow = index;
      else if (kind === DENIES) return ruleDecision(shape.rules[index] as CompiledRule);
      else dryRunDeny = index;
    }
    const decider = dryRunDeny >= 0 ? dryRunDeny : allow;
    return decider < 0
      ? defaultDecision(this.defaultFor(input.tenant.id))
      : ruleDecision(shape.rules[decider] as CompiledRule);
  }

  /** What {@link decide} answers for every call of a tenant when there are no rules at all. */
  decidedByDefault(tenantId: string): Decision | undefined {
    return this.rules.length > 0 ? undefined : defaultDecision(this.defaultFor(tenantId));
  }

  /**
   * What {@link listed} answers for every item a tenant's list may hold, when that does not
   * depend on the item: with no rules at all, the tenant default decides each one alike.
   * Undefined when rules exist (then ask per item).
   */
  listedByDefault(tenantId: string): boolean | undefined {
    if (this.rules.length > 0) return undefined;
    const fallback = this.defaultFor(tenantId);
    return fallback.effect === 'allow' || fallback.mode === 'dry-run';
  }

  /**
   * Whether a list shows the item `input` describes (its `args` are ignored): false only when
   * every call to it would be denied in `enforce` mode, whatever its arguments.
   */
  listed(input: PolicyInput): boolean {
    const shape = this.#index.candidates(input);
    const { kinds, slots, rests } = shape;
    const conditions = this.#conditions.start(input);
    let allowed = false;
    for (let index = 0; index < shape.count; index++) {
      const kind = kinds[index];
      if (kind === ALLOWS && allowed) continue;
      if (kind === DRY_RUN_DENIES) continue;
      const rest = rests[index];
      if (rest !== undefined && !restMatches(rest, input)) continue;
      const slot = slots[index] as number;
      if (slot >= 0) {
        const rule = shape.rules[index] as CompiledRule;
        if ((rule.condition as Condition).readsArgs) {
          allowed ||= kind === ALLOWS;
          continue;
        }
        if (!conditions.hold(rule, slot, kind !== ALLOWS)) continue;
      }
      if (kind === DENIES) return false;
      allowed = true;
    }
    if (allowed) return true;
    const fallback = this.defaultFor(input.tenant.id);
    return fallback.effect === 'allow' || fallback.mode === 'dry-run';
  }

  /** Every rule's outcome for `input` and the decision, as {@link decide} makes it. */
  explain(input: PolicyInput): Explanation {
    const bindings = this.#engine.bind(input);
    const rules = this.rules.map((rule) => ({ rule, outcome: outcomeOf(rule, input, bindings) }));
    const matched = rules.filter(({ rule, outcome }) => counts(rule, outcome)).map(({ rule }) => rule);
    const decidedBy =
      matched.find((rule) => rule.effect === 'deny' && rule.mode === 'enforce') ??
      matched.find((rule) => rule.effect === 'deny') ??
      matched.find((rule) => rule.effect === 'allow');
    const tenantDefault = this.defaultFor(input.tenant.id);
    const decision = decidedBy === undefined ? defaultDecision(tenantDefault) : ruleDecision(decidedBy);
    return { decision, decidedBy, tenantDefault, rules };
  }
}

const UNKNOWN = 0;
const HOLDS = 1;
const DOES_NOT_HOLD = 2;
const FAILED = 3;

/**
 * The conditions of one decision: the bindings built at the first condition, and each distinct
 * condition evaluated at most once. A failure (a missing argument, a wrong type) errs on the safe
 * side: a deny rule holds, so the call is denied; an allow rule does not.
 *
 * One per set, started afresh by each decision: decisions are synchronous and none runs inside
 * another, so they never share a memo.
 */
class Conditions {
  readonly #engine: ConditionEngine;
  readonly #memo: Uint8Array;
  #input: PolicyInput | undefined;
  #bindings: ConditionBindings | undefined;

  constructor(engine: ConditionEngine, count: number) {
    this.#engine = engine;
    this.#memo = new Uint8Array(count);
  }

  start(input: PolicyInput): this {
    this.#memo.fill(UNKNOWN);
    this.#input = input;
    this.#bindings = undefined;
    return this;
  }

  /** Whether `rule`'s condition (in `slot`) holds; `failureHolds` for a deny rule. */
  hold(rule: CompiledRule, slot: number, failureHolds: boolean): boolean {
    let result = this.#memo[slot];
    if (result === UNKNOWN) {
      this.#bindings ??= this.#engine.bind(this.#input as PolicyInput);
      const value = (rule.condition as Condition).evaluate(this.#bindings);
      result = value instanceof ConditionFailure ? FAILED : value ? HOLDS : DOES_NOT_HOLD;
      this.#memo[slot] = result;
    }
    return result === HOLDS || (result === FAILED && failureHolds);
  }
}

function outcomeOf(rule: CompiledRule, input: PolicyInput, bindings: ConditionBindings): RuleOutcome {
  const field = failedField(rule, input);
  if (field !== undefined) return { kind: 'no-match', field };
  if (rule.condition === undefined) return { kind: 'match' };
  const result = rule.condition.evaluate(bindings);
  if (result instanceof ConditionFailure) return { kind: 'condition-error', message: result.message };
  return result ? { kind: 'match' } : { kind: 'condition-false' };
}

function counts(rule: CompiledRule, outcome: RuleOutcome): boolean {
  return outcome.kind === 'match' || (outcome.kind === 'condition-error' && rule.effect === 'deny');
}

function ruleDecision(rule: CompiledRule): Decision {
  const decision = { effect: rule.effect, rule: rule.name, mode: rule.mode };
  return rule.reason === undefined ? decision : { ...decision, reason: rule.reason };
}

function defaultDecision(fallback: TenantDefault): Decision {
  return {
    effect: fallback.effect,
    rule: 'default',
    mode: fallback.effect === 'allow' ? 'enforce' : fallback.mode,
  };
}
