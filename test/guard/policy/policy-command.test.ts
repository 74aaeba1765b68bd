import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { policyCommand } from '../../../src/cli/policy-command.ts';
import { yaml } from './policy-fixture.ts';

const NOW = new Date('2026-03-02T10:15:00Z');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: (text: string) => (stdout += text),
    stderr: (text: string) => (stderr += text),
    env: {},
  };
  const code = await policyCommand(args, io, () => NOW);
  return { code, stdout, stderr };
}

const POLICY = yaml(
  'defaults:',
  "  '*': allow",
  '  acme: deny',
  'rules:',
  '  - name: own-data',
  '    effect: allow',
  '    tool: read_file',
  "    when: args.path.startsWith('/data/' + tenant.id + '/')",
  '  - name: no-etc',
  '    effect: deny',
  '    tool: read_file',
  "    when: args.path.startsWith('/etc')",
  '    reason: reading /etc is not allowed',
);

describe('mcplane policy', () => {
  let dir: string;
  let policies: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcplane-policy-cli-'));
    policies = join(dir, 'policies');
    await mkdir(policies);
    await writeFile(join(policies, '10-fs.yaml'), POLICY);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function file(name: string, ...lines: string[]): Promise<string> {
    const path = join(dir, name);
    await writeFile(path, yaml(...lines));
    return path;
  }

  it('policy test exits 0 and says so when every case holds', async () => {
    const cases = await file(
      'cases.yaml',
      'cases:',
      '  - name: acme reads its own data',
      '    input: { tenant: acme, server: fs, tool: read_file, args: { path: /data/acme/a.txt } }',
      '    expect: allow',
      '    rule: own-data',
      '  - name: acme cannot read /etc',
      '    input: { tenant: acme, server: fs, tool: read_file, args: { path: /etc/passwd } }',
      '    expect: deny',
      '    rule: no-etc',
      '    listed: true',
      '  - name: acme may not use other tools',
      '    input: { tenant: acme, server: fs, tool: write_file }',
      '    expect: deny',
      '    rule: default',
      '    mode: enforce',
      '    listed: false',
    );
    expect(await run(['test', policies, '--cases', cases])).toEqual({
      code: 0,
      stdout: '3 cases: 3 passed\n',
      stderr: '',
    });
  });

  it('policy test prints each mismatch with its line and exits 1', async () => {
    const cases = await file(
      'cases.yaml',
      'cases:',
      '  - name: globex reads anything',
      '    input: { tenant: globex, server: fs, tool: read_file, args: { path: /data/x } }',
      '    expect: allow',
      '  - name: wrong rule',
      '    input: { tenant: acme, server: fs, tool: read_file, args: { path: /etc/passwd } }',
      '    expect: deny',
      '    rule: own-data',
      '  - name: wrong effect',
      '    input: { tenant: acme, server: fs, tool: write_file }',
      '    expect: allow',
      '    listed: true',
    );
    expect(await run(['test', policies, '--cases', cases])).toEqual({
      code: 1,
      stdout:
        `FAIL ${cases}:5 wrong rule: expected deny by rule own-data, got deny by rule no-etc (enforce)\n` +
        `FAIL ${cases}:9 wrong effect: expected allow, listed, got deny by the tenant default (enforce), not listed\n` +
        '3 cases: 1 passed, 2 failed\n',
      stderr: '',
    });
  });

  it('policy test exits 2 on a bad policy file, a bad cases file or an unknown rule', async () => {
    await writeFile(
      join(policies, '20-bad.yaml'),
      yaml('rules:', '  - name: x', '    effect: deny', '    when: nope'),
    );
    const cases = await file(
      'cases.yaml',
      'cases:',
      '  - { name: a, input: { tenant: a, server: s, tool: t }, expect: allow }',
    );
    expect(await run(['test', policies, '--cases', cases])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${join(policies, '20-bad.yaml')}:4:11 rules.0.when: Unknown variable: nope (at character 1 of the condition)\n`,
    });
    await rm(join(policies, '20-bad.yaml'));

    const badCases = await file(
      'bad.yaml',
      'cases:',
      '  - name: a',
      '    input: { server: s, tool: t }',
      '    expect: maybe',
    );
    expect(await run(['test', policies, '--cases', badCases])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `${badCases}:3:5 cases.0.input.tenant: missing required key\n` +
        `${badCases}:4:13 cases.0.expect: Invalid option: expected one of "allow"|"deny"\n`,
    });

    const unknownRule = await file(
      'unknown.yaml',
      'cases:',
      '  - { name: a, input: { tenant: a, server: s, tool: t }, expect: allow, rule: nope }',
    );
    expect(await run(['test', policies, '--cases', unknownRule])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${unknownRule}:2:79 cases.0.rule: no rule named "nope" in ${policies}\n`,
    });
  });

  it('policy test and explain exit 2 on wrong usage', async () => {
    for (const args of [
      [],
      ['test', policies],
      ['explain', policies],
      ['frobnicate', policies],
      ['test', policies, '--nope', 'x'],
    ]) {
      const result = await run(args);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/usage: mcplane policy test/);
    }
    const missing = await run(['test', policies, '--cases', join(dir, 'absent.yaml')]);
    expect(missing).toEqual({ code: 2, stdout: '', stderr: `${join(dir, 'absent.yaml')}: no such file\n` });
  });

  it('policy explain prints which rule decided, what the client sees, and every rule', async () => {
    const input = await file(
      'input.json',
      JSON.stringify({ tenant: 'acme', server: 'fs', tool: 'read_file', args: { path: '/etc/passwd' } }),
    );
    const rules = join(policies, '10-fs.yaml');
    expect(await run(['explain', policies, '--input', input])).toEqual({
      code: 0,
      stdout: [
        `decision: deny by rule no-etc (enforce) at ${rules}:9`,
        "the client: refused with the rule's reason: reading /etc is not allowed",
        'in lists: shown',
        '',
        'rules, in evaluation order:',
        `  own-data  allow           no match: condition is false  ${rules}:5`,
        `> no-etc    deny            matches  ${rules}:9`,
        '',
        `tenant default: deny (set at ${rules}:3)`,
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  it('policy explain says when the default decides and when a condition failed', async () => {
    const input = await file('input.yaml', 'tenant: { id: acme }', 'server: fs', 'tool: read_file');
    const { code, stdout } = await run(['explain', policies, '--input', input]);
    expect(code).toBe(0);
    expect(stdout).toContain('decision: deny by rule no-etc (enforce)');
    expect(stdout).toContain(
      'matches: the condition failed, which a deny rule counts as a match (No such key: path',
    );
    expect(stdout).toContain('no match: the condition failed, which an allow rule counts as no match');

    const other = await file('other.yaml', 'tenant: acme', 'server: fs', 'tool: write_file');
    const byDefault = await run(['explain', policies, '--input', other]);
    expect(byDefault.stdout).toContain('decision: deny by the tenant default (enforce)\n');
    expect(byDefault.stdout).toContain('the client: refused as unknown');
    expect(byDefault.stdout).toContain('in lists: hidden');
    expect(byDefault.stdout).toContain(', which decided');
  });

  it('policy explain exits 2 on a bad policy file, with its line', async () => {
    await writeFile(join(policies, '20-bad.yaml'), yaml('mode: loud'));
    const input = await file('input.yaml', 'tenant: acme', 'server: fs', 'tool: read_file');
    expect(await run(['explain', policies, '--input', input])).toEqual({
      code: 2,
      stdout: '',
      stderr: `${join(policies, '20-bad.yaml')}:1:7 mode: Invalid option: expected one of "enforce"|"dry-run"\n`,
    });
  });

  it('policy explain exits 2 on a bad input file, with its lines', async () => {
    const input = await file(
      'input.yaml',
      'tenant: acme',
      'server: fs',
      'tool: read_file',
      'prompt: p',
      'usage: { callsLastMinute: -1 }',
    );
    expect(await run(['explain', policies, '--input', input])).toEqual({
      code: 2,
      stdout: '',
      stderr:
        `${input}:4:9 prompt: name one of tool, prompt or resource\n` +
        `${input}:5:27 usage.callsLastMinute: Too small: expected number to be >=0\n`,
    });
  });
});
