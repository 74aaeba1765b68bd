import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config-error.ts';
import { compilePolicies, loadPolicies } from '../../../src/guard/policy/load-policies.ts';
import { input, policy, problemLines, yaml } from './policy-fixture.ts';

describe('policy file problems', () => {
  it('every schema problem is reported with its file, line and column', () => {
    const text = yaml(
      'mode: enforced',
      'defaults:',
      "  '*': permit",
      '  Acme: deny',
      'rules:',
      '  - name: ok',
      '    effect: allow',
      '  - effect: deny',
      '    tool: []',
      '  - name: two-kinds',
      '    effect: deny',
      '    tool: read_file',
      '    resource: file:///x',
      '    colour: red',
      '  - name: allow-with-extras',
      '    effect: allow',
      '    mode: dry-run',
      '    reason: no',
      'extra: 1',
    );
    expect(problemLines({ 'p.yaml': text })).toEqual([
      'p.yaml:1:7 mode: Invalid option: expected one of "enforce"|"dry-run"',
      'p.yaml:3:8 defaults.*: Invalid option: expected one of "allow"|"deny"',
      'p.yaml:4:9 defaults.Acme: expected a tenant id or "*" for every other tenant',
      'p.yaml:8:5 rules.1.name: missing required key',
      'p.yaml:9:5 rules.1.tool: list at least one glob',
      'p.yaml:13:15 rules.2.resource: a call targets one tool, prompt or resource, so a rule names at most one of them (this one names tool and resource)',
      'p.yaml:14:13 rules.2.colour: unknown key "colour"',
      'p.yaml:17:11 rules.3.mode: mode changes what a deny does; an allow rule allows in either mode',
      'p.yaml:18:13 rules.3.reason: a reason is shown to the client when a rule denies; an allow rule has none',
      'p.yaml:19:8 extra: unknown key "extra"',
    ]);
  });

  it('a CEL condition that does not compile is refused at its line, with what is wrong', () => {
    const text = yaml(
      'rules:',
      '  - name: typo',
      '    effect: deny',
      "    when: tennant.id == 'acme'",
      '  - name: field-typo',
      '    effect: deny',
      "    when: principal.subjet == 'x'",
      '  - name: syntax',
      '    effect: deny',
      '    when: args.path +',
      '  - name: not-a-bool',
      '    effect: allow',
      '    when: tool',
      '  - name: mismatched',
      '    effect: allow',
      "    when: usage.callsLastMinute == 'many'",
    );
    expect(problemLines({ 'p.yaml': text })).toEqual([
      'p.yaml:4:11 rules.0.when: Unknown variable: tennant (at character 1 of the condition)',
      'p.yaml:7:11 rules.1.when: No such key: subjet (at character 11 of the condition)',
      'p.yaml:10:11 rules.2.when: Unexpected token: EOF (at character 12 of the condition)',
      'p.yaml:13:11 rules.3.when: a condition must yield a bool; this one yields string',
      'p.yaml:16:11 rules.4.when: no such overload: int == string (at character 1 of the condition)',
    ]);
  });

  it('conditions are checked even in a file the schema refuses', () => {
    const text = yaml('rules:', '  - name: a', '    effect: maybe', '    when: nope > 1');
    expect(problemLines({ 'p.yaml': text })).toEqual([
      'p.yaml:3:13 rules.0.effect: Invalid option: expected one of "allow"|"deny"',
      'p.yaml:4:11 rules.0.when: Unknown variable: nope (at character 1 of the condition)',
    ]);
  });

  it('rule names are unique across all files, and a tenant default is set once', () => {
    const first = yaml("defaults: { '*': allow }", 'rules:', '  - name: no-etc', '    effect: deny');
    const second = yaml(
      'defaults:',
      "  '*': deny",
      '  acme: deny',
      'rules:',
      '  - name: no-etc',
      '    effect: deny',
      '  - name: ok',
      '    effect: allow',
      '  - name: ok',
      '    effect: allow',
    );
    expect(problemLines({ 'a.yaml': first, 'b.yaml': second })).toEqual([
      'b.yaml:2:8 defaults.*: the default for "*" (every other tenant) is already set at a.yaml:1',
      'b.yaml:5:11 rules.0.name: rule "no-etc" is already defined at a.yaml:3',
      'b.yaml:9:11 rules.2.name: rule "ok" is already defined at b.yaml:7',
    ]);
  });

  it('"default" is not a rule name: it stands for the tenant default in decisions', () => {
    expect(problemLines({ 'p.yaml': yaml('rules:', '  - name: default', '    effect: deny') })).toEqual([
      'p.yaml:2:11 rules.0.name: "default" stands for the tenant default; choose another name',
    ]);
  });

  it('a YAML syntax error is reported at its line and nothing loads', () => {
    const lines = problemLines({
      'good.yaml': yaml('rules: []'),
      'bad.yaml': yaml('rules:', '  - name: [x', 'mode: enforce'),
    });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((line) => /^bad\.yaml:[23]:\d+ /.test(line))).toBe(true);
  });

  it('an empty file, or one of comments only, is an empty policy', () => {
    const set = policy('# every example is commented out', '# rules: []');
    expect(set.rules).toEqual([]);
    expect(set.decide(input())).toEqual({ effect: 'allow', rule: 'default', mode: 'enforce' });
  });
});

