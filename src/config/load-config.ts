import { readFile } from 'node:fs/promises';
import type { core } from 'zod';
import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { formatConfigPath, isWithin, type PathProblem } from './config-path.ts';
import { deepFreeze } from './deep-freeze.ts';
import { interpolateEnv, redactSubstitutions, type Interpolation } from './env-interpolation.ts';
import { ConfigSchema, type Config } from './schema.ts';
import { schemaProblems } from './schema-issues.ts';
import { locatePath } from './yaml-locator.ts';

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
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: unreadableMessage(error) }], { cause: error });
  }
  return parseConfig(text, { source: path, env });
}

/**
 * Parses YAML text into a validated, deep-frozen config. Environment references are resolved
 * before validation so the schema checks the strings the gateway will actually use.
 * Throws {@link ConfigError} listing every problem with its YAML path and line.
 */
export function parseConfig(text: string, options: ParseConfigOptions): Config {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = [...document.errors, ...document.warnings].map((error) => yamlProblem(error, lineCounter));
  if (syntax.length > 0) throw new ConfigError(options.source, syntax);

  const raw = documentValue(document);
  if (raw instanceof Error) {
    throw new ConfigError(options.source, [{ path: '', line: 1, column: 1, message: raw.message }]);
  }

  const interpolation = interpolateEnv(raw, options.env);
  const result = ConfigSchema.safeParse(interpolation.value);
  const problems = [
    ...interpolation.problems,
    ...(result.success ? [] : relevantSchemaProblems(result.error.issues, interpolation)),
  ];
  if (problems.length > 0 || !result.success) {
    const placedProblems = problems.map((problem) => placed(problem, document, lineCounter));
    throw new ConfigError(options.source, sortByPosition(placedProblems));
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

function documentValue(document: Document): unknown {
  try {
    return document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    // The yaml package throws here on alias bombs ("excessive alias count").
    return error instanceof Error ? error : new Error(String(error));
  }
}

function yamlProblem(error: YAMLError, lineCounter: LineCounter): ConfigProblem {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const message =
    error.code === 'MULTIPLE_DOCS'
      ? 'a config file holds a single YAML document; remove the extra "---"'
      : error.message;
  return { path: '', line, column: col, message };
}

function placed(problem: PathProblem, document: Document, lineCounter: LineCounter): ConfigProblem {
  const { line, column } = locatePath(document, lineCounter, problem.path);
  return { path: formatConfigPath(problem.path), line, column, message: problem.message };
}

function sortByPosition(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function unreadableMessage(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied reading the file';
  if (code === 'EISDIR') return 'is a directory, not a config file';
  return `cannot read the file${code === undefined ? '' : ` (${code})`}`;
}
