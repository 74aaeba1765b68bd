/**
 * Tenant server configs (seed 002): a tenant's env and args for one server. Secret values are
 * sealed before any SQL runs (sealed-values.ts) and come back masked, except from `resolve`.
 * The change log records which names changed, never a value.
 */
import { GatewayError } from '../../errors.ts';
import type { ConfigValue, ResolvedServerConfig, ServerConfigView } from '../records.ts';
import {
  maskArgs,
  maskEnv,
  openArgs,
  openEnv,
  sealArgs,
  sealEnv,
  storedArgs,
  storedEnv,
  type StoredEnv,
  type StoredValue,
} from '../secrets/sealed-values.ts';
import type { ServerConfigInput, ServerConfigPatch, ServerConfigs } from '../store.ts';
import { checkConfigValue, checkEnvName, checkServerName, checkTenantId, invalid } from '../validate.ts';
import { json, type Row } from './database.ts';
import { jsonOrNull, record, text, time } from './rows.ts';
import type { StoreContext, Writer } from './store-context.ts';

export type StoredConfig = {
  tenantId: string;
  server: string;
  env: StoredEnv;
  args: StoredValue[] | null;
  createdAt: string;
  updatedAt: string;
};

export function storedConfigFromRow(row: Row): StoredConfig {
  return {
    tenantId: text(row, 'tenant_id'),
    server: text(row, 'server'),
    env: storedEnv(record(row, 'env')),
    args: storedArgs(jsonOrNull(row, 'args')),
    createdAt: time(row, 'created_at'),
    updatedAt: time(row, 'updated_at'),
  };
}

function view(stored: StoredConfig): ServerConfigView {
  return { ...stored, env: maskEnv(stored.env), args: stored.args === null ? null : maskArgs(stored.args) };
}

export function serverConfigViewFromRow(row: Row): ServerConfigView {
  return view(storedConfigFromRow(row));
}

function checkTarget(tenantId: string, server: string): void {
  checkTenantId(tenantId);
  checkServerName(server);
}

function checkEnv(env: Readonly<Record<string, ConfigValue | null>>, allowNull: boolean): void {
  if (env === null || typeof env !== 'object' || Array.isArray(env)) throw invalid('env must be an object');
  for (const [name, value] of Object.entries(env)) {
    checkEnvName(name);
    if (value === null && !allowNull) throw invalid(`env ${name} must be a string or { "secret": string }`);
    checkConfigValue(value, `env ${name}`);
  }
}

function checkArgs(args: readonly ConfigValue[] | null | undefined): void {
  if (args === null || args === undefined) return;
  if (!Array.isArray(args)) throw invalid('args must be a list');
  (args as readonly ConfigValue[]).forEach((value, index) => checkConfigValue(value, `args[${index}]`));
}

/** Names and positions only: what the change log may say about a config. */
function describe(stored: Pick<StoredConfig, 'env' | 'args'>): Record<string, unknown> {
  const env = Object.keys(stored.env);
  return {
    env,
    secretEnv: env.filter((name) => typeof stored.env[name] !== 'string'),
    args: stored.args?.length ?? null,
    secretArgs: stored.args?.flatMap((value, index) => (typeof value === 'string' ? [] : [index])) ?? [],
  };
}

const UPSERT = `INSERT INTO tenant_server_configs (tenant_id, server, env, args, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $5)
  ON CONFLICT (tenant_id, server) DO UPDATE SET env = excluded.env, args = excluded.args, updated_at = excluded.updated_at
  RETURNING *`;
const SELECT_ONE = 'SELECT * FROM tenant_server_configs WHERE tenant_id = $1 AND server = $2';

