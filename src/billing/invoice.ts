/**
 * What a tenant owes for a period under its plan: the calls it made that succeeded (`calls -
 * errors`: a refusal, a failure or a tool's own error is metered but not billed), the part of
 * them its plan includes, the overage past it, and the overage's amount at the plan's price per
 * 1,000 calls, pro rata, rounded to the cent. Usage cost (the servers' `cost:` weights) is
 * reported beside it, not added: it is what the platform spends, for pricing decisions.
 */
import type { UsageTotals } from '../store/usage-records.ts';
import type { BillingConfig, Plan } from './billing-schema.ts';

export type InvoiceLine = {
  readonly tenant: string;
  readonly period: string;
  readonly plan: string;
  readonly currency: string;
  readonly calls: number;
  readonly errors: number;
  readonly billableCalls: number;
  readonly includedCalls: number;
  readonly overageCalls: number;
  readonly overagePer1000: number;
  /** The overage amount in the currency's main unit, two decimals. */
  readonly amount: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly cost: number;
};

const EMPTY: Omit<UsageTotals, 'tenantId'> = {
  calls: 0,
  errors: 0,
  bytesIn: 0,
  bytesOut: 0,
  cpuSeconds: 0,
  wallSeconds: 0,
  cost: 0,
};

/** The plan a tenant is on: its stored one if the config still has it, else the default. */
export function planOf(billing: BillingConfig, stored: string | undefined): { name: string; plan: Plan } {
  const name = stored !== undefined && Object.hasOwn(billing.plans, stored) ? stored : billing.defaultPlan;
  return { name, plan: billing.plans[name] as Plan };
}

export function invoiceLine(
  billing: BillingConfig,
  input: { tenant: string; period: string; plan: string | undefined; totals: UsageTotals | undefined },
): InvoiceLine {
  const { name, plan } = planOf(billing, input.plan);
  const totals = input.totals ?? { ...EMPTY, tenantId: input.tenant };
  const billableCalls = Math.max(0, totals.calls - totals.errors);
  const overageCalls = Math.max(0, billableCalls - plan.includedCalls);
  const centsPer1000 = Math.round(plan.overagePer1000 * 100);
  return {
    tenant: input.tenant,
    period: input.period,
    plan: name,
    currency: billing.currency,
    calls: totals.calls,
    errors: totals.errors,
    billableCalls,
    includedCalls: Math.min(billableCalls, plan.includedCalls),
    overageCalls,
    overagePer1000: plan.overagePer1000,
    amount: Math.round((overageCalls * centsPer1000) / 1000) / 100,
    bytesIn: totals.bytesIn,
    bytesOut: totals.bytesOut,
    cpuSeconds: round6(totals.cpuSeconds),
    wallSeconds: round6(totals.wallSeconds),
    cost: round6(totals.cost),
  };
}

function round6(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

export const INVOICE_COLUMNS: readonly (keyof InvoiceLine)[] = [
  'tenant',
  'period',
  'plan',
  'currency',
  'calls',
  'errors',
  'billableCalls',
  'includedCalls',
  'overageCalls',
  'overagePer1000',
  'amount',
  'bytesIn',
  'bytesOut',
  'cpuSeconds',
  'wallSeconds',
  'cost',
];

/** RFC 4180 CSV with a header row; a field starting with =, +, - or @ is quoted and prefixed with ' (CSV injection). */
export function invoiceCsv(lines: readonly InvoiceLine[]): string {
  const field = (value: string | number): string => {
    let text = String(value);
    if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n']/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  const rows = [
    INVOICE_COLUMNS.join(','),
    ...lines.map((line) => INVOICE_COLUMNS.map((c) => field(line[c])).join(',')),
  ];
  return `${rows.join('\r\n')}\r\n`;
}
