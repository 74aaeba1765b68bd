/** Every migration, in order. Append only. */
import { initial } from './001-initial.ts';
import { toolPins } from './002-tool-pins.ts';
import { anomalyBaselines } from './003-anomaly-baselines.ts';
import { reserved004 } from './004-reserved.ts';
import { usageBilling } from './005-usage-billing.ts';
import type { Migration } from './migration.ts';

export const MIGRATIONS: readonly Migration[] = [
  initial,
  toolPins,
  anomalyBaselines,
  reserved004,
  usageBilling,
];

/** The schema version this code writes and reads. */
export const SCHEMA_VERSION = MIGRATIONS.length;
