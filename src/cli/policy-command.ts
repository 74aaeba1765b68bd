/**
 * `mcplane policy test <dir> --cases <file>` and `mcplane policy explain <dir> --input <file>`.
 *
 * Exit codes: 0 every case holds (test) or the explanation was printed (explain); 1 a case
 * does not hold (test); 2 wrong usage or a file that cannot be used (a policy file, the cases,
 * the input), with each problem and its line on stderr.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.ts';
import type { PathProblem } from '../config/config-path.ts';
import {
  parseYamlSource,
  placeProblems,
  readSourceText,
  validateYamlSource,
} from '../config/yaml-document.ts';
import { locatePath } from '../config/yaml-locator.ts';
import { loadPolicies } from '../guard/policy/load-policies.ts';
import { PolicyCasesSchema, runCases } from '../guard/policy/policy-cases.ts';
import { PolicyInputFileSchema, toPolicyInput } from '../guard/policy/policy-input-file.ts';
import type { PolicySet } from '../guard/policy/policy-set.ts';
import type { CommandIo } from './command-io.ts';
import { formatExplanation } from './policy-explanation.ts';

const USAGE = `usage: mcplane policy test <dir> --cases <cases.yaml>
       mcplane policy explain <dir> --input <input.yaml|input.json>
`;

/** Thrown for a usage problem; its message is printed with the usage text. */
class UsageError extends Error {}

export async function policyCommand(
  args: string[],
  io: CommandIo,
  now: () => Date = () => new Date(),
): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: { cases: { type: 'string' }, input: { type: 'string' } },
    });
    const [subcommand, dir, ...extra] = positionals;
    if (dir === undefined || extra.length > 0)
      throw new UsageError('expected a subcommand and a policy folder');
    if (subcommand === 'test') {
      if (values.cases === undefined) throw new UsageError('policy test needs --cases <file>');
      return await testCommand(dir, values.cases, io, now());
    }
    if (subcommand === 'explain') {
      if (values.input === undefined) throw new UsageError('policy explain needs --input <file>');
      return await explainCommand(dir, values.input, io, now());
    }
    throw new UsageError(`unknown subcommand ${JSON.stringify(subcommand)}`);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`${error.format()}\n`);
      return 2;
    }
    if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${(error as Error).message}\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

async function testCommand(dir: string, casesFile: string, io: CommandIo, now: Date): Promise<number> {
  const policies = await loadPolicies(dir);
  const yaml = parseYamlSource(await readSourceText(casesFile, 'cases file'), casesFile);
  const { cases } = validateYamlSource(yaml, PolicyCasesSchema);
  const names = new Set(['default', ...policies.rules.map((rule) => rule.name)]);
  const unknown: PathProblem[] = cases.flatMap((testCase, index) =>
    testCase.rule === undefined || names.has(testCase.rule)
      ? []
      : [{ path: ['cases', index, 'rule'], message: `no rule named "${testCase.rule}" in ${dir}` }],
  );
  if (unknown.length > 0) throw new ConfigError(casesFile, placeProblems(yaml, unknown));

  const mismatches = runCases(policies, cases, now);
  for (const mismatch of mismatches) {
    const { line } = locatePath(yaml.document, yaml.lineCounter, ['cases', mismatch.index]);
    io.stdout(
      `FAIL ${casesFile}:${line} ${mismatch.name}: expected ${mismatch.expected}, got ${mismatch.actual}\n`,
    );
  }
  const failed = mismatches.length;
  const summary = `${cases.length} case${cases.length === 1 ? '' : 's'}: ${cases.length - failed} passed`;
  io.stdout(`${summary}${failed === 0 ? '' : `, ${failed} failed`}\n`);
  return failed === 0 ? 0 : 1;
}

async function explainCommand(dir: string, inputFile: string, io: CommandIo, now: Date): Promise<number> {
  const policies: PolicySet = await loadPolicies(dir);
  const yaml = parseYamlSource(await readSourceText(inputFile, 'input file'), inputFile);
  const input = toPolicyInput(validateYamlSource(yaml, PolicyInputFileSchema), now);
  io.stdout(formatExplanation(policies.explain(input), policies.listed(input)));
  return 0;
}
