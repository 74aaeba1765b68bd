/**
 * What a verified Stripe event does to a tenant (docs/billing.md):
 *
 * - `customer.subscription.created` / `.updated`: the tenant's plan becomes the plan whose
 *   `stripePrice` is one of the subscription's prices (else `metadata.plan`, else unchanged); an
 *   `active` or `trialing` subscription activates the tenant's keys, a `canceled`, `unpaid`,
 *   `paused` or `incomplete_expired` one suspends them; `past_due` and `incomplete` leave them.
 * - `customer.subscription.deleted`: suspends the keys.
 * - `invoice.payment_failed`: suspends the keys.
 *
 * The tenant is the one the Stripe customer is mapped to in the store (`tenant_billing`), or
 * `metadata.tenant` of the subscription, which maps the customer on first sight. A customer
 * mapped to one tenant whose event names another is refused. Suspending records which keys it
 * suspended; activating resumes only those, never a key an admin suspended.
 */
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { Store } from '../store/store.ts';
import type { BillingConfig } from './billing-schema.ts';

export const HANDLED_EVENTS: ReadonlySet<string> = new Set([
  'customer.subscription.created',
  'customer.subscription.updated',
  'customer.subscription.deleted',
  'invoice.payment_failed',
]);

const ACTIVE = new Set(['active', 'trialing']);
const INACTIVE = new Set(['canceled', 'unpaid', 'paused', 'incomplete_expired']);
const ACTOR = { actor: 'stripe' };

export type StripeEvent = {
  readonly id: string;
  readonly type: string;
  readonly data: { readonly object: Record<string, unknown> };
};

export type EventOutcome = {
  readonly tenant: string;
  readonly plan: string;
  readonly keys: 'activated' | 'suspended' | 'unchanged';
};

type Subscription = {
  readonly id?: string;
  readonly customer?: string;
  readonly status?: string;
  readonly metadata: Record<string, unknown>;
  readonly items: readonly { readonly id?: string; readonly price?: string }[];
};

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** `customer` is an id, or an expanded object with one. */
function idOf(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null) return stringOf((value as { id?: unknown }).id);
  return stringOf(value);
}

function subscriptionOf(object: Record<string, unknown>): Subscription {
  const data = (object.items as { data?: unknown } | undefined)?.data;
  const items = Array.isArray(data)
    ? data.map((item: unknown) => {
        const record = (item ?? {}) as { id?: unknown; price?: unknown };
        return { id: stringOf(record.id), price: idOf(record.price) };
      })
    : [];
  const metadata =
    typeof object.metadata === 'object' && object.metadata !== null
      ? (object.metadata as Record<string, unknown>)
      : {};
  return {
    id: stringOf(object.id),
    customer: idOf(object.customer),
    status: stringOf(object.status),
    metadata,
    items,
  };
}

export type EventDeps = {
  readonly store: Store;
  readonly log: Logger;
  billing(): BillingConfig;
  tenantExists(tenantId: string): boolean;
};

async function tenantFor(deps: EventDeps, customer: string | undefined, named: string | undefined) {
  if (customer === undefined) throw new GatewayError('INVALID_PARAMS', 'the event names no customer');
  const mapped = await deps.store.billing.findByCustomer(customer);
  if (mapped && named !== undefined && named !== mapped.tenantId) {
    throw new GatewayError('CONFLICT', 'the customer is mapped to another tenant than metadata.tenant names');
  }
  const tenant = mapped?.tenantId ?? named;
  if (tenant === undefined || !deps.tenantExists(tenant)) {
    // Not 2xx: Stripe retries for days, time enough to map the customer (PUT .../billing).
    throw new GatewayError('NOT_FOUND', 'No tenant is mapped to this Stripe customer');
  }
  return { tenant, current: mapped ?? (await deps.store.billing.get(tenant)) };
}

async function setKeys(
  deps: EventDeps,
  tenant: string,
  want: 'activated' | 'suspended',
  suspendedBefore: readonly string[],
): Promise<string[]> {
  const keys = await deps.store.apiKeys.list(tenant);
  if (want === 'suspended') {
    const suspended = [...suspendedBefore];
    for (const key of keys) {
      if (key.status !== 'active') continue;
      await deps.store.apiKeys.setStatus(tenant, key.id, 'suspended', ACTOR);
      suspended.push(key.id);
    }
    return [...new Set(suspended)];
  }
  for (const key of keys) {
    if (key.status === 'suspended' && suspendedBefore.includes(key.id)) {
      await deps.store.apiKeys.setStatus(tenant, key.id, 'active', ACTOR);
    }
  }
  return [];
}

export async function applyStripeEvent(deps: EventDeps, event: StripeEvent): Promise<EventOutcome> {
  const billing = deps.billing();
  const object = event.data.object;
  const invoice = event.type === 'invoice.payment_failed';
  const subscription = subscriptionOf(invoice ? {} : object);
  const customer = invoice ? idOf(object.customer) : subscription.customer;
  const { tenant, current } = await tenantFor(deps, customer, stringOf(subscription.metadata.tenant));
  const byPrice = Object.entries(billing.plans).find(([, plan]) =>
    subscription.items.some((item) => plan.stripePrice !== undefined && item.price === plan.stripePrice),
  )?.[0];
  const named = stringOf(subscription.metadata.plan);
  const plan =
    byPrice ??
    (named !== undefined && Object.hasOwn(billing.plans, named) ? named : undefined) ??
    current?.plan ??
    billing.defaultPlan;
  const status = invoice
    ? 'payment_failed'
    : event.type === 'customer.subscription.deleted'
      ? 'canceled'
      : subscription.status;
  const want =
    status === 'payment_failed' || (status !== undefined && INACTIVE.has(status))
      ? 'suspended'
      : status !== undefined && ACTIVE.has(status)
        ? 'activated'
        : 'unchanged';
  const suspendedBefore = current?.suspendedKeyIds ?? [];
  const suspended =
    want === 'unchanged' ? [...suspendedBefore] : await setKeys(deps, tenant, want, suspendedBefore);
  const metered = subscription.items.find(
    (item) => item.price !== undefined && item.price === billing.stripe.meteredPrice,
  );
  await deps.store.billing.put(
    tenant,
    {
      plan,
      stripeCustomerId: customer ?? null,
      ...(subscription.id === undefined ? {} : { stripeSubscriptionId: subscription.id }),
      ...(metered?.id === undefined ? {} : { stripeSubscriptionItemId: metered.id }),
      ...(status === undefined ? {} : { subscriptionStatus: status }),
      suspendedKeyIds: suspended,
    },
    ACTOR,
  );
  deps.log.info({ tenant, plan, event: event.type, eventId: event.id, keys: want }, 'stripe event applied');
  return { tenant, plan, keys: want };
}
