/**
 * The resilience settings of one server: its circuit breaker, retries, fallback and
 * stale-if-error copies. Part of the server entry in `servers.config.yaml` (config/schema.ts).
 */
import { z } from 'zod';
import { ByteSize, Duration } from '../config/durations.ts';

const ServerName = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a server name');

export const BreakerSchema = z
  .object({
    enabled: z.boolean().default(true),
    window: Duration.default(10_000).meta({
      description: 'The rolling window over which gateway-side failures are counted.',
    }),
    volumeThreshold: z.number().int().nonnegative().default(5).meta({
      description: 'Calls (per server and tenant) the window must hold before the breaker may open.',
    }),
    errorThresholdPercentage: z.number().min(1).max(100).default(50).meta({
      description:
        'Share of those calls, in percent, that failed on the gateway side (timeouts, exits, unavailable, queue timeouts) past which it opens.',
    }),
    resetTimeout: Duration.default(5_000).meta({
      description:
        'How long it stays open before one probe call may test the server (at least until the pool next tries to start a process).',
    }),
  })
  .strict();

export const RetrySchema = z
  .object({
    attempts: z.number().int().min(1).max(10).default(3).meta({
      description: 'Attempts in all, the first included.',
    }),
    baseDelay: Duration.default(50).meta({ description: 'The first backoff step (full jitter).' }),
    maxDelay: Duration.default(2_000).meta({ description: 'The largest backoff step.' }),
    tools: z.array(z.string().min(1)).default([]).meta({
      description:
        'Tools (bare names) retried whatever their annotations say, unless they are marked destructive.',
    }),
    deadline: Duration.optional().meta({
      description:
        "The call's deadline over every attempt, from when it reached the gateway: no retry starts past it. Left out: the server's timeouts.call (enough to retry a process that exited, not one that timed out).",
    }),
    budget: z.number().min(0).max(0.1).default(0.1).meta({
      description: 'Retries allowed per call made, over the server (a token bucket): at most 0.1.',
    }),
  })
  .strict();

export const FallbackSchema = z
  .object({
    server: ServerName.meta({ description: 'The server that serves the call instead.' }),
    tool: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'Its tool (bare name); the same name if left out.' }),
    arguments: z.record(z.string(), z.string()).optional().meta({
      description:
        'Argument mapping: fallback argument name → primary argument name. Only the mapped arguments are passed; left out, all pass unchanged.',
    }),
  })
  .strict();

export const StaleIfErrorSchema = z
  .object({
    ttl: Duration.default(300_000).meta({ description: 'How old a kept result may be when served.' }),
    maxEntries: z.number().int().positive().default(1_000).meta({
      description: 'Results kept for this server, over every tenant.',
    }),
    maxBytes: ByteSize.default(8 * 1024 * 1024).meta({
      description: 'Bytes of results kept for this server.',
    }),
    tools: z.array(z.string().min(1)).optional().meta({
      description:
        'Tools (bare names) that opt in; they must be read-only (readOnlyHint). Left out: every read-only tool.',
    }),
    resources: z
      .boolean()
      .default(true)
      .meta({ description: 'Whether resources/read results are kept too.' }),
  })
  .strict();

export const ResilienceFields = {
  breaker: BreakerSchema.prefault({}),
  retry: RetrySchema.optional().meta({
    description:
      'Retries on gateway-side failures, for read-only or idempotent tools of a trusted server, or those listed; never destructive ones.',
  }),
  fallback: FallbackSchema.optional().meta({
    description: 'Another server that serves calls while this one is down (breaker open, gateway error).',
  }),
  toolFallbacks: z.record(z.string().min(1), FallbackSchema).default({}).meta({
    description: 'Per-tool fallbacks (bare tool name → fallback); they win over `fallback`.',
  }),
  staleIfError: StaleIfErrorSchema.optional().meta({
    description:
      'Serve the last good result (per tenant and arguments), marked stale, while the server is down.',
  }),
};

export type BreakerSettings = z.infer<typeof BreakerSchema>;
export type RetrySettings = z.infer<typeof RetrySchema>;
export type FallbackSettings = z.infer<typeof FallbackSchema>;
export type StaleIfErrorSettings = z.infer<typeof StaleIfErrorSchema>;