export function createServerConfigs(ctx: StoreContext): ServerConfigs {
  function resolved(stored: StoredConfig): ResolvedServerConfig {
    const home = { tenantId: stored.tenantId, server: stored.server };
    return {
      tenantId: stored.tenantId,
      server: stored.server,
      env: openEnv(ctx.box, stored.env, home),
      args: stored.args === null ? null : openArgs(ctx.box, stored.args, home),
      updatedAt: stored.updatedAt,
    };
  }

  async function store(
    writer: Writer,
    target: { tenantId: string; server: string; env: StoredEnv; args: StoredValue[] | null },
    action: string,
    details: Record<string, unknown>,
  ): Promise<ServerConfigView> {
    const { tenantId, server, env, args } = target;
    const [row] = await writer.sql.rows(UPSERT, [
      tenantId,
      server,
      json(env),
      args === null ? null : json(args),
      writer.at,
    ]);
    await writer.log(tenantId, { action, target: `server_config:${tenantId}/${server}`, details });
    return view(storedConfigFromRow(row as Row));
  }

  async function written<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (ctx.db.constraintKind(error) === 'foreign-key')
        throw new GatewayError('NOT_FOUND', 'tenant not found');
      throw error;
    }
  }

  return {
    async put(tenantId, server, input: ServerConfigInput, context) {
      checkTarget(tenantId, server);
      checkEnv(input.env ?? {}, false);
      checkArgs(input.args);
      const home = { tenantId, server };
      const env = sealEnv(ctx.box, input.env ?? {}, home);
      const args =
        input.args === undefined || input.args === null ? null : sealArgs(ctx.box, input.args, home);
      return written(() =>
        ctx.write({ tenantId }, context, (writer) =>
          store(writer, { tenantId, server, env, args }, 'server_config.put', describe({ env, args })),
        ),
      );
    },

    async patch(tenantId, server, patch: ServerConfigPatch, context) {
      checkTarget(tenantId, server);
      checkEnv(patch.env ?? {}, true);
      checkArgs(patch.args);
      const home = { tenantId, server };
      const entries = Object.entries(patch.env ?? {});
      const set = Object.fromEntries(
        entries.filter((entry): entry is [string, ConfigValue] => entry[1] !== null),
      );
      const sealed = sealEnv(ctx.box, set, home);
      const removed = entries.filter(([, value]) => value === null).map(([name]) => name);
      const args =
        patch.args === undefined || patch.args === null ? patch.args : sealArgs(ctx.box, patch.args, home);
      return written(() =>
        ctx.write({ tenantId }, context, async (writer) => {
          const [row] = await writer.sql.rows(SELECT_ONE, [tenantId, server]);
          if (!row) throw new GatewayError('NOT_FOUND', 'server config not found');
          const current = storedConfigFromRow(row);
          const env = { ...current.env, ...sealed };
          for (const name of removed) delete env[name];
          const nextArgs = args === undefined ? current.args : args;
          const details = {
            set: Object.keys(sealed),
            removed,
            argsChanged: args !== undefined,
            ...describe({ env, args: nextArgs }),
          };
          return store(writer, { tenantId, server, env, args: nextArgs }, 'server_config.patch', details);
        }),
      );
    },

    async get(tenantId, server) {
      const [row] = await ctx.read({ tenantId }, (sql) => sql.rows(SELECT_ONE, [tenantId, server]));
      return row === undefined ? undefined : view(storedConfigFromRow(row));
    },

    async list(tenantId) {
      const rows = await ctx.read({ tenantId }, (sql) =>
        sql.rows('SELECT * FROM tenant_server_configs WHERE tenant_id = $1 ORDER BY server', [tenantId]),
      );
      return rows.map((row) => view(storedConfigFromRow(row)));
    },

    async resolve(tenantId, server) {
      const [row] = await ctx.read({ tenantId }, (sql) => sql.rows(SELECT_ONE, [tenantId, server]));
      return row === undefined ? undefined : resolved(storedConfigFromRow(row));
    },

    async resolveAll() {
      const rows = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM tenant_server_configs ORDER BY tenant_id, server'),
      );
      return rows.map((row) => resolved(storedConfigFromRow(row)));
    },

    async delete(tenantId, server, context) {
      return ctx.write({ tenantId }, context, async ({ sql, log }) => {
        const deleted = await sql.run(
          'DELETE FROM tenant_server_configs WHERE tenant_id = $1 AND server = $2',
          [tenantId, server],
        );
        if (deleted === 0) return false;
        await log(tenantId, {
          action: 'server_config.delete',
          target: `server_config:${tenantId}/${server}`,
        });
        return true;
      });
    },
  };
}
