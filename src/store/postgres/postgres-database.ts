/**
 * The PostgreSQL backend's driver, on the `postgres` client (porsager/postgres).
 *
 * Every transaction first sets its scope with `set_config(…, true)`, which lasts until the
 * transaction ends, so a pooled connection never carries one tenant's scope into another's
 * work. The row-level security policies (migrations/001-initial.ts) read those settings:
 * `mcplane.tenant_id` shows one tenant's rows, `mcplane.platform = on` shows all (platform-admin
 * operations, authentication lookups, migrations). Outside a store transaction neither is set,
 * and the policies show nothing.
 */
import postgres from 'postgres';
import { GatewayError } from '../../errors.ts';
import { JsonParam, type Database, type Row, type Scope, type Sql, type SqlParam } from '../sql/database.ts';

export type PostgresOptions = {
  readonly url: string;
  /** Where the tables live; created if missing. Default: the connection's own search_path. */
  readonly schema?: string | undefined;
  /** The URL without its password, for messages. */
  readonly location: string;
  readonly password?: string | undefined;
  readonly maxConnections?: number;
};

/** One channel per database; the payload `<schema>:<version>` tells stores apart. */
const CHANNEL = 'mcplane_store';
const CONNECTION_CODE = /^(E[A-Z]+|CONNECT_TIMEOUT|CONNECTION_[A-Z]+)$/;

type Client = postgres.Sql;
type Transaction = postgres.TransactionSql;

function scrub(message: string, password: string | undefined): string {
  return password === undefined || password === '' ? message : message.split(password).join('***');
}

function unavailable(error: unknown, options: PostgresOptions): GatewayError {
  const reason = scrub(error instanceof Error ? error.message : String(error), options.password);
  return new GatewayError(
    'STORE_UNAVAILABLE',
    `cannot reach the PostgreSQL store at ${options.location}: ${reason}`,
  );
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return !(error instanceof GatewayError) && typeof code === 'string' && CONNECTION_CODE.test(code);
}

function adapt(client: Client, tx: Transaction): Sql {
  const params = (values: readonly SqlParam[]): postgres.ParameterOrJSON<never>[] =>
    values.map((value) =>
      value instanceof JsonParam ? client.json(value.value as postgres.JSONValue) : value,
    ) as postgres.ParameterOrJSON<never>[];
  return {
    async rows(text, values = []) {
      const result = await tx.unsafe(text, params(values), { prepare: true });
      return Array.from(result) as Row[];
    },
    async run(text, values = []) {
      return (await tx.unsafe(text, params(values), { prepare: true })).count;
    },
  };
}

async function ensureSchema(client: Client, schema: string): Promise<void> {
  const [row] = await client`SELECT to_regnamespace(${schema}) IS NOT NULL AS present`;
  if (row?.['present'] !== true) await client.unsafe(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
}

export async function openPostgresDatabase(options: PostgresOptions): Promise<Database> {
  const client = postgres(options.url, {
    max: options.maxConnections ?? 10,
    connect_timeout: 10,
    onnotice: () => {},
    ...(options.schema === undefined ? {} : { connection: { search_path: options.schema } }),
  });
  let schema: string;
  try {
    if (options.schema !== undefined) await ensureSchema(client, options.schema);
    const [current] = await client`SELECT current_schema() AS schema`;
    schema = String(current?.['schema']);
  } catch (error) {
    await client.end({ timeout: 1 });
    throw unavailable(error, options);
  }

  async function transaction<T>(scope: Scope, work: (sql: Sql) => Promise<T>): Promise<T> {
    const tenantId = scope === 'platform' ? '' : scope.tenantId;
    try {
      return (await client.begin(async (tx) => {
        await tx.unsafe(
          `SELECT set_config('mcplane.tenant_id', $1, true), set_config('mcplane.platform', $2, true)`,
          [tenantId, scope === 'platform' ? 'on' : 'off'],
          { prepare: true },
        );
        return work(adapt(client, tx));
      })) as T;
    } catch (error) {
      throw isConnectionError(error) ? unavailable(error, options) : error;
    }
  }

  return {
    dialect: 'postgres',
    location: options.location,
    transaction,
    constraintKind(error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code === '23505') return 'unique';
      if (code === '23503') return 'foreign-key';
      if (code === '23514' || code === '23502') return 'check';
      return undefined;
    },
    async announce(sql, version) {
      await sql.rows('SELECT pg_notify($1, $2)', [CHANNEL, `${schema}:${version}`]);
    },
    async listen(onVersion) {
      const subscription = await client.listen(CHANNEL, (payload) => {
        const at = payload.lastIndexOf(':');
        if (payload.slice(0, at) === schema) onVersion(Number(payload.slice(at + 1)));
      });
      return () => subscription.unlisten();
    },
    async rowLevelSecurity() {
      const [row] = await client`
        SELECT rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`;
      return row?.['bypass'] === false ? 'enforced' : 'bypassed';
    },
    async close() {
      await client.end({ timeout: 5 });
    },
  };
}
