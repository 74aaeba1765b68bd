/**
 * `mcplane store migrate | rotate-key | new-key [--store <url>]`
 *
 * - `migrate` applies pending schema migrations (the gateway also does at start).
 * - `rotate-key` re-encrypts every stored secret under `MCPLANE_MASTER_KEY`, reading older
 *   ones with `MCPLANE_MASTER_KEY_PREVIOUS` (docs/store.md has the no-downtime sequence).
 * - `new-key` prints a fresh master key (32 random bytes, base64) for `MCPLANE_MASTER_KEY`.
 *
 * The store is `--store`, else `MCPLANE_STORE_URL`, else `sqlite:.mcplane/mcplane.db`.
 */
import { parseArgs } from 'node:util';
import { GatewayError } from '../errors.ts';
import { MIGRATIONS } from '../store/migrations/migrations.ts';
import { openStore } from '../store/open-store.ts';
import { generateMasterKey, loadMasterKeys, parseMasterKey } from '../store/secrets/master-keys.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `Usage: mcplane store migrate [--store <url>]
       mcplane store rotate-key [--store <url>]   (MCPLANE_MASTER_KEY new, MCPLANE_MASTER_KEY_PREVIOUS old)
       mcplane store new-key
The store URL defaults to MCPLANE_STORE_URL, then sqlite:.mcplane/mcplane.db.
`;
export const DEFAULT_STORE_URL = 'sqlite:.mcplane/mcplane.db';
const ACTOR = { actor: 'cli' };

class UsageError extends Error {}

function parse(args: readonly string[]): { subcommand: string; store: string | undefined } {
  const { values, positionals } = parseArgs({
    args: [...args],
    allowPositionals: true,
    options: { store: { type: 'string' } },
  });
  const [subcommand, ...extra] = positionals;
  if (subcommand === undefined || extra.length > 0) throw new UsageError('expected one subcommand');
  return { subcommand, store: values.store };
}

async function migrate(url: string, io: CommandIo): Promise<number> {
  const store = await openStore(url, { migrate: true });
  try {
    const info = await store.info();
    // Versions may skip numbers (migrator.ts): the version before is the highest not just applied.
    const from = Math.max(
      0,
      ...MIGRATIONS.map((migration) => migration.version).filter(
        (version) => !info.migrationsApplied.includes(version),
      ),
    );
    io.stdout(
      info.migrationsApplied.length === 0
        ? `store ${info.location}: schema version ${info.schemaVersion}, nothing to apply\n`
        : `store ${info.location}: schema version ${from} -> ${info.schemaVersion} (applied ${info.migrationsApplied.join(', ')})\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function rotateKey(url: string, io: CommandIo): Promise<number> {
  const masterKeys = loadMasterKeys(io.env);
  if (!masterKeys) {
    throw new UsageError(
      'set MCPLANE_MASTER_KEY to the new key and MCPLANE_MASTER_KEY_PREVIOUS to the old one',
    );
  }
  const store = await openStore(url, { masterKeys, migrate: false });
  try {
    const { reencrypted, keyId } = await store.secrets.rotate(ACTOR);
    const inUse = await store.secrets.keyIdsInUse();
    io.stdout(`re-encrypted ${reencrypted} secret(s) under master key ${keyId}\n`);
    for (const [id, count] of Object.entries(inUse)) io.stdout(`  key ${id}: ${count} secret(s)\n`);
    io.stderr(
      'Once every replica runs with this MCPLANE_MASTER_KEY, the old key can leave MCPLANE_MASTER_KEY_PREVIOUS.\n',
    );
    return 0;
  } finally {
    await store.close();
  }
}

function newKey(io: CommandIo): number {
  const key = generateMasterKey();
  io.stderr(
    `A new master key (id ${parseMasterKey(key, 'new key').id}). Keep it in a secret manager; ` +
      'losing it loses every stored secret.\n',
  );
  io.stdout(`${key}\n`);
  return 0;
}

/** Runs `mcplane store …` (arguments after `store`); returns the process exit code. */
export async function storeCommand(args: readonly string[], io: CommandIo): Promise<number> {
  try {
    const { subcommand, store } = parse(args);
    const url = store ?? io.env.MCPLANE_STORE_URL ?? DEFAULT_STORE_URL;
    if (subcommand === 'migrate') return await migrate(url, io);
    if (subcommand === 'rotate-key') return await rotateKey(url, io);
    if (subcommand === 'new-key') return newKey(io);
    throw new UsageError(`unknown subcommand "${subcommand}"`);
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error)) {
      io.stderr(`mcplane store: ${error.message}\n${USAGE}`);
      return 2;
    }
    if (error instanceof GatewayError) {
      io.stderr(`mcplane store: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
