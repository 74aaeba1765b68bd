/** Every migration, in order. Append only. */
import { initial } from './001-initial.ts';
import { toolPins } from './002-tool-pins.ts';
import { anomalyBaselines } from './003-anomaly-baselines.ts';
import { limits } from './004-limits.ts';
import { usageBilling } from './005-usage-billing.ts';
import { auditRecords } from './006-audit-records.ts';
import { usageEventInserts } from './007-usage-event-inserts.ts';
import type { Migration } from './migration.ts';

export const MIGRATIONS: readonly Migration[] = [
  initial,
  toolPins,
  anomalyBaselines,
  limits,
  usageBilling,
  auditRecords,
  usageEventInserts,
];

/** The schema version this code writes and reads: its last migration's. */
export const SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
