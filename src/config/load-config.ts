import type { core } from 'zod';
import { ConfigError } from './config-error.ts';
import { isWithin, type PathProblem } from './config-path.ts';
import { deepFreeze } from './deep-freeze.ts';
import { interpolateEnv, redactSubstitutions, type Interpolation } from './env-interpolation.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { schemaProblems } from './schema-issues.ts';
import { parseYamlSource, placeProblems, readSourceText } from './yaml-document.ts';

export type ParseConfigOptions = {
  /** Where the text came from, used in every problem line (normally the file path). */
  readonly source: string;
  /** Where `${NAME}` references are looked up. */
  readonly env: Readonly<Record<string, string | undefined>>;
};

/**
 * Reads and validates a config file. Throws {@link ConfigError} listing every problem,
 * including a file that cannot be read.
 */
export async function loadConfig(
  path: string,
  env: ParseConfigOptions['env'] = process.env,
): Promise<Config> {
  return parseConfig(await readSourceText(path), { source: path, env });
}

/**
 * Parses YAML text into a validated, deep-frozen config. Environment references are resolved
 * before validation so the schema checks the strings the gateway will actually use.
 * Throws {@link ConfigError} listing every problem with its YAML path and line.
 */
export function parseConfig(text: string, options: ParseConfigOptions): Config {
  const yaml = parseYamlSource(text, options.source);
  const interpolation = interpolateEnv(yaml.value, options.env);
  const result = ConfigSchema.safeParse(interpolation.value);
  const problems = [
    ...interpolation.problems,
    ...(result.success ? [] : relevantSchemaProblems(result.error.issues, interpolation)),
  ];
  if (problems.length > 0 || !result.success) {
    throw new ConfigError(options.source, placeProblems(yaml, problems));
  }
  return deepFreeze(result.data);
}

function relevantSchemaProblems(
  issues: readonly core.$ZodIssue[],
  interpolation: Interpolation,
): PathProblem[] {
  const unresolved = interpolation.problems.map((problem) => problem.path);
  return (
    schemaProblems(issues, interpolation.value)
      // A string with an unset variable was left as written; what the schema says about it is noise.
      .filter((problem) => !unresolved.some((path) => isWithin(problem.path, path)))
      .map((problem) => redactSubstitutions(problem, interpolation.substitutions))
  );
}
