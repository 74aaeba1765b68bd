import { ConfigError, type ConfigProblem } from '../../src/config/config-error.ts';
import { parseConfig } from '../../src/config/load-config.ts';

/** The problems `parseConfig` reports for `text`; fails the test if it accepts the text. */
export function problemsIn(
  text: string,
  env: Record<string, string | undefined> = {},
): readonly ConfigProblem[] {
  try {
    parseConfig(text, { source: 'test.yaml', env });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the config to be refused');
}

/** Joins lines, so a test's YAML reads as it would in a file. */
export function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}
