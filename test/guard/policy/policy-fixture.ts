import { ConfigError, type ConfigProblem } from '../../../src/config/config-error.ts';
import { compilePolicies } from '../../../src/guard/policy/load-policies.ts';
import type { PolicyInput } from '../../../src/guard/policy/policy-input.ts';
import type { PolicySet } from '../../../src/guard/policy/policy-set.ts';

/** Joins lines, so a test's YAML reads as it would in a file. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

/** Compiles one policy file named `policy.yaml`. */
export function policy(...lines: string[]): PolicySet {
  return compilePolicies([{ file: 'policy.yaml', text: yaml(...lines) }]);
}

/** The problems compiling these files reports; fails the test if they compile. */
export function problemsIn(files: Record<string, string>): readonly ConfigProblem[] {
  try {
    compilePolicies(Object.entries(files).map(([file, text]) => ({ file, text })));
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the policies to be refused');
}

/** Every problem as `file:line:column path: message`, the way the CLI prints them. */
export function problemLines(files: Record<string, string>): string[] {
  return problemsIn(files).map(
    ({ source, line, column, path, message }) => `${source}:${line}:${column} ${path}: ${message}`,
  );
}

/** A tools/call of fs's read_file by acme's key, on a Monday at 10:15 UTC, with everything usual. */
export function input(overrides: Partial<PolicyInput> = {}): PolicyInput {
  return {
    principal: { subject: 'key:acme-1', role: 'reader', via: 'api-key', scopes: ['tools:call'] },
    tenant: { id: 'acme', tier: 'standard' },
    server: 'fs',
    method: 'tools/call',
    tool: 'read_file',
    args: { path: '/data/acme/a.txt' },
    request: { time: new Date('2026-03-02T10:15:00Z'), face: 'streamable-http' },
    usage: { callsLastMinute: 5, callsLastHour: 120 },
    anomaly: { score: 0.1 },
    ...overrides,
  };
}
