/**
 * Reading column values the same way from both backends: PostgreSQL returns Date, boolean,
 * parsed jsonb and int8 as a string; SQLite returns ISO text, 0/1, JSON text and numbers.
 */
import { MAX_PAGE, type Page } from '../store.ts';
import { checkPageLimit, invalid } from '../validate.ts';
import type { Row, Sql, SqlParam } from './database.ts';

/**
 * A page of a list: `read` is given how many rows to read in list order, `limit + 1`, and the
 * extra row, if it comes, only says that more follow (the page's `next` is its last item's id).
 */
export async function readPage<T extends { readonly id: string }>(
  limit: number,
  read: (rows: number) => Promise<Row[]>,
  fromRow: (row: Row) => T,
): Promise<Page<T>> {
  checkPageLimit(limit, MAX_PAGE);
  const rows = await read(limit + 1);
  const items = rows.slice(0, limit).map(fromRow);
  const last = items.at(-1);
  return rows.length > limit && last !== undefined ? { items, next: last.id } : { items };
}

/**
 * The rows of a page of `table` in list order (`created_at`, then `id`) that match `where`, over
 * `params` (`$1`…): the first `count`, or the first `count` after the row `after`. That row must
 * be one the caller may see (`cursor.visible`, over `cursor.params(after)`): another tenant's row
 * and an unknown id are refused alike, with `cursor.refusal`. `table` and the conditions are the
 * store's own text, never input.
 */
export async function keysetRows(
  sql: Sql,
  page: {
    readonly table: string;
    readonly where: string;
    readonly params: readonly SqlParam[];
    readonly count: number;
    readonly after: string | undefined;
    readonly cursor: {
      readonly visible: string;
      readonly params: (after: string) => readonly SqlParam[];
      readonly refusal: string;
    };
  },
): Promise<Row[]> {
  const { table, where, params, count, after, cursor } = page;
  const next = (n: number): string => `$${params.length + n}`;
  if (after === undefined)
    return sql.rows(`SELECT * FROM ${table} WHERE ${where} ORDER BY created_at, id LIMIT ${next(1)}`, [
      ...params,
      count,
    ]);
  const [visible] = await sql.rows(`SELECT id FROM ${table} WHERE ${cursor.visible}`, [
    ...cursor.params(after),
  ]);
  if (visible === undefined) throw invalid(cursor.refusal);
  return sql.rows(
    `SELECT * FROM ${table} WHERE ${where} AND (created_at, id) >
     (SELECT created_at, id FROM ${table} WHERE id = ${next(1)}) ORDER BY created_at, id LIMIT ${next(2)}`,
    [...params, after, count],
  );
}

export function text(row: Row, column: string): string {
  const value = row[column];
  if (typeof value !== 'string') throw new TypeError(`column ${column} is not text`);
  return value;
}

export function textOrNull(row: Row, column: string): string | null {
  const value = row[column];
  return value === null || value === undefined ? null : text(row, column);
}

/** What `Date.prototype.toISOString` writes, which is how the store writes every time. */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A time column as an ISO 8601 string in UTC with milliseconds. */
export function timeOrNull(row: Row, column: string): string | null {
  const value = row[column];
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return CANONICAL_TIME.test(value) ? value : new Date(value).toISOString();
  throw new TypeError(`column ${column} is not a time`);
}

export function time(row: Row, column: string): string {
  const value = timeOrNull(row, column);
  if (value === null) throw new TypeError(`column ${column} is null`);
  return value;
}

export function integer(row: Row, column: string): number {
  const value = row[column];
  const number = typeof value === 'string' || typeof value === 'bigint' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isSafeInteger(number)) {
    throw new TypeError(`column ${column} is not an integer`);
  }
  return number;
}

export function bool(row: Row, column: string): boolean {
  const value = row[column];
  if (typeof value === 'boolean') return value;
  if (value === 0 || value === 1) return value === 1;
  throw new TypeError(`column ${column} is not a boolean`);
}

/** A JSON column; our JSON columns always hold objects or arrays, never bare strings. */
export function jsonOrNull(row: Row, column: string): unknown {
  const value = row[column];
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

export function stringList(row: Row, column: string): string[] | null {
  const value = jsonOrNull(row, column);
  if (value === null) return null;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new TypeError(`column ${column} is not a list of strings`);
  }
  return value;
}

export function record(row: Row, column: string): Record<string, unknown> {
  const value = jsonOrNull(row, column);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new TypeError(`column ${column} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
