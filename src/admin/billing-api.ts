/**
 * `/tenants/{id}/billing` (a tenant's plan and its Stripe customer) and
 * `/billing/stripe/usage-records` (the metered usage-record export, docs/billing.md). Setting a
 * plan or a customer mapping is the platform admin's; a tenant admin may read its own.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { billingExport } from '../billing/billing-export.ts';
import { parsePeriod, periodOf } from '../billing/billing-period.ts';
import { planOf } from '../billing/invoice.ts';
import { deliverUsageRecords, usageRecords } from '../billing/stripe-usage-records.ts';
import { GatewayError } from '../errors.ts';
import type { TenantBilling } from '../store/usage-records.ts';
import { notFound, requirePlatform, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, changeContext, jsonBody, jsonOf } from './admin-routes.ts';
import { TenantIdParam } from './admin-schemas.ts';
import { BillingPutSchema, TenantBillingSchema, UsageRecordsSchema } from './usage-schemas.ts';

const tags = ['billing'];

/** A tenant the gateway knows (config or store); anything else is 404 like another's. */
export function requireKnownTenant(deps: AdminDeps, tenantId: string): void {
  if (!deps.view().tenants.has(tenantId)) throw notFound('tenant');
}

function billingOut(deps: AdminDeps, tenant: string, stored: TenantBilling | undefined) {
  return {
    tenant,
    plan: planOf(deps.view().config.billing, stored?.plan).name,
    stored: stored !== undefined,
    stripeCustomerId: stored?.stripeCustomerId ?? null,
    stripeSubscriptionId: stored?.stripeSubscriptionId ?? null,
    stripeSubscriptionItemId: stored?.stripeSubscriptionItemId ?? null,
    subscriptionStatus: stored?.subscriptionStatus ?? null,
    suspendedKeyIds: [...(stored?.suspendedKeyIds ?? [])],
  };
}

export function billingApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/billing',
      tags,
      request: { params: TenantIdParam },
      responses: { 200: jsonOf(TenantBillingSchema, "The tenant's plan and Stripe mapping."), ...PROBLEMS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      requireKnownTenant(deps, id);
      return c.json(billingOut(deps, id, await deps.store.billing.get(id)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenants/{id}/billing',
      tags,
      request: { params: TenantIdParam, body: jsonBody(BillingPutSchema) },
      responses: { 200: jsonOf(TenantBillingSchema, 'Updated.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const actor = c.get('actor');
      requireTenant(actor, id);
      requirePlatform(actor);
      requireKnownTenant(deps, id);
      const body = c.req.valid('json');
      const plans = deps.view().config.billing.plans;
      if (body.plan !== undefined && !Object.hasOwn(plans, body.plan)) {
        throw new GatewayError(
          'INVALID_PARAMS',
          `plan must be one of the configured plans: ${Object.keys(plans).join(', ')}`,
        );
      }
      const current = await deps.store.billing.get(id);
      const saved = await deps.store.billing.put(
        id,
        {
          plan: body.plan ?? current?.plan ?? deps.view().config.billing.defaultPlan,
          ...(body.stripeCustomerId === undefined ? {} : { stripeCustomerId: body.stripeCustomerId }),
        },
        changeContext(c),
      );
      return c.json(billingOut(deps, id, saved), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/billing/stripe/usage-records',
      tags,
      request: {
        body: jsonBody(
          z.object({
            period: z
              .string()
              .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month, YYYY-MM')
              .optional(),
          }),
          false,
        ),
      },
      responses: {
        200: jsonOf(UsageRecordsSchema, 'The records, and where they were sent (null: nowhere configured).'),
        ...PROBLEMS,
        503: jsonOf(z.object({}).passthrough(), 'The configured URL did not take them.'),
      },
    }),
    async (c) => {
      requirePlatform(c.get('actor'));
      const body = (c.req.valid('json') as { period?: string } | undefined) ?? {};
      const period = parsePeriod(body.period ?? periodOf(new Date()).period);
      const billing = deps.view().config.billing;
      await deps.flushUsage();
      const lines = await billingExport(deps.store, billing, {
        period: period.period,
        tenants: [...deps.view().tenants.keys()],
      });
      const states = new Map((await deps.store.billing.list()).map((state) => [state.tenantId, state]));
      const { records, skipped } = usageRecords(period, lines, states, Date.now());
      const destination = await deliverUsageRecords(billing, records);
      return c.json(
        {
          period: period.period,
          destination,
          records: records.map((record) => ({ ...record, metadata: { ...record.metadata } })),
          skipped: skipped.map((item) => ({ ...item })),
        },
        200,
      );
    },
  );
}
