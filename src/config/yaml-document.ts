/**
 * Reading a YAML file whose problems must point at lines: the parsed document, its line counter
 * and its plain value, with every syntax problem (and an unreadable file) raised as a
 * {@link ConfigError}. Shared by the config file and the policy files, so both report problems
 * the same way.
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, type Document, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError, type ConfigProblem } from './config-error.ts';
import { formatConfigPath, type PathProblem } from './config-path.ts';
import { schemaProblems } from './schema-issues.ts';
import { locatePath } from './yaml-locator.ts';

/** A parsed YAML file: where its text came from, its document (for placing problems) and value. */
export type YamlSource = {
  readonly source: string;
  readonly document: Document;
  readonly lineCounter: LineCounter;
  /** The document as plain data; `null` for an empty document. */
  readonly value: unknown;
};

/** Reads a file as text, or throws {@link ConfigError} saying why it cannot be read. */
export async function readSourceText(path: string, kind = 'config file'): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [{ path: '', message: unreadableMessage(error, kind) }], { cause: error });
  }
}

/** Parses YAML text; throws {@link ConfigError} with the line of every syntax problem. */
export function parseYamlSource(text: string, source: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const syntax = [...document.errors, ...document.warnings].map((error) => yamlProblem(error, lineCounter));
  if (syntax.length > 0) throw new ConfigError(source, syntax);
  const value = documentValue(document);
  if (value instanceof Error) {
    throw new ConfigError(source, [{ path: '', line: 1, column: 1, message: value.message }]);
  }
  return { source, document, lineCounter, value };
}

/** Places path problems on the lines of `yaml`, in text order. */
export function placeProblems(yaml: YamlSource, problems: readonly PathProblem[]): ConfigProblem[] {
  return problems
    .map((problem) => placeProblem(yaml, problem))
    .sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function placeProblem(yaml: YamlSource, problem: PathProblem): ConfigProblem {
  const { line, column } = locatePath(yaml.document, yaml.lineCounter, problem.path);
  return { path: formatConfigPath(problem.path), line, column, message: problem.message };
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

function unreadableMessage(error: unknown, kind: string): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied reading the file';
  if (code === 'EISDIR') return `is a directory, not a ${kind}`;
  return `cannot read the file${code === undefined ? '' : ` (${code})`}`;
}

/** Validates a parsed file against `schema`; throws {@link ConfigError} with each problem's line. */
export function validateYamlSource<Schema extends z.ZodType>(
  yaml: YamlSource,
  schema: Schema,
): z.output<Schema> {
  const result = schema.safeParse(yaml.value);
  if (result.success) return result.data;
  throw new ConfigError(yaml.source, placeProblems(yaml, schemaProblems(result.error.issues, yaml.value)));
}
