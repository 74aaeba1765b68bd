import { GatewayError } from '../errors.ts';

/** One thing wrong with a config file, placed where an editor can jump to it. */
export type ConfigProblem = {
  /** The file this problem is in, when it is not the error's own `source` (a folder of files). */
  readonly source?: string;
  /** Dotted YAML path such as `servers.echo.pool.min`; `''` for the document as a whole. */
  readonly path: string;
  /** 1-based line; absent when the problem has no place in the text (an unreadable file). */
  readonly line?: number;
  /** 1-based column; present whenever `line` is. */
  readonly column?: number;
  readonly message: string;
};

/**
 * A config file that cannot be used. Carries every problem found, not just the first, so one
 * run of `mcplane check-config` shows the operator all there is to fix.
 */
export class ConfigError extends GatewayError {
  /** The file (or other origin) the config text came from. */
  readonly source: string;
  readonly problems: readonly ConfigProblem[];

  constructor(source: string, problems: readonly ConfigProblem[], options?: { cause?: unknown }) {
    const lines = formatProblems(source, problems);
    super('CONFIG_INVALID', `invalid configuration in ${source}:\n${lines}`, {
      cause: options?.cause,
      detail: { source, problems },
    });
    this.name = 'ConfigError';
    this.source = source;
    this.problems = Object.freeze([...problems]);
  }

  /** One line per problem: `<file>:<line>:<column> <path>: <message>`. */
  format(): string {
    return formatProblems(this.source, this.problems);
  }
}

function formatProblems(source: string, problems: readonly ConfigProblem[]): string {
  return problems.map((problem) => formatProblem(source, problem)).join('\n');
}

function formatProblem(
  fallback: string,
  { source = fallback, path, line, column, message }: ConfigProblem,
): string {
  const where = line === undefined ? `${source}:` : `${source}:${line}:${column ?? 1}`;
  return path === '' ? `${where} ${message}` : `${where} ${path}: ${message}`;
}
