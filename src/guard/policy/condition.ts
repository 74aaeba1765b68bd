/**
 * A rule's `when:` condition, compiled once when the policies load and evaluated per decision.
 * The CEL library behind it is an implementation detail of a {@link ConditionEngine}, so the
 * benchmark can put two libraries side by side on the same policy.
 */
import type { PolicyInput } from './policy-input.ts';

/** Why a condition could not be evaluated (a missing field, a wrong type). Never thrown. */
export class ConditionFailure {
  readonly message: string;
  constructor(message: string) {
    this.message = message;
  }
}

declare const bindingsBrand: unique symbol;

/** What an engine builds from one input, once per decision, for every condition to read. */
export type ConditionBindings = { readonly [bindingsBrand]: true };

export type Condition = {
  /** The CEL text as written. */
  readonly source: string;
  /**
   * Whether the condition reads `args`. Such a condition cannot be decided for a list (there
   * are no arguments yet), so a listed item is decided as if it might hold either way.
   */
  readonly readsArgs: boolean;
  /** `true` or `false`, or a failure when the condition errs or yields something not boolean. */
  evaluate(bindings: ConditionBindings): boolean | ConditionFailure;
};

export type ConditionEngine = {
  /** The library, for benchmarks and `mcplane policy explain`. */
  readonly name: string;
  /** Compiles a condition, or says what is wrong with it (a syntax error, an unknown variable). */
  compile(source: string): Condition | { readonly problem: string };
  bind(input: PolicyInput): ConditionBindings;
};
