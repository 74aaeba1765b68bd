/**
 * Stripe's webhook signature (https://docs.stripe.com/webhooks#verify-manually): the
 * `Stripe-Signature` header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`, each `v1` an
 * HMAC-SHA256 of `<t>.<raw body>` under the endpoint secret. Several `v1` appear while a secret
 * is being rolled; any one matching is enough. A timestamp further than the tolerance from now is
 * refused, which bounds replays; an event id seen before is refused by the webhook on top.
 * Compared in constant time; nothing here logs or returns the secret or the expected signature.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'mismatch';

export type SignatureCheck =
  | { readonly ok: true; readonly timestamp: number }
  | { readonly ok: false; readonly failure: SignatureFailure };

const HEX = /^[0-9a-f]{64}$/i;

export function signPayload(secret: string, timestamp: number, body: Buffer | string): string {
  return createHmac('sha256', secret)
    .update(`${timestamp}.`)
    .update(typeof body === 'string' ? Buffer.from(body) : body)
    .digest('hex');
}

export function verifyStripeSignature(input: {
  readonly header: string | null | undefined;
  readonly body: Buffer;
  readonly secret: string;
  readonly toleranceSeconds: number;
  readonly nowSeconds: number;
}): SignatureCheck {
  if (input.header === null || input.header === undefined || input.header.trim() === '') {
    return { ok: false, failure: 'missing' };
  }
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of input.header.split(',')) {
    const at = part.indexOf('=');
    if (at < 0) continue;
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    if (key === 'v1' && HEX.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || signatures.length === 0) return { ok: false, failure: 'malformed' };
  if (Math.abs(input.nowSeconds - timestamp) > input.toleranceSeconds) return { ok: false, failure: 'stale' };
  const expected = Buffer.from(signPayload(input.secret, timestamp, input.body), 'hex');
  // Every candidate is compared, whether or not one matched before it.
  let matched = false;
  for (const signature of signatures) {
    if (signature.length === expected.length && timingSafeEqual(signature, expected)) matched = true;
  }
  return matched ? { ok: true, timestamp } : { ok: false, failure: 'mismatch' };
}

/** Builds a header as Stripe would, for tests and for operators replaying a saved event. */
export function stripeSignatureHeader(secret: string, timestamp: number, body: Buffer | string): string {
  return `t=${timestamp},v1=${signPayload(secret, timestamp, body)}`;
}
