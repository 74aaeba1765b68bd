/** Every migration, in order. Append only. */
import { initial } from './001-initial.ts';
import type { Migration } from './migration.ts';

export const MIGRATIONS: readonly Migration[] = [initial];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
