import { describe, expect, it } from 'vitest';
import {
  signPayload,
  stripeSignatureHeader,
  verifyStripeSignature,
} from '../../src/billing/stripe-signature.ts';

const SECRET = 'whsec_test_secret';
const BODY = Buffer.from(
  JSON.stringify({ id: 'evt_1', type: 'invoice.payment_failed', data: { object: {} } }),
);
const NOW = 1_800_000_000;

function check(header: string | undefined, body = BODY, nowSeconds = NOW) {
  return verifyStripeSignature({ header, body, secret: SECRET, toleranceSeconds: 300, nowSeconds });
}

describe('Stripe-Signature verification', () => {
  it('accepts a payload signed with the secret within the tolerance', () => {
    expect(check(stripeSignatureHeader(SECRET, NOW - 10, BODY))).toEqual({ ok: true, timestamp: NOW - 10 });
  });

  it('refuses a tampered payload', () => {
    const header = stripeSignatureHeader(SECRET, NOW, BODY);
    const tampered = Buffer.from(BODY.toString().replace('payment_failed', 'payment_succeeded'));
    expect(check(header, tampered)).toEqual({ ok: false, failure: 'mismatch' });
  });

  it('refuses a signature made with another secret', () => {
    expect(check(stripeSignatureHeader('whsec_other', NOW, BODY))).toEqual({
      ok: false,
      failure: 'mismatch',
    });
  });

  it('refuses a timestamp outside the tolerance, in the past or the future, even when the signature is right', () => {
    expect(check(stripeSignatureHeader(SECRET, NOW - 301, BODY))).toEqual({ ok: false, failure: 'stale' });
    expect(check(stripeSignatureHeader(SECRET, NOW + 301, BODY))).toEqual({ ok: false, failure: 'stale' });
    expect(check(stripeSignatureHeader(SECRET, NOW - 300, BODY)).ok).toBe(true);
  });

  it('refuses a missing or empty header, and one without a timestamp or a v1 signature', () => {
    expect(check(undefined)).toEqual({ ok: false, failure: 'missing' });
    expect(check('  ')).toEqual({ ok: false, failure: 'missing' });
    expect(check(`v1=${signPayload(SECRET, NOW, BODY)}`)).toEqual({ ok: false, failure: 'malformed' });
    expect(check(`t=${NOW},v0=${signPayload(SECRET, NOW, BODY)}`)).toEqual({
      ok: false,
      failure: 'malformed',
    });
    expect(check(`t=${NOW},v1=nothex`)).toEqual({ ok: false, failure: 'malformed' });
  });

  it('accepts any one of several v1 signatures (a secret being rolled)', () => {
    const good = signPayload(SECRET, NOW, BODY);
    const other = signPayload('whsec_old', NOW, BODY);
    expect(check(`t=${NOW},v1=${other},v1=${good}`).ok).toBe(true);
    expect(check(`t=${NOW}, v1=${good}, v0=abc`).ok).toBe(true);
  });

  it('signs the exact bytes: a re-serialised body with the same JSON is refused', () => {
    const header = stripeSignatureHeader(SECRET, NOW, BODY);
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(BODY.toString()), null, 2));
    expect(check(header, reformatted)).toEqual({ ok: false, failure: 'mismatch' });
  });
});
