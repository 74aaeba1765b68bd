/**
 * `mcplane admin create-key --role platform-admin|tenant-admin|member [--tenant t] [--name n]
 * [--store url] [--config file]`: makes an API key in the store and prints it once. On a fresh
 * store this is how the first platform admin gets in; everything after goes through the admin
 * API. The key is hashed with the config's pepper (`gateway.auth.apiKeys.pepper`), the same as
 * the gateway's, so the config is read for it.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../config/config-error.ts';
import { loadConfig } from '../config/load-config.ts';
import { GatewayError } from '../errors.ts';
import { generateApiKey } from '../identity/api-key-format.ts';
import { hashApiKey } from '../identity/api-key-hash.ts';
import type { Role } from '../identity/principal.ts';
import { openStore } from '../store/open-store.ts';
import type { CommandIo } from './command-io.ts';

const USAGE = `usage: mcplane admin create-key --role platform-admin|tenant-admin|member [--tenant <id>] [--name <name>]
                                [--store <url>] [--config servers.config.yaml]
The store defaults to MCPLANE_STORE_URL, then the config's gateway.store.url.
`;
const ROLES: readonly Role[] = ['platform-admin', 'tenant-admin', 'member'];

export async function adminCommand(args: string[], io: CommandIo): Promise<number> {
  let values: Record<string, string | undefined>;
  let positionals: string[];
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        role: { type: 'string' },
        tenant: { type: 'string' },
        name: { type: 'string' },
        store: { type: 'string' },
        config: { type: 'string', default: io.env.MCPLANE_CONFIG ?? 'servers.config.yaml' },
      },
    });
    values = parsed.values;
    positionals = parsed.positionals;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const role = values.role as Role | undefined;
  if (positionals[0] !== 'create-key' || positionals.length !== 1 || !role || !ROLES.includes(role)) {
    io.stderr(USAGE);
    return 2;
  }
  if ((role === 'platform-admin') !== (values.tenant === undefined)) {
    io.stderr(
      role === 'platform-admin'
        ? 'mcplane admin: a platform-admin key belongs to no tenant; leave out --tenant\n'
        : `mcplane admin: a ${role} key needs --tenant <id>\n`,
    );
    return 2;
  }
  let config;
  try {
    config = await loadConfig(values.config as string, io.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    io.stderr(`${error.format()}\n`);
    return 1;
  }
  const url = values.store ?? io.env.MCPLANE_STORE_URL ?? config.gateway.store.url;
  try {
    const store = await openStore(url);
    try {
      const { key, id } = generateApiKey();
      const hash = hashApiKey(key, config.gateway.auth.apiKeys.pepper);
      const name = values.name ?? `${role} key`;
      await store.apiKeys.create(values.tenant ?? null, { id, hash, name, role }, { actor: 'cli' });
      io.stderr(
        `Created ${role} key ${id}${values.tenant ? ` for tenant ${values.tenant}` : ''}. It is shown once:\n`,
      );
      io.stdout(`${key}\n`);
      return 0;
    } finally {
      await store.close();
    }
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    io.stderr(`mcplane admin: ${error.message}\n`);
    return 1;
  }
}
