/**
 * `gateway.store.url`: which backend, and where.
 *
 * - `sqlite:<path>` (relative to the working directory, e.g. `sqlite:.mcplane/mcplane.db`),
 *   `sqlite:///absolute/path.db`, or `sqlite::memory:` (gone when the process ends).
 * - `postgres://user:password@host:5432/db` (or `postgresql://`), optionally `?schema=<name>`
 *   to keep mcplane's tables in their own schema; other query parameters go to the client.
 *
 * A URL is never echoed with its password: {@link redactUrl} masks it for every message.
 */
import { GatewayError } from '../errors.ts';

export type StoreLocation =
  | { readonly backend: 'sqlite'; readonly path: string; readonly display: string }
  | {
      readonly backend: 'postgres';
      /** For the client, without `schema`. */
      readonly url: string;
      readonly schema: string | undefined;
      readonly display: string;
      /** So messages from the client can be scrubbed of it. */
      readonly password: string | undefined;
    };

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/;

/** The URL with its password replaced by `***`; unparseable input shows only its scheme. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return `${url.split(':')[0] ?? ''}:…`;
  }
}

function invalid(message: string): GatewayError {
  return new GatewayError('STORE_URL_INVALID', message);
}

function sqliteLocation(url: string): StoreLocation {
  let path = url.slice('sqlite:'.length);
  if (path.startsWith('//')) path = path.slice(2);
  if (path === '')
    throw invalid('sqlite: store URL needs a path, e.g. sqlite:.mcplane/mcplane.db or sqlite::memory:');
  return { backend: 'sqlite', path, display: url };
}

function postgresLocation(url: string): StoreLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(`the PostgreSQL store URL ${redactUrl(url)} is not a valid URL`);
  }
  const schema = parsed.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !SCHEMA.test(schema)) {
    throw invalid('the store URL schema must be lowercase letters, digits and underscores');
  }
  parsed.searchParams.delete('schema');
  const password = parsed.password === '' ? undefined : decodeURIComponent(parsed.password);
  return { backend: 'postgres', url: parsed.toString(), schema, display: redactUrl(url), password };
}

export function parseStoreUrl(url: string): StoreLocation {
  if (url.startsWith('sqlite:')) return sqliteLocation(url);
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return postgresLocation(url);
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
  throw invalid(
    `${scheme === undefined ? 'the store URL has no scheme' : `unknown store URL scheme "${scheme}:"`}: ` +
      'expected sqlite:<path>, sqlite::memory: or postgres://user@host:5432/db',
  );
}

/** Whether `name` is usable as a PostgreSQL schema for the store. */
export function isSchemaName(name: string): boolean {
  return SCHEMA.test(name);
}
