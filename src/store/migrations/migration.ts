/**
 * One step of the store's schema. Versions are consecutive from 1 and never edited once
 * released: a change is a new migration. Where the dialects differ, each backend has its own
 * statements; both must leave the same tables, columns and constraints.
 */
export type Migration = {
  readonly version: number;
  readonly name: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
};
