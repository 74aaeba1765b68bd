/** The shapes of `/tenants/{id}/limits` and `/tenants/{id}/api-keys/{keyId}/limits`. */
import { z } from '@hono/zod-openapi';

const Count = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const RateBody = z
  .object({
    perSecond: Count.optional(),
    perMinute: Count.optional(),
    perHour: Count.optional(),
    perDay: Count.optional(),
  })
  .strict()
  .openapi('Rate', { description: 'Requests allowed per window; a window left out is unlimited.' });

const TenantRates = z
  .object({ perKey: RateBody.optional(), perTenant: RateBody.optional(), perTool: RateBody.optional() })
  .strict();

const TenantQuota = z
  .object({ monthlyCalls: Count.optional(), monthlyCallsPerKey: Count.optional() })
  .strict();

export const TenantLimitsBody = z
  .object({ rateLimits: TenantRates.optional(), quota: TenantQuota.optional() })
  .strict()
  .openapi('TenantLimitsOverride', {
    description:
      "Replaces the tenant's override of its tier. A part given replaces the tier's part of the same name; `{}` removes the override.",
  });

export const KeyLimitsBody = z
  .object({
    rateLimits: z.object({ perKey: RateBody.optional() }).strict().optional(),
    quota: z
      .object({
        monthlyCalls: Count.optional().openapi({ description: "This key's own monthly call quota." }),
      })
      .strict()
      .optional(),
  })
  .strict()
  .openapi('KeyLimitsOverride', {
    description: "Replaces the key's override: its own per-key rate and monthly quota. `{}` removes it.",
  });

export const LimitsReportSchema = z
  .object({
    tenant: z.string(),
    tier: z.string(),
    rateLimits: TenantRates,
    quota: TenantQuota.extend({
      used: z.number().int().openapi({ description: 'Tool calls counted this calendar month (UTC).' }),
      resetAt: z.string().openapi({ description: 'When the count resets: the first instant of next month.' }),
    }),
    overrides: z.object({
      tenant: TenantLimitsBody.optional(),
      keys: z.record(
        z.string(),
        KeyLimitsBody.extend({
          used: z.number().int().openapi({ description: "The key's calls this month." }),
        }),
      ),
    }),
  })
  .openapi('TenantLimits');
