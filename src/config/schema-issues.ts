import type { core } from 'zod';
import type { ConfigPath, PathProblem } from './config-path.ts';

type Issue = core.$ZodIssue;

/**
 * Turns zod's issues into problems an operator can act on: one per unknown key, the reason a
 * record key was refused, the closest branch of a union instead of "Invalid input".
 * `input` is the value that was validated; it is only looked at, never quoted.
 */
export function schemaProblems(issues: readonly Issue[], input: unknown): PathProblem[] {
  return issues.flatMap((issue) => issueProblems(issue, [], input));
}

function issueProblems(issue: Issue, base: ConfigPath, input: unknown): PathProblem[] {
  const path = [
    ...base,
    ...issue.path.map((segment) => (typeof segment === 'number' ? segment : String(segment))),
  ];
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
    case 'invalid_key':
      return issue.issues.map((inner) => ({ path, message: inner.message }));
    case 'invalid_union':
      return unionProblems(issue, path, input);
    case 'invalid_type':
      if (valueAt(input, path) === undefined) return [{ path, message: 'missing required key' }];
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

function unionProblems(issue: core.$ZodIssueInvalidUnion, path: ConfigPath, input: unknown): PathProblem[] {
  if (valueAt(input, path) === undefined) return [{ path, message: 'missing required key' }];
  // A branch that failed for a reason other than the value's type is the one the author meant
  // (`servers: [1]` is meant as a list), so its own issues say more than the union's.
  const meant = issue.errors.find((branch) => branch.some((inner) => !isTopLevelTypeMismatch(inner)));
  if (meant !== undefined) return meant.flatMap((inner) => issueProblems(inner, path, input));
  const expected = [...new Set(issue.errors.map((branch) => describeExpected(branch[0])))];
  if (expected.length === 0) return [{ path, message: issue.message }];
  return [{ path, message: `expected ${expected.join(' or ')}` }];
}

function isTopLevelTypeMismatch(issue: Issue): boolean {
  return issue.path.length === 0 && (issue.code === 'invalid_type' || issue.code === 'invalid_value');
}

function describeExpected(issue: Issue | undefined): string {
  if (issue?.code === 'invalid_type') return issue.expected;
  if (issue?.code === 'invalid_value') return issue.values.map((value) => JSON.stringify(value)).join(' or ');
  return issue?.message ?? 'another value';
}

function valueAt(input: unknown, path: ConfigPath): unknown {
  let value = input;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}
