/**
 * Table cases for a policy (`mcplane policy test`): each an input and the decision expected for
 * it, run against a compiled {@link PolicySet}.
 *
 * ```yaml
 * cases:
 *   - name: acme reads its own data
 *     input: { tenant: acme, server: fs, tool: read_file, args: { path: /data/acme/a.txt } }
 *     expect: allow
 *     rule: fs-own-data    # optional: the rule that must decide ("default" for the default)
 *     mode: enforce        # optional
 *     listed: true         # optional: whether lists show the item
 * ```
 */
import { z } from 'zod';
import type { Decision } from '../pipeline.ts';
import { PolicyInputFileSchema, toPolicyInput } from './policy-input-file.ts';
import { EffectSchema, ModeSchema } from './policy-schema.ts';
import type { PolicySet } from './policy-set.ts';

export const PolicyCaseSchema = z
  .object({
    name: z.string().min(1),
    input: PolicyInputFileSchema,
    expect: EffectSchema,
    rule: z.string().min(1).optional(),
    mode: ModeSchema.optional(),
    listed: z.boolean().optional(),
  })
  .strict();

export const PolicyCasesSchema = z
  .object({ cases: z.array(PolicyCaseSchema).min(1, 'list at least one case') })
  .strict();

export type PolicyCase = z.output<typeof PolicyCaseSchema>;

/** One case that did not come out as expected. */
export type CaseMismatch = {
  readonly index: number;
  readonly name: string;
  /** What was expected and what came out, each in a few words. */
  readonly expected: string;
  readonly actual: string;
};

/** The cases that do not hold, in order. `now` stands in for inputs without `request.time`. */
export function runCases(set: PolicySet, cases: readonly PolicyCase[], now: Date): CaseMismatch[] {
  const mismatches: CaseMismatch[] = [];
  cases.forEach((testCase, index) => {
    const input = toPolicyInput(testCase.input, now);
    const decision = set.decide(input);
    const listed = testCase.listed === undefined ? undefined : set.listed(input);
    const holds =
      decision.effect === testCase.expect &&
      (testCase.rule === undefined || decision.rule === testCase.rule) &&
      (testCase.mode === undefined || decision.mode === testCase.mode) &&
      (testCase.listed === undefined || listed === testCase.listed);
    if (!holds) {
      mismatches.push({
        index,
        name: testCase.name,
        expected: describeExpectation(testCase),
        actual: describeDecision(decision, listed),
      });
    }
  });
  return mismatches;
}

/** A decision in a few words: `deny by rule no-etc (enforce)`. */
export function describeDecision(decision: Decision, listed?: boolean): string {
  const by = decision.rule === 'default' ? 'the tenant default' : `rule ${decision.rule}`;
  const list = listed === undefined ? '' : listed ? ', listed' : ', not listed';
  return `${decision.effect} by ${by} (${decision.mode})${list}`;
}

function describeExpectation(testCase: PolicyCase): string {
  const by =
    testCase.rule === undefined
      ? ''
      : testCase.rule === 'default'
        ? ' by the tenant default'
        : ` by rule ${testCase.rule}`;
  const mode = testCase.mode === undefined ? '' : ` (${testCase.mode})`;
  const list = testCase.listed === undefined ? '' : testCase.listed ? ', listed' : ', not listed';
  return `${testCase.expect}${by}${mode}${list}`;
}
