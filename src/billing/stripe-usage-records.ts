/**
 * The usage-record export: each tenant's billable calls of a period in the shape of Stripe's
 * metered usage records (`POST /v1/subscription_items/{id}/usage_records`: `quantity`,
 * `timestamp`, `action: set`), against the subscription item of `billing.stripe.meteredPrice`
 * that the webhook stored. `action: set` with a per-tenant, per-period idempotency key makes a
 * re-export replace, never add. mcplane makes no call to Stripe itself: the records go to a file
 * (JSON lines) or are POSTed to a configured URL (a relay that holds the Stripe API key).
 */
import { appendFile } from 'node:fs/promises';
import { GatewayError } from '../errors.ts';
import type { TenantBilling } from '../store/usage-records.ts';
import type { BillingConfig } from './billing-schema.ts';
import type { BillingPeriod } from './billing-period.ts';
import type { InvoiceLine } from './invoice.ts';

export type UsageRecord = {
  readonly subscription_item: string;
  readonly quantity: number;
  readonly timestamp: number;
  readonly action: 'set';
  readonly idempotency_key: string;
  readonly metadata: { readonly tenant: string; readonly period: string };
};

export type UsageRecordExport = {
  readonly period: string;
  readonly destination: string | null;
  readonly records: readonly UsageRecord[];
  readonly skipped: readonly { readonly tenant: string; readonly reason: string }[];
};

const POST_TIMEOUT_MS = 10_000;

export function usageRecords(
  period: BillingPeriod,
  lines: readonly InvoiceLine[],
  states: ReadonlyMap<string, TenantBilling>,
  now: number,
): Pick<UsageRecordExport, 'records' | 'skipped'> {
  // Within the period (Stripe refuses a timestamp outside the subscription's current period).
  const timestamp = Math.floor(Math.min(now, Date.parse(period.until) - 1000) / 1000);
  const records: UsageRecord[] = [];
  const skipped: { tenant: string; reason: string }[] = [];
  for (const line of lines) {
    const item = states.get(line.tenant)?.stripeSubscriptionItemId;
    if (!item) {
      skipped.push({ tenant: line.tenant, reason: 'no Stripe subscription item of the metered price' });
      continue;
    }
    records.push({
      subscription_item: item,
      quantity: line.billableCalls,
      timestamp,
      action: 'set',
      idempotency_key: `mcplane-${line.tenant}-${period.period}`,
      metadata: { tenant: line.tenant, period: period.period },
    });
  }
  return { records, skipped };
}

/** Sends the records where `billing.stripe.usageExport` says; returns where, or null for nowhere. */
export async function deliverUsageRecords(
  billing: BillingConfig,
  records: readonly UsageRecord[],
): Promise<string | null> {
  const { file, url } = billing.stripe.usageExport;
  if (file !== undefined) {
    await appendFile(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''), { mode: 0o600 });
    return `file:${file}`;
  }
  if (url !== undefined) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ records }),
        signal: AbortSignal.timeout(POST_TIMEOUT_MS),
      });
    } catch {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', 'The usage-record URL could not be reached');
    }
    if (!response.ok) {
      throw new GatewayError('UPSTREAM_UNAVAILABLE', `The usage-record URL answered ${response.status}`);
    }
    return new URL(url).origin;
  }
  return null;
}