describe('loadPolicies', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcplane-policies-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads every .yaml and .yml file in the folder in name order, and nothing else', async () => {
    await writeFile(join(dir, '20-second.yml'), yaml('rules:', '  - name: second', '    effect: deny'));
    await writeFile(join(dir, '10-first.yaml'), yaml('rules:', '  - name: first', '    effect: allow'));
    await writeFile(join(dir, 'README.md'), '# not a policy');
    await writeFile(join(dir, 'notes.txt'), 'rules: nope');
    await writeFile(join(dir, '.hidden.yaml'), 'not: [valid');
    await mkdir(join(dir, 'nested.yaml'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'deeper.yaml'), 'not: [valid');
    const set = await loadPolicies(dir);
    expect(set.files).toEqual([join(dir, '10-first.yaml'), join(dir, '20-second.yml')]);
    expect(set.rules.map((rule) => [rule.name, rule.origin])).toEqual([
      ['first', { file: join(dir, '10-first.yaml'), line: 2 }],
      ['second', { file: join(dir, '20-second.yml'), line: 2 }],
    ]);
  });

  it('follows symbolic links, as a Kubernetes ConfigMap mounts its files', async () => {
    await mkdir(join(dir, '..data'));
    await writeFile(join(dir, '..data', 'base.yaml'), yaml('rules:', '  - name: linked', '    effect: deny'));
    await symlink(join('..data', 'base.yaml'), join(dir, 'base.yaml'));
    expect((await loadPolicies(dir)).rules.map((rule) => rule.name)).toEqual(['linked']);
  });

  it('a problem in one file refuses the whole folder, naming every file at fault', async () => {
    await writeFile(join(dir, 'a.yaml'), yaml('rules:', '  - name: a', '    effect: nope'));
    await writeFile(join(dir, 'b.yaml'), yaml('mode: loud'));
    const error = await loadPolicies(dir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).format()).toBe(
      [
        `${join(dir, 'a.yaml')}:3:13 rules.0.effect: Invalid option: expected one of "allow"|"deny"`,
        `${join(dir, 'b.yaml')}:1:7 mode: Invalid option: expected one of "enforce"|"dry-run"`,
      ].join('\n'),
    );
  });

  it('a missing folder and a dangling link are problems, not crashes', async () => {
    const missing = join(dir, 'absent');
    await expect(loadPolicies(missing)).rejects.toThrow(ConfigError);
    expect(((await loadPolicies(missing).catch((e: unknown) => e)) as ConfigError).format()).toBe(
      `${missing}: no such folder`,
    );
    await symlink(join(dir, 'gone.yaml'), join(dir, 'dangling.yaml'));
    expect(((await loadPolicies(dir).catch((e: unknown) => e)) as ConfigError).format()).toBe(
      `${join(dir, 'dangling.yaml')}: no such file`,
    );
  });

  it('loading twice gives equal, independent sets: loading changes nothing', async () => {
    await writeFile(
      join(dir, 'p.yaml'),
      yaml('rules:', '  - name: a', '    effect: deny', '    when: anomaly.score > 0.5'),
    );
    const [first, second] = [await loadPolicies(dir), await loadPolicies(dir)];
    expect(first).not.toBe(second);
    expect(first.decide(input({ anomaly: { score: 0.9 } }))).toEqual(
      second.decide(input({ anomaly: { score: 0.9 } })),
    );
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.rules)).toBe(true);
    expect(Object.isFrozen(first.rules[0])).toBe(true);
  });

  it('the policies folder shipped in the repository loads and allows the demo', async () => {
    const shipped = new URL('../../../policies/', import.meta.url).pathname;
    const set = await loadPolicies(shipped);
    expect(set.files.length).toBeGreaterThan(0);
    const demo = input({ tenant: { id: 'demo', tier: 'standard' }, server: 'everything', tool: 'echo' });
    expect(set.decide(demo).effect).toBe('allow');
    expect(set.listed(demo)).toBe(true);
  });

  it('the commented examples in the shipped policy compile once uncommented', async () => {
    const text = await readFile(new URL('../../../policies/00-base.yaml', import.meta.url), 'utf8');
    const [head = '', examples = ''] = text.split(/^rules: \[\]$/m);
    const uncommented = examples.replace(/^# {2}/gm, '').replace(/^#.*$/gm, '');
    const set = compilePolicies([{ file: '00-base.yaml', text: `${head}rules:${uncommented}` }]);
    expect(set.rules.length).toBeGreaterThanOrEqual(5);
    const read = input({ tenant: { id: 'demo', tier: 'standard' }, server: 'files', tool: 'read_file' });
    expect(set.decide({ ...read, args: { path: 'docs/README.md' } }).effect).toBe('allow');
    expect(set.decide({ ...read, args: { path: '/etc/passwd' } })).toMatchObject({
      effect: 'deny',
      rule: 'files-docs-only',
      reason: 'only files under docs/ may be read',
    });
  });
});
