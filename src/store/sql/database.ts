/**
 * The one thing a backend provides: scoped transactions running parameterised SQL. The store's
 * queries (the other files in this folder) are written once, in the dialect both SQLite and
 * PostgreSQL accept, with `$1`-style placeholders; each backend adapts placeholders and values.
 */

/** A JSON column value: the backend stores it as jsonb (PostgreSQL) or JSON text (SQLite). */
export class JsonParam {
  readonly value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
}

/** Marks a value for a JSON column. */
export function json(value: unknown): JsonParam {
  return new JsonParam(value);
}

export type SqlParam = string | number | boolean | null | JsonParam;

/** A row as a backend returns it: times, booleans, JSON and bigints vary; see rows.ts. */
export type Row = Record<string, unknown>;

export type Sql = {
  /** Runs a statement and returns its rows (RETURNING included). */
  rows(text: string, params?: readonly SqlParam[]): Promise<Row[]>;
  /** Runs a statement and returns how many rows it changed. */
  run(text: string, params?: readonly SqlParam[]): Promise<number>;
};

/**
 * Whose rows a transaction may touch. PostgreSQL enforces it with row-level security
 * (`mcplane.tenant_id` / `mcplane.platform` settings, local to the transaction). Queries still
 * scope themselves: the policy is the second line of defence, not the first.
 */
export type Scope = { readonly tenantId: string } | 'platform';

export type ConstraintKind = 'unique' | 'foreign-key' | 'check';

export type Database = {
  readonly dialect: 'sqlite' | 'postgres';
  /** The URL with its password masked, for messages. */
  readonly location: string;
  transaction<T>(scope: Scope, work: (sql: Sql) => Promise<T>): Promise<T>;
  /** Which constraint a failed statement violated, if that is what it was. */
  constraintKind(error: unknown): ConstraintKind | undefined;
  /** Announces a new version to other processes (PostgreSQL NOTIFY) inside the changing transaction. */
  announce(sql: Sql, version: number): Promise<void>;
  /** Listens for other processes' announcements; resolves to the stop function. */
  listen(onVersion: (version: number) => void): Promise<() => Promise<void>>;
  /** Whether row-level security binds this connection's user. */
  rowLevelSecurity(): Promise<'enforced' | 'bypassed' | 'none'>;
  close(): Promise<void>;
};
