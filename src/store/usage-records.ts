/**
 * What the store keeps for metering and billing (docs/metering.md, docs/billing.md). Every
 * record carries its tenant id; `undefined` project, key, server or tool means "none".
 */

export type UsageKind = 'tool-call' | 'prompt-get' | 'resource-read' | 'sampling';
export const USAGE_KINDS: readonly UsageKind[] = ['tool-call', 'prompt-get', 'resource-read', 'sampling'];

/** One metered request (seed 004's `usage_events`, with server, kind, status and bytes). */
export type UsageEvent = {
  /** When it ended, ISO. */
  readonly ts: string;
  readonly tenantId: string;
  readonly projectId?: string;
  readonly apiKeyId?: string;
  /** `key:<id>`, `jwt:<sub>`, `local`, `anonymous`. */
  readonly principal: string;
  readonly server?: string;
  readonly kind: UsageKind;
  /** The tool or prompt name, a resource URI, or `sampling/createMessage`. */
  readonly tool?: string;
  readonly latencyMs: number;
  /** `ok`, `tool-error`, `upstream-error`, `cancelled` or a gateway error code. */
  readonly status: string;
  /** HTTP-like: 200 ok, else the status of the error (4xx refusals, 5xx failures). */
  readonly statusCode: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The server's `cost.perCall`, or 0. */
  readonly cost: number;
};

/** An event as read back: its cost went into the rollups. */
export type StoredUsageEvent = Omit<UsageEvent, 'cost'>;

/** CPU and wall time of upstream processes charged to a tenant (cost attribution). */
export type CostCharge = {
  readonly at: string;
  readonly tenantId: string;
  readonly server: string;
  readonly tool?: string;
  readonly apiKeyId?: string;
  readonly projectId?: string;
  readonly cpuUs: number;
  readonly wallUs: number;
  /** `cost.perCpuSecond` × CPU seconds. */
  readonly cost: number;
};

export type UsageGroupBy = 'day' | 'tool' | 'key' | 'project' | 'server';
export const USAGE_GROUPINGS: readonly UsageGroupBy[] = ['day', 'tool', 'key', 'project', 'server'];

export type UsageRow = {
  /** The day (YYYY-MM-DD), tool, key id, project id or server; `''` for "none". */
  readonly group: string;
  readonly calls: number;
  readonly errors: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly cost: number;
};

export type UsageTotals = Omit<UsageRow, 'group'> & { readonly tenantId: string };

export type TenantBilling = {
  readonly tenantId: string;
  readonly plan: string;
  readonly stripeCustomerId: string | null;
  readonly stripeSubscriptionId: string | null;
  /** The subscription item of the metered price, which usage records are reported against. */
  readonly stripeSubscriptionItemId: string | null;
  readonly subscriptionStatus: string | null;
  /** The keys billing suspended; reactivation resumes these only. */
  readonly suspendedKeyIds: readonly string[];
  readonly updatedAt: string;
};

export type TenantBillingPatch = {
  readonly plan?: string;
  readonly stripeCustomerId?: string | null;
  readonly stripeSubscriptionId?: string | null;
  readonly stripeSubscriptionItemId?: string | null;
  readonly subscriptionStatus?: string | null;
  readonly suspendedKeyIds?: readonly string[];
};
