/**
 * The `gateway.anomaly` block of servers.config.yaml (docs/anomaly.md). It applies at start;
 * a reload reports a change to it as needing a restart.
 */
import { z } from 'zod';

export const AnomalySchema = z
  .object({
    enabled: z.boolean().default(true).meta({
      description: "Score tools/call, prompts/get and resources/read against each principal's baseline.",
    }),
    threshold: z.number().min(0).max(1).default(0.8).meta({
      description:
        'A score at or above this is flagged: one finding per component in the audit record, and counted.',
    }),
    warmup: z.number().int().min(1).max(1_000_000).default(100).meta({
      description: 'Calls a baseline needs before calls are scored against it (no flags before).',
    }),
    maxPrincipals: z.number().int().min(1).max(10_000_000).default(10_000).meta({
      description:
        'Baselines kept in memory, of principals and of tenants each (a few KB each); past it, one not used lately is forgotten.',
    }),
  })
  .strict();

export type AnomalyConfig = z.output<typeof AnomalySchema>;
