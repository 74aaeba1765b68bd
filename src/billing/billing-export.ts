/**
 * The billing export of a period: one invoice line per tenant, for every tenant the gateway
 * knows and every tenant with usage in the period (one since removed too), or for one tenant.
 */
import type { Store } from '../store/store.ts';
import type { BillingConfig } from './billing-schema.ts';
import { parsePeriod } from './billing-period.ts';
import { invoiceLine, type InvoiceLine } from './invoice.ts';

export async function billingExport(
  store: Store,
  billing: BillingConfig,
  input: { period: string; tenants: readonly string[]; only?: string },
): Promise<InvoiceLine[]> {
  const { period, since, until } = parsePeriod(input.period);
  const totals = await store.usage.totals(since, until);
  const byTenant = new Map(totals.map((row) => [row.tenantId, row]));
  const plans =
    input.only === undefined
      ? new Map((await store.billing.list()).map((row) => [row.tenantId, row.plan]))
      : new Map([[input.only, (await store.billing.get(input.only))?.plan]]);
  const tenants =
    input.only === undefined ? [...new Set([...input.tenants, ...byTenant.keys()])].sort() : [input.only];
  return tenants.map((tenant) =>
    invoiceLine(billing, { tenant, period, plan: plans.get(tenant), totals: byTenant.get(tenant) }),
  );
}
