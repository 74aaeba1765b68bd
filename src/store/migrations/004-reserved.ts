/**
 * Version 4 belongs to the limits and quotas work (issue 9, its other half), built on another
 * branch at the same time. Versions must be consecutive, so this branch holds the number with a
 * step that changes nothing; when the branches meet, the real 004 replaces this file.
 */
import type { Migration } from './migration.ts';

export const reserved004: Migration = {
  version: 4,
  name: 'reserved (limits)',
  sqlite: [],
  postgres: [],
};
