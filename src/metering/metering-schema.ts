/**
 * `gateway.metering` (usage events and cost attribution, docs/metering.md) and the per-server
 * `cost:` weights that turn calls and CPU time into a cost figure.
 */
import { z } from 'zod';
import { Duration } from '../config/durations.ts';

const Weight = z.number().nonnegative().finite();

export const CostSchema = z
  .object({
    perCall: Weight.default(0).meta({ description: 'Cost of one metered request to this server.' }),
    perCpuSecond: Weight.default(0).meta({
      description: "Cost of one second of this server's processes' CPU time charged to a tenant.",
    }),
  })
  .strict()
  .meta({
    description:
      'Weights that turn metered calls and attributed CPU time into a cost, in the currency of `billing` (docs/metering.md).',
  });

export const MeteringSchema = z
  .object({
    enabled: z.boolean().default(true).meta({
      description: 'Record a usage event per tool call, prompt get, resource read and sampling request.',
    }),
    batchSize: z.number().int().min(1).max(5_000).default(500).meta({
      description: 'Events written to the store in one transaction; a full batch is written at once.',
    }),
    flushInterval: Duration.refine((ms) => ms >= 10 && ms <= 60_000, 'expected between 10ms and 60s')
      .default(2_000)
      .meta({ description: 'Longest an event waits in memory before it is written.' }),
    bufferLimit: z.number().int().min(1).max(1_000_000).default(50_000).meta({
      description:
        'Most events held in memory while the store is slow or down; past it new events are dropped and counted (mcplane_usage_events_dropped_total).',
    }),
    costSampleInterval: Duration.refine((ms) => ms >= 100 && ms <= 600_000, 'expected between 100ms and 10m')
      .default(5_000)
      .meta({ description: "How often child processes' CPU time is read and charged to tenants." }),
  })
  .strict();

export type CostWeights = z.output<typeof CostSchema>;
export type MeteringSettings = z.output<typeof MeteringSchema>;
