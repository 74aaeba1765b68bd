/** Joins the Stripe webhook (billing/stripe-webhook.ts) to the running gateway and its store. */
import { STRIPE_WEBHOOK_PATH, stripeWebhook } from '../billing/stripe-webhook.ts';
import type { Gateway } from '../gateway.ts';
import type { HttpFrontOptions } from '../ingress/http/http-app.ts';
import type { Store } from '../store/store.ts';

export function webhooksFor(gateway: Gateway, store: Store): NonNullable<HttpFrontOptions['webhooks']> {
  const app = stripeWebhook({
    store,
    log: gateway.log,
    billing: () => gateway.config.billing,
    tenantExists: (tenantId) => gateway.view.tenants.has(tenantId),
    applied: () => gateway.applyStore(),
  });
  return { paths: [STRIPE_WEBHOOK_PATH], fetch: (request) => app.fetch(request) };
}
