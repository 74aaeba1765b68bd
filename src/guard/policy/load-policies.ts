/**
 * Loading the policy folder: every `*.yaml` and `*.yml` file in it (not below it), validated
 * against the policy schema, conditions compiled, names and defaults checked across files.
 * Either the whole folder is good and a {@link PolicySet} comes back, or a {@link ConfigError}
 * lists every problem in every file with its line. Loading has no side effects, so a reload
 * can load again and swap the set in only when it succeeds.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type ConfigProblem } from '../../config/config-error.ts';
import type { ConfigPath, PathProblem } from '../../config/config-path.ts';
import { schemaProblems } from '../../config/schema-issues.ts';
import {
  parseYamlSource,
  placeProblems,
  readSourceText,
  type YamlSource,
} from '../../config/yaml-document.ts';
import { locatePath } from '../../config/yaml-locator.ts';
import { celConditionEngine } from './cel-condition.ts';
import type { ConditionEngine } from './condition.ts';
import { compileRule, type CompiledRule, type Origin } from './policy-rule.ts';
import { PolicyFileSchema, type PolicyFile, type RuleSpec } from './policy-schema.ts';
import { PolicySet, type TenantDefault } from './policy-set.ts';

/** One policy file's text and the name problems are reported under. */
export type PolicySource = { readonly file: string; readonly text: string };

export type PolicyOptions = {
  /** The CEL engine; the default one is built once per process. */
  readonly engine?: ConditionEngine;
};

const POLICY_FILE = /^[^.].*\.ya?ml$/;

/** Loads every policy file in `dir`. Throws {@link ConfigError} with every problem found. */
export async function loadPolicies(dir: string, options: PolicyOptions = {}): Promise<PolicySet> {
  const files = await policyFiles(dir);
  const sources: PolicySource[] = [];
  const problems: ConfigProblem[] = [];
  for (const file of files) {
    try {
      sources.push({ file, text: await readSourceText(file, 'policy file') });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems.map((problem) => ({ ...problem, source: file })));
    }
  }
  if (problems.length > 0) throw new ConfigError(dir, problems);
  return compilePolicies(sources, { ...options, origin: dir });
}

/**
 * Compiles policy texts, taken in the order given (`loadPolicies` sorts them by file name).
 * Throws {@link ConfigError} (under `origin`) with every problem in every text.
 */
export function compilePolicies(
  sources: readonly PolicySource[],
  options: PolicyOptions & { origin?: string } = {},
): PolicySet {
  const engine = options.engine ?? defaultEngine();
  const state: Compilation = {
    engine,
    rules: [],
    defaults: new Map(),
    names: new Map(),
    conditions: new Map(),
    problems: [],
  };
  for (const source of sources) compileFile(state, source);
  if (state.problems.length > 0) throw new ConfigError(options.origin ?? 'policies', state.problems);
  const files = sources.map((source) => source.file);
  return new PolicySet({ rules: state.rules, defaults: state.defaults, files, engine });
}

type Compilation = {
  readonly engine: ConditionEngine;
  readonly rules: CompiledRule[];
  readonly defaults: Map<string, TenantDefault>;
  /** Where each rule name was first defined. */
  readonly names: Map<string, Origin>;
  /** Each condition text compiled once: rules that share one share its program (rule-index.ts). */
  readonly conditions: Map<string, ReturnType<ConditionEngine['compile']>>;
  readonly problems: ConfigProblem[];
};

function compileCondition(state: Compilation, source: string): ReturnType<ConditionEngine['compile']> {
  let compiled = state.conditions.get(source);
  if (compiled === undefined) {
    compiled = state.engine.compile(source);
    state.conditions.set(source, compiled);
  }
  return compiled;
}

