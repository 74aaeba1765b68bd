/** Every migration, in order. Append only. */
import { initial } from './001-initial.ts';
import { toolPins } from './002-tool-pins.ts';
import { anomalyBaselines } from './003-anomaly-baselines.ts';
import { limits } from './004-limits.ts';
import type { Migration } from './migration.ts';

export const MIGRATIONS: readonly Migration[] = [initial, toolPins, anomalyBaselines, limits];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
