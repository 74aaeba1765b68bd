/** The usage and billing shapes of the admin API (docs/metering.md, docs/billing.md). */
import { z } from '@hono/zod-openapi';

export const UsageRowSchema = z
  .object({
    group: z.string().openapi({ description: "The day, tool, key id, project id or server; '' for none." }),
    calls: z.number().int(),
    errors: z.number().int(),
    bytesIn: z.number().int(),
    bytesOut: z.number().int(),
    cpuSeconds: z.number(),
    wallSeconds: z.number(),
    cost: z.number(),
  })
  .openapi('UsageRow');

export const InvoiceLineSchema = z
  .object({
    tenant: z.string(),
    period: z.string(),
    plan: z.string(),
    currency: z.string(),
    calls: z.number().int(),
    errors: z.number().int(),
    billableCalls: z.number().int(),
    includedCalls: z.number().int(),
    overageCalls: z.number().int(),
    overagePer1000: z.number(),
    amount: z.number(),
    bytesIn: z.number().int(),
    bytesOut: z.number().int(),
    cpuSeconds: z.number(),
    wallSeconds: z.number(),
    cost: z.number(),
  })
  .openapi('InvoiceLine');

export const TenantBillingSchema = z
  .object({
    tenant: z.string(),
    plan: z.string(),
    stored: z.boolean().openapi({ description: 'false: no billing state yet, the default plan applies.' }),
    stripeCustomerId: z.string().nullable(),
    stripeSubscriptionId: z.string().nullable(),
    stripeSubscriptionItemId: z.string().nullable(),
    subscriptionStatus: z.string().nullable(),
    suspendedKeyIds: z.array(z.string()),
  })
  .openapi('TenantBilling');

export const BillingPutSchema = z
  .object({
    plan: z.string().optional(),
    stripeCustomerId: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,255}$/)
      .nullable()
      .optional()
      .openapi({ description: 'Maps a Stripe customer (cus_…) to this tenant for the webhook.' }),
  })
  .strict();

export const UsageRecordsSchema = z.object({
  period: z.string(),
  destination: z.string().nullable(),
  records: z.array(
    z.object({
      subscription_item: z.string(),
      quantity: z.number().int(),
      timestamp: z.number().int(),
      action: z.literal('set'),
      idempotency_key: z.string(),
      metadata: z.object({ tenant: z.string(), period: z.string() }),
    }),
  ),
  skipped: z.array(z.object({ tenant: z.string(), reason: z.string() })),
});
