/**
 * The `tiers:` table: what a tenant's tier entitles it to. A tenant names its tier (`tier:` in
 * the config or the store); limits, quotas and its share of a saturated pool come from here,
 * and the admin API can override the limits per tenant or per key.
 */
import { z } from 'zod';

const Count = z.number().int().positive();

/** A request budget over one or more windows; unset windows are unlimited. */
export const RateSchema = z
  .object({
    perSecond: Count.optional(),
    perMinute: Count.optional(),
    perHour: Count.optional(),
    perDay: Count.optional(),
  })
  .strict()
  .meta({ description: 'Requests allowed per window; a window left out is unlimited.' });

export const TierSchema = z
  .object({
    weight: z.number().positive().default(1).meta({
      description: "This tier's share of a saturated pool under fair scheduling (e.g. basic 1, pro 2).",
    }),
    queueCap: Count.optional().meta({
      description:
        "Most calls one tenant of this tier may have waiting for one pool's processes; over it, 429.",
    }),
    rateLimits: z
      .object({
        perKey: RateSchema.optional(),
        perTenant: RateSchema.optional(),
        perTool: RateSchema.optional().meta({ description: 'Per (tenant, tool).' }),
      })
      .strict()
      .default({}),
    quota: z
      .object({
        monthlyCalls: Count.optional().meta({
          description: 'Tool calls per calendar month (UTC), per tenant.',
        }),
        monthlyCallsPerKey: Count.optional().meta({
          description: 'Tool calls per calendar month (UTC), per key.',
        }),
      })
      .strict()
      .default({}),
  })
  .strict();

export type Tier = z.infer<typeof TierSchema>;
export type Rate = z.infer<typeof RateSchema>;

/** The tier a tenant gets when its tier is not in the table: no limits, weight 1. */
export const UNLISTED_TIER: Tier = Object.freeze({ weight: 1, rateLimits: {}, quota: {} });

/** The entitlements of `tierName`, or the unlisted tier's when the table has no such row. */
export function tierOf(tiers: Readonly<Record<string, Tier>>, tierName: string): Tier {
  return tiers[tierName] ?? UNLISTED_TIER;
}
