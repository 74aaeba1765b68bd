/**
 * The top-level `billing:` section (docs/billing.md): plans with included calls and an overage
 * price, and the Stripe webhook and usage export. A tenant's plan lives in the store
 * (`tenant_billing`), set by the admin API or by Stripe; without one it is `defaultPlan`.
 */
import { z } from 'zod';
import { Duration } from '../config/durations.ts';

export const PlanSchema = z
  .object({
    includedCalls: z.number().int().nonnegative().meta({ description: 'Metered calls included per month.' }),
    overagePer1000: z.number().nonnegative().finite().meta({
      description: 'Price of each 1,000 calls past the included ones (pro rata), in `currency`.',
    }),
    stripePrice: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,255}$/)
      .optional()
      .meta({
        description:
          "The Stripe price id of this plan's subscription: a subscription event with this price sets the plan.",
      }),
  })
  .strict();

const DEFAULT_PLANS = {
  starter: { includedCalls: 10_000, overagePer1000: 2 },
  team: { includedCalls: 100_000, overagePer1000: 1.5 },
  enterprise: { includedCalls: 1_000_000, overagePer1000: 1 },
};

export const StripeSchema = z
  .object({
    webhookSecret: z.string().min(1).optional().meta({
      description:
        'The endpoint secret (whsec_…) that signs Stripe-Signature; write `${STRIPE_WEBHOOK_SECRET}`. Without it POST /billing/stripe/webhook answers 404.',
    }),
    tolerance: Duration.default(300_000).meta({
      description: "How far an event's signed timestamp may be from now (replay window).",
    }),
    meteredPrice: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,255}$/)
      .optional()
      .meta({
        description: 'The metered price (or subscription item) the usage-record export reports against.',
      }),
    usageExport: z
      .object({
        file: z
          .string()
          .min(1)
          .optional()
          .meta({ description: 'Write usage records (JSON lines) to this file.' }),
        url: z
          .url({ protocol: /^https?$/ })
          .optional()
          .meta({ description: 'POST usage records (JSON) here.' }),
      })
      .strict()
      .default({}),
  })
  .strict();

export const BillingSchema = z
  .object({
    currency: z
      .string()
      .regex(/^[a-z]{3}$/)
      .default('usd'),
    defaultPlan: z.string().min(1).default('starter'),
    plans: z.record(z.string().regex(/^[a-z][a-z0-9-]{0,62}$/), PlanSchema).default(DEFAULT_PLANS),
    stripe: StripeSchema.prefault({}),
  })
  .strict()
  .superRefine((billing, ctx) => {
    if (!Object.hasOwn(billing.plans, billing.defaultPlan)) {
      ctx.addIssue({
        code: 'custom',
        message: `unknown plan "${billing.defaultPlan}"`,
        path: ['defaultPlan'],
      });
    }
  });

export type Plan = z.output<typeof PlanSchema>;
export type BillingConfig = z.output<typeof BillingSchema>;
