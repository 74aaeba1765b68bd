/**
 * `gateway.redis` and `gateway.limits`: where rate-limit and quota counts live, and what the
 * gateway does when that place cannot be reached (docs/limits.md). The values of the limits
 * themselves come from the `tiers:` table and the admin API's overrides.
 */
import { z } from 'zod';
import { Duration } from './durations.ts';

export const RedisSchema = z
  .object({
    url: z
      .string()
      .regex(/^rediss?:\/\//, 'expected a redis:// or rediss:// URL')
      .optional()
      .meta({
        description:
          'Keep rate-limit and quota counts in Redis (e.g. "${REDIS_URL}"), so that several replicas share them. Unset: counts live in each gateway process.',
      }),
    keyPrefix: z
      .string()
      .min(1)
      .max(64)
      .default('mcplane:')
      .meta({ description: 'Prefix of every Redis key the gateway writes.' }),
    onError: z.enum(['open', 'closed']).default('open').meta({
      description:
        'When Redis cannot be reached. open (default): calls go on, counted in this process only (a log line and mcplane_limit_backend_errors_total say so). closed: calls that need a count are refused with 503 until Redis answers again.',
    }),
    commandTimeout: Duration.default(500).meta({
      description: 'How long one Redis command may take before it counts as Redis unreachable.',
    }),
  })
  .strict();

export const LimitsSchema = z
  .object({
    quotaFlushInterval: Duration.refine((ms) => ms >= 10 && ms <= 60_000, 'expected between 10ms and 60s')
      .default(1_000)
      .meta({
        description:
          'How often counted quota use is written to the store (in batches); the rest is written when the gateway closes.',
      }),
    leaseFraction: z.number().min(0).max(0.1).default(0.01).meta({
      description:
        'Share of a rate window\'s or a monthly quota\'s budget the gateway counts at once and then spends from memory (at most 1000 calls a block; docs/limits.md, "Leases"). In memory it is exact and saves the per-call counting; with Redis it saves a round trip per call, replicas never admit past a budget together, and each may end a window holding up to this share unspent. 0: every call counted on its own.',
    }),
  })
  .strict();

/** `gateway.auth.failureLimit`: failed authentications one source IP may make per minute. */
export const FailureLimitSchema = z
  .object({
    perMinute: z.number().int().min(0).default(10).meta({
      description:
        'Failed authentications (a credential that did not authenticate) one source IP may make per minute; past it, 429 before any key is hashed. 0 turns it off.',
    }),
  })
  .strict();

export type RedisConfig = z.output<typeof RedisSchema>;
export type LimitsConfig = z.output<typeof LimitsSchema>;
