/**
 * `POST /billing/stripe/webhook`: Stripe's events, verified (stripe-signature.ts) before anything
 * is parsed, applied once per event id (a replayed or re-delivered event answers 200 and does
 * nothing), and then applied to the running gateway, so a suspended key is refused at once.
 * Answers 404 while `billing.stripe.webhookSecret` is unset: nothing unsigned is ever accepted.
 */
import { Hono } from 'hono';
import { GatewayError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { problemResponse } from '../admin/problem.ts';
import type { Store } from '../store/store.ts';
import type { BillingConfig } from './billing-schema.ts';
import { applyStripeEvent, HANDLED_EVENTS, type StripeEvent } from './stripe-events.ts';
import { verifyStripeSignature, type SignatureFailure } from './stripe-signature.ts';

export const STRIPE_WEBHOOK_PATH = '/billing/stripe/webhook';

export type WebhookDeps = {
  readonly store: Store;
  readonly log: Logger;
  /** The live config's `billing` (a reload may change the secret). */
  billing(): BillingConfig;
  tenantExists(tenantId: string): boolean;
  /** Applies the store's changes to the running gateway (keys suspended or resumed). */
  applied(): Promise<void>;
  /** Epoch ms; tests inject a clock. */
  now?(): number;
};

const FAILURES: Record<SignatureFailure, string> = {
  missing: 'The Stripe-Signature header is missing',
  malformed: 'The Stripe-Signature header has no timestamp or no v1 signature',
  stale: 'The Stripe-Signature timestamp is outside the tolerance',
  mismatch: 'No signature matches the payload',
};

function eventOf(body: Buffer): StripeEvent | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const event = parsed as { id?: unknown; type?: unknown; data?: { object?: unknown } };
  if (typeof event !== 'object' || event === null) return undefined;
  if (typeof event.id !== 'string' || typeof event.type !== 'string') return undefined;
  const object = event.data?.object;
  if (typeof object !== 'object' || object === null || Array.isArray(object)) return undefined;
  return { id: event.id, type: event.type, data: { object: object as Record<string, unknown> } };
}

export function stripeWebhook(deps: WebhookDeps): Hono {
  const app = new Hono();
  app.post(STRIPE_WEBHOOK_PATH, async (c) => {
    const stripe = deps.billing().stripe;
    if (stripe.webhookSecret === undefined) {
      return problemResponse(new GatewayError('NOT_FOUND', 'The Stripe webhook is not configured'));
    }
    const body = Buffer.from(await c.req.arrayBuffer());
    const check = verifyStripeSignature({
      header: c.req.header('stripe-signature'),
      body,
      secret: stripe.webhookSecret,
      toleranceSeconds: Math.floor(stripe.tolerance / 1000),
      nowSeconds: Math.floor((deps.now?.() ?? Date.now()) / 1000),
    });
    if (!check.ok) {
      deps.log.warn({ failure: check.failure }, 'stripe webhook refused: bad signature');
      return problemResponse(new GatewayError('INVALID_REQUEST', FAILURES[check.failure]));
    }
    const event = eventOf(body);
    if (!event) {
      return problemResponse(new GatewayError('INVALID_REQUEST', 'The payload is not a Stripe event'));
    }
    if (!HANDLED_EVENTS.has(event.type)) return c.json({ received: true, ignored: true });
    if (await deps.store.billing.seen(event.id)) return c.json({ received: true, duplicate: true });
    try {
      const outcome = await applyStripeEvent(deps, event);
      await deps.store.billing.markSeen({ id: event.id, type: event.type, tenantId: outcome.tenant });
      await deps.applied();
      return c.json({ received: true, ...outcome });
    } catch (error) {
      if (error instanceof GatewayError && error.code !== 'INTERNAL') {
        deps.log.warn({ code: error.code, eventId: event.id, type: event.type }, 'stripe event not applied');
      }
      return problemResponse(error, deps.log);
    }
  });
  return app;
}
