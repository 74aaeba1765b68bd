import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeCommand } from '../../src/cli/store-command.ts';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations/migrations.ts';
import { openStore } from '../../src/store/open-store.ts';
import { generateMasterKey, loadMasterKeys, parseMasterKey } from '../../src/store/secrets/master-keys.ts';
import { ACTOR } from './store-harness.ts';

const BIN = fileURLToPath(new URL('../../bin/mcplane.js', import.meta.url));

async function run(args: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await storeCommand(args, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
  });
  return { code, stdout, stderr };
}

describe('mcplane store', () => {
  let dir: string;
  let url: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcplane-store-cli-'));
    url = `sqlite:${join(dir, 'mcplane.db')}`;
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('migrate brings a new store to the current schema, and a second run applies nothing', async () => {
    const first = await run(['migrate', '--store', url]);
    const every = MIGRATIONS.map((migration) => migration.version).join(', ');
    expect(first).toMatchObject({
      code: 0,
      stdout: `store ${url}: schema version 0 -> ${SCHEMA_VERSION} (applied ${every})\n`,
    });
    const second = await run(['migrate'], { MCPLANE_STORE_URL: url });
    expect(second).toMatchObject({
      code: 0,
      stdout: `store ${url}: schema version ${SCHEMA_VERSION}, nothing to apply\n`,
    });
  });

  it('migrate refuses an unknown scheme and an unreachable database clearly, without the password', async () => {
    const unknown = await run(['migrate', '--store', 'mysql://root:hunter2@db/x']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('unknown store URL scheme "mysql:"');
    expect(unknown.stderr).not.toContain('hunter2');
    const unreachable = await run(['migrate', '--store', 'postgres://app:hunter2@127.0.0.1:1/db']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain(
      'cannot reach the PostgreSQL store at postgres://app:***@127.0.0.1:1/db',
    );
    expect(unreachable.stderr).not.toContain('hunter2');
  });

  it('rotate-key re-encrypts the secrets under the new key, after which the old one is not needed', async () => {
    const oldKey = generateMasterKey();
    const newKey = generateMasterKey();
    const before = await openStore(url, { masterKeys: loadMasterKeys({ MCPLANE_MASTER_KEY: oldKey }) });
    await before.tenants.create({ id: 'acme', name: 'Acme' }, ACTOR);
    await before.serverConfigs.put('acme', 'pg', { env: { DATABASE_URL: 'postgres://u:pw@h/db' } }, ACTOR);
    await before.close();

    const missing = await run(['rotate-key', '--store', url]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('MCPLANE_MASTER_KEY');
    const rotated = await run(['rotate-key', '--store', url], {
      MCPLANE_MASTER_KEY: newKey,
      MCPLANE_MASTER_KEY_PREVIOUS: oldKey,
    });
    const newId = parseMasterKey(newKey, 'k').id;
    expect(rotated).toMatchObject({
      code: 0,
      stdout: `re-encrypted 1 secret(s) under master key ${newId}\n  key ${newId}: 1 secret(s)\n`,
    });
    expect(`${rotated.stdout}${rotated.stderr}`).not.toContain('pw@');

    const after = await openStore(url, { masterKeys: loadMasterKeys({ MCPLANE_MASTER_KEY: newKey }) });
    expect((await after.serverConfigs.resolve('acme', 'pg'))?.env).toEqual({
      DATABASE_URL: { secret: 'postgres://u:pw@h/db' },
    });
    await after.close();
  });

  it('rotate-key without the old key fails naming the key id it needs, and changes nothing', async () => {
    const oldKey = generateMasterKey();
    const before = await openStore(url, { masterKeys: loadMasterKeys({ MCPLANE_MASTER_KEY: oldKey }) });
    await before.tenants.create({ id: 'acme', name: 'Acme' }, ACTOR);
    await before.serverConfigs.put('acme', 'pg', { env: { API_TOKEN: 'tok' } }, ACTOR);
    await before.close();
    const result = await run(['rotate-key', '--store', url], { MCPLANE_MASTER_KEY: generateMasterKey() });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(parseMasterKey(oldKey, 'k').id);
    const check = await openStore(url, { masterKeys: loadMasterKeys({ MCPLANE_MASTER_KEY: oldKey }) });
    expect((await check.serverConfigs.resolve('acme', 'pg'))?.env).toEqual({ API_TOKEN: { secret: 'tok' } });
    await check.close();
  });

  it('new-key prints a usable 32-byte key on stdout and its id on stderr', async () => {
    const { code, stdout, stderr } = await run(['new-key']);
    expect(code).toBe(0);
    const key = stdout.trim();
    expect(Buffer.from(key, 'base64')).toHaveLength(32);
    expect(stderr).toContain(parseMasterKey(key, 'k').id);
  });

  it('an unknown subcommand prints the usage and exits 2', async () => {
    const { code, stderr } = await run(['explode']);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: mcplane store migrate');
  });

  it('the real CLI runs store migrate', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'store', 'migrate', '--store', url]);
    expect(stdout).toContain(`schema version 0 -> ${SCHEMA_VERSION}`);
  });
});