function compileFile(state: Compilation, { file, text }: PolicySource): void {
  let yaml: YamlSource;
  try {
    yaml = parseYamlSource(text, file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    state.problems.push(...error.problems.map((problem) => ({ ...problem, source: file })));
    return;
  }
  const at = (path: ConfigPath): Origin => ({
    file,
    line: locatePath(yaml.document, yaml.lineCounter, path).line,
  });
  const result = PolicyFileSchema.safeParse(yaml.value);
  const problems = result.success ? [] : schemaProblems(result.error.issues, yaml.value);
  // A file the schema refuses still has its names and conditions checked, so one run shows all.
  const drafts = result.success ? result.data.rules : ruleDrafts(yaml.value);
  drafts.forEach((draft, index) => {
    const origin = at(['rules', index]);
    const nameProblem = claimName(state, draft.name, origin);
    if (nameProblem !== undefined) problems.push({ path: ['rules', index, 'name'], message: nameProblem });
    const condition =
      typeof draft.when === 'string' && draft.when !== '' ? compileCondition(state, draft.when) : undefined;
    if (condition !== undefined && 'problem' in condition) {
      problems.push({ path: ['rules', index, 'when'], message: condition.problem });
    } else if (result.success) {
      state.rules.push(
        compileRule(result.data.rules[index] as RuleSpec, result.data.mode, origin, condition),
      );
    }
  });
  if (result.success) problems.push(...defaultProblems(state, result.data, at));
  state.problems.push(...placeProblems(yaml, problems).map((problem) => ({ ...problem, source: file })));
}
/** The rules of a file the schema refused, as far as they can be read. */
function ruleDrafts(value: unknown): { name?: unknown; when?: unknown }[] {
  const rules = isRecord(value) ? value.rules : undefined;
  return Array.isArray(rules) ? rules.map((rule: unknown) => (isRecord(rule) ? rule : {})) : [];
}

/** Records where a rule name is defined; says so when it already was. */
function claimName(state: Compilation, name: unknown, origin: Origin): string | undefined {
  if (typeof name !== 'string') return undefined;
  const earlier = state.names.get(name);
  if (earlier !== undefined) return `rule "${name}" is already defined at ${where(earlier)}`;
  state.names.set(name, origin);
  return undefined;
}

function defaultProblems(
  state: Compilation,
  policy: PolicyFile,
  at: (path: ConfigPath) => Origin,
): PathProblem[] {
  const problems: PathProblem[] = [];
  for (const [tenant, effect] of Object.entries(policy.defaults)) {
    const earlier = state.defaults.get(tenant)?.origin;
    if (earlier === undefined) {
      state.defaults.set(tenant, { effect, mode: policy.mode, origin: at(['defaults', tenant]) });
    } else {
      const message = `the default for ${tenantLabel(tenant)} is already set at ${where(earlier)}`;
      problems.push({ path: ['defaults', tenant], message });
    }
  }
  return problems;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The policy files in `dir`, sorted by name; symbolic links count (a Kubernetes ConfigMap mounts them). */
async function policyFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    throw new ConfigError(dir, [{ path: '', message: unreadableFolder(error) }], { cause: error });
  }
  const files: string[] = [];
  for (const name of names.filter((candidate) => POLICY_FILE.test(candidate)).sort()) {
    const path = join(dir, name);
    const stats = await stat(path).catch(() => undefined);
    // A dangling link is left for readSourceText to report; a folder named *.yaml is not a file.
    if (stats === undefined || stats.isFile()) files.push(path);
  }
  return files;
}

let sharedEngine: ConditionEngine | undefined;

function defaultEngine(): ConditionEngine {
  sharedEngine ??= celConditionEngine();
  return sharedEngine;
}

function tenantLabel(tenant: string): string {
  return tenant === '*' ? '"*" (every other tenant)' : `tenant "${tenant}"`;
}

function where(origin: Origin): string {
  return `${origin.file}:${origin.line}`;
}

function unreadableFolder(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'no such folder';
  if (code === 'ENOTDIR') return 'is a file, not a policy folder';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied reading the folder';
  return `cannot read the folder${code === undefined ? '' : ` (${code})`}`;
}
