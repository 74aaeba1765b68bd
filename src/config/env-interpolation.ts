import { isWithin, type ConfigPath, type PathProblem } from './config-path.ts';

/** A `${NAME}` that was replaced, kept so messages can name the variable instead of showing its value. */
export type Substitution = { readonly path: ConfigPath; readonly name: string; readonly value: string };

export type Interpolation = {
  /** The input with every resolvable reference replaced; unresolvable ones are left as written. */
  readonly value: unknown;
  readonly problems: readonly PathProblem[];
  readonly substitutions: readonly Substitution[];
};

type Env = Readonly<Record<string, string | undefined>>;

// `$${` is the escape for a literal `${`; anything else starting with `${` is a reference.
const REFERENCE = /\$\$\{|\$\{([^}]*)(\})?/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const LITERAL_HINT = 'write "$${" for a literal "${"';

/**
 * Resolves `${NAME}` in every string value (not in keys) from `env`. An unset variable is a
 * problem at its path, never an empty string: a missing secret must stop the gateway rather
 * than start a server without it. Messages name variables but never include their values.
 */
export function interpolateEnv(value: unknown, env: Env): Interpolation {
  const problems: PathProblem[] = [];
  const substitutions: Substitution[] = [];
  const resolved = walk(value, [], new Set(), { env, problems, substitutions });
  return { value: resolved, problems, substitutions };
}

type Walk = { env: Env; problems: PathProblem[]; substitutions: Substitution[] };

function walk(value: unknown, path: ConfigPath, ancestors: Set<object>, state: Walk): unknown {
  if (typeof value === 'string') return resolveString(value, path, state);
  if (!isContainer(value)) return value;
  // YAML aliases can make a value contain itself; no config shape needs that.
  if (ancestors.has(value)) {
    state.problems.push({ path, message: 'a YAML alias may not refer to a value that contains it' });
    return null;
  }
  const inner = new Set(ancestors).add(value);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, [...path, index], inner, state));
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [key, walk(child, [...path, key], inner, state)]),
  );
}

function isContainer(value: unknown): value is object {
  if (Array.isArray(value)) return true;
  if (typeof value !== 'object' || value === null) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function resolveString(text: string, path: ConfigPath, state: Walk): string {
  let failed = false;
  const resolved = text.replace(REFERENCE, (match, name: string | undefined, close: string | undefined) => {
    if (name === undefined) return '${';
    const value = close === undefined ? undefined : lookup(name, state.env);
    if (value === undefined) {
      failed = true;
      state.problems.push({ path, message: referenceProblem(name, close !== undefined) });
      return match;
    }
    state.substitutions.push({ path, name, value });
    return value;
  });
  // Leave a failed string as written so the schema can still check its siblings, and so the
  // resolved values of its other references go nowhere.
  return failed ? text : resolved;
}

function lookup(name: string, env: Env): string | undefined {
  if (!VARIABLE_NAME.test(name) || !Object.hasOwn(env, name)) return undefined;
  const value = env[name];
  return typeof value === 'string' ? value : undefined;
}

function referenceProblem(name: string, closed: boolean): string {
  if (!closed) return `"\${" without a closing "}"; ${LITERAL_HINT}`;
  if (!VARIABLE_NAME.test(name)) {
    return `"\${...}" must name an environment variable (letters, digits and _); ${LITERAL_HINT}`;
  }
  return `environment variable ${name} is not set`;
}

/**
 * Replaces, in a message about `path`, any value substituted at or below `path` with the
 * `${NAME}` it came from. Schema messages may quote their input (`unknown server "x"`), and
 * that input may be a secret.
 */
export function redactSubstitutions(
  problem: PathProblem,
  substitutions: readonly Substitution[],
): PathProblem {
  let message = problem.message;
  for (const { path, name, value } of substitutions) {
    if (value !== '' && isWithin(path, problem.path)) message = message.replaceAll(value, `\${${name}}`);
  }
  return message === problem.message ? problem : { path: problem.path, message };
}
