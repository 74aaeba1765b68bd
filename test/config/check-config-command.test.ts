import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkConfigCommand } from '../../src/cli/check-config-command.ts';
import { yaml } from './problems.ts';

const VALID = new URL('./fixtures/valid.yaml', import.meta.url).pathname;

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await checkConfigCommand(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env,
  });
  return { code, stdout, stderr };
}

describe('mcplane check-config', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mcplane-check-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('check-config exits 0 for the example and 1 for a broken file', async () => {
    expect(await run([VALID])).toEqual({
      code: 0,
      stdout: `ok: ${VALID} (2 servers, 2 tenants)\n`,
      stderr: '',
    });

    const broken = join(dir, 'broken.yaml');
    await writeFile(broken, yaml('servers:', '  echo:', '    command: ${ECHO_BIN}', '    pool: { min: -1 }'));
    expect(await run([broken])).toEqual({
      code: 1,
      stdout: '',
      stderr:
        `${broken}:3:14 servers.echo.command: environment variable ECHO_BIN is not set\n` +
        `${broken}:4:18 servers.echo.pool.min: Too small: expected number to be >=0\n`,
    });
  });

  it('resolves variables from the environment it is given', async () => {
    const file = join(dir, 'servers.yaml');
    await writeFile(file, yaml('servers:', '  echo:', '    command: ${ECHO_BIN}'));
    expect(await run([file], { ECHO_BIN: 'node' })).toMatchObject({
      code: 0,
      stdout: `ok: ${file} (1 server, 0 tenants)\n`,
    });
  });

  it('a missing file exits 1 and says so', async () => {
    const file = join(dir, 'absent.yaml');
    expect(await run([file])).toEqual({ code: 1, stdout: '', stderr: `${file}: no such file\n` });
  });

  it('without exactly one file it prints usage and exits 2', async () => {
    const expected = { code: 2, stdout: '', stderr: 'usage: mcplane check-config <file>\n' };
    expect(await run([])).toEqual(expected);
    expect(await run([VALID, VALID])).toEqual(expected);
  });
});
