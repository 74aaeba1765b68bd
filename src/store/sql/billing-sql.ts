/**
 * A tenant's billing state (its plan, Stripe customer and subscription, the keys billing
 * suspended) and the Stripe events already applied. Setting billing state is an admin change:
 * it is logged and bumps the version, like any change to a tenant.
 */
import { GatewayError } from '../../errors.ts';
import type { TenantBilling, TenantBillingPatch } from '../usage-records.ts';
import type { ChangeContext } from '../store.ts';
import { checkId, checkTenantId, checkText, invalid } from '../validate.ts';
import { json, type Row } from './database.ts';
import { stringList, text, textOrNull, time } from './rows.ts';
import { scopeOf, type StoreContext } from './store-context.ts';

export type Billing = {
  get(tenantId: string): Promise<TenantBilling | undefined>;
  /** Platform-wide, by tenant id. */
  list(): Promise<TenantBilling[]>;
  /** Platform-wide: the tenant a Stripe customer was mapped to. */
  findByCustomer(customerId: string): Promise<TenantBilling | undefined>;
  /** Creates (with `plan`, required then) or updates a tenant's billing state. */
  put(tenantId: string, patch: TenantBillingPatch, context: ChangeContext): Promise<TenantBilling>;
  /** Whether a Stripe event id was applied before. */
  seen(eventId: string): Promise<boolean>;
  /** Records an applied event; false when it was recorded already. */
  markSeen(event: { id: string; type: string; tenantId: string | null }): Promise<boolean>;
};

export function billingFromRow(row: Row): TenantBilling {
  return {
    tenantId: text(row, 'tenant_id'),
    plan: text(row, 'plan'),
    stripeCustomerId: textOrNull(row, 'stripe_customer_id'),
    stripeSubscriptionId: textOrNull(row, 'stripe_subscription_id'),
    stripeSubscriptionItemId: textOrNull(row, 'stripe_subscription_item_id'),
    subscriptionStatus: textOrNull(row, 'subscription_status'),
    suspendedKeyIds: stringList(row, 'suspended_key_ids') ?? [],
    updatedAt: time(row, 'updated_at'),
  };
}

/** Stripe ids: `cus_…`, `sub_…`, `evt_…`. */
const STRIPE_ID = /^[A-Za-z0-9_]{1,255}$/;

function checkStripeId(value: string | null | undefined, field: string): void {
  if (value !== null && value !== undefined && !STRIPE_ID.test(value))
    throw invalid(`${field} must be letters, digits and underscores`);
}

function checkPatch(patch: TenantBillingPatch): void {
  if (patch.plan !== undefined) checkText(patch.plan, 'plan', 64);
  checkStripeId(patch.stripeCustomerId, 'stripeCustomerId');
  checkStripeId(patch.stripeSubscriptionId, 'stripeSubscriptionId');
  checkStripeId(patch.stripeSubscriptionItemId, 'stripeSubscriptionItemId');
  if (patch.subscriptionStatus !== undefined && patch.subscriptionStatus !== null)
    checkText(patch.subscriptionStatus, 'subscriptionStatus', 64);
  for (const id of patch.suspendedKeyIds ?? []) checkId(id, 'key id');
}

export function createBilling(ctx: StoreContext): Billing {
  return {
    async get(tenantId) {
      checkTenantId(tenantId);
      const [row] = await ctx.read({ tenantId }, (sql) =>
        sql.rows('SELECT * FROM tenant_billing WHERE tenant_id = $1', [tenantId]),
      );
      return row === undefined ? undefined : billingFromRow(row);
    },

    async list() {
      const rows = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM tenant_billing ORDER BY tenant_id'),
      );
      return rows.map(billingFromRow);
    },

    async findByCustomer(customerId) {
      checkStripeId(customerId, 'customer');
      const [row] = await ctx.read('platform', (sql) =>
        sql.rows('SELECT * FROM tenant_billing WHERE stripe_customer_id = $1', [customerId]),
      );
      return row === undefined ? undefined : billingFromRow(row);
    },

    async put(tenantId, patch, context) {
      checkTenantId(tenantId);
      checkPatch(patch);
      try {
        return await putBilling(ctx, tenantId, patch, context);
      } catch (error) {
        if (ctx.db.constraintKind(error) === 'unique')
          throw new GatewayError('CONFLICT', 'that Stripe customer is mapped to another tenant already');
        throw error;
      }
    },

    async seen(eventId) {
      checkStripeId(eventId, 'event id');
      const [row] = await ctx.read('platform', (sql) =>
        sql.rows('SELECT event_id FROM stripe_events WHERE event_id = $1', [eventId]),
      );
      return row !== undefined;
    },

    async markSeen(event) {
      checkStripeId(event.id, 'event id');
      checkText(event.type, 'event type', 128);
      if (event.tenantId !== null) checkTenantId(event.tenantId);
      const inserted = await ctx.read('platform', (sql) =>
        sql.run(
          `INSERT INTO stripe_events (event_id, tenant_id, type, received_at) VALUES ($1, $2, $3, $4)
           ON CONFLICT (event_id) DO NOTHING`,
          [event.id, event.tenantId, event.type, ctx.now().toISOString()],
        ),
      );
      return inserted > 0;
    },
  };
}

async function putBilling(
  ctx: StoreContext,
  tenantId: string,
  patch: TenantBillingPatch,
  context: ChangeContext,
): Promise<TenantBilling> {
  return ctx.write(scopeOf(tenantId), context, async ({ sql, at, log }) => {
    const [row] = await sql.rows('SELECT * FROM tenant_billing WHERE tenant_id = $1', [tenantId]);
    const before = row === undefined ? undefined : billingFromRow(row);
    const plan = patch.plan ?? before?.plan;
    if (plan === undefined) throw invalid('a tenant without billing state needs a plan');
    const pick = <K extends keyof TenantBillingPatch & keyof TenantBilling>(key: K) =>
      (patch[key] !== undefined ? patch[key] : (before?.[key] ?? null)) as TenantBilling[K] | null;
    const next = {
      plan,
      customer: pick('stripeCustomerId'),
      subscription: pick('stripeSubscriptionId'),
      item: pick('stripeSubscriptionItemId'),
      status: pick('subscriptionStatus'),
      suspended: patch.suspendedKeyIds ?? before?.suspendedKeyIds ?? [],
    };
    const [saved] = await sql.rows(
      `INSERT INTO tenant_billing (tenant_id, plan, stripe_customer_id, stripe_subscription_id,
           stripe_subscription_item_id, subscription_status, suspended_key_ids, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (tenant_id) DO UPDATE SET plan = excluded.plan,
           stripe_customer_id = excluded.stripe_customer_id,
           stripe_subscription_id = excluded.stripe_subscription_id,
           stripe_subscription_item_id = excluded.stripe_subscription_item_id,
           subscription_status = excluded.subscription_status,
           suspended_key_ids = excluded.suspended_key_ids, updated_at = excluded.updated_at
         RETURNING *`,
      [
        tenantId,
        next.plan,
        next.customer,
        next.subscription,
        next.item,
        next.status,
        json([...next.suspended]),
        at,
      ],
    );
    await log(tenantId, {
      action: 'billing.update',
      target: `tenant:${tenantId}`,
      details: {
        plan: next.plan,
        ...(before && before.plan !== next.plan ? { from: before.plan } : {}),
        ...(next.status === null ? {} : { subscriptionStatus: next.status }),
      },
    });
    return billingFromRow(saved as Row);
  });
}
