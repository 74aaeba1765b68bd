/** Every migration, in order. Append only. */
import { initial } from './001-initial.ts';
import { anomalyBaselines } from './003-anomaly-baselines.ts';
import type { Migration } from './migration.ts';

/**
 * Version 2 belongs to tool-definition pinning, built on another branch at the same time. Until
 * that branch merges, this empty step holds its place so versions stay consecutive; the merge
 * replaces it with the real migration 002 (no released store has applied this placeholder).
 */
const reservedForPinning: Migration = { version: 2, name: 'reserved (tool pins)', sqlite: [], postgres: [] };

export const MIGRATIONS: readonly Migration[] = [initial, reservedForPinning, anomalyBaselines];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
