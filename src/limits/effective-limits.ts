/**
 * The limits that hold for a tenant and one of its keys: the tenant's tier (`tiers:`), with the
 * admin API's overrides over it. An override part replaces the tier's part of the same name
 * whole: a tenant override of `rateLimits.perKey` is the per-key rate of all its keys, and a key
 * override of `rateLimits.perKey` that key's own.
 */
import type { Rate, Tier } from '../config/tiers-schema.ts';
import type { LimitOverride, LimitOverrideValue } from '../store/records.ts';

/** The overrides of one tenant, as the live view holds them. */
export type TenantLimitOverrides = {
  readonly tenant?: LimitOverrideValue;
  readonly keys: ReadonlyMap<string, LimitOverrideValue>;
};

export type TenantLimits = {
  readonly rateLimits: { readonly perKey?: Rate; readonly perTenant?: Rate; readonly perTool?: Rate };
  readonly quota: { readonly monthlyCalls?: number; readonly monthlyCallsPerKey?: number };
};

export type KeyLimits = {
  readonly perKey?: Rate;
  readonly perTenant?: Rate;
  readonly perTool?: Rate;
  readonly quota: { readonly tenant?: number; readonly key?: number };
};

/** The tenant's own limits: its tier's, with its override over them. */
export function tenantLimits(tier: Tier, overrides: TenantLimitOverrides | undefined): TenantLimits {
  const own = overrides?.tenant;
  return {
    rateLimits: { ...tier.rateLimits, ...own?.rateLimits },
    quota: { ...tier.quota, ...own?.quota },
  };
}

/** What holds for one call by `keyId` (undefined for a principal that is not an API key). */
export function keyLimits(
  tenant: TenantLimits,
  overrides: TenantLimitOverrides | undefined,
  keyId?: string,
): KeyLimits {
  const own = keyId === undefined ? undefined : overrides?.keys.get(keyId);
  const perKey = own?.rateLimits?.perKey ?? tenant.rateLimits.perKey;
  const keyQuota = own?.quota?.monthlyCalls ?? tenant.quota.monthlyCallsPerKey;
  return {
    ...(perKey ? { perKey } : {}),
    ...(tenant.rateLimits.perTenant ? { perTenant: tenant.rateLimits.perTenant } : {}),
    ...(tenant.rateLimits.perTool ? { perTool: tenant.rateLimits.perTool } : {}),
    quota: {
      ...(tenant.quota.monthlyCalls === undefined ? {} : { tenant: tenant.quota.monthlyCalls }),
      ...(keyQuota === undefined || keyId === undefined ? {} : { key: keyQuota }),
    },
  };
}

/** The store's overrides, by tenant. */
export function overridesByTenant(rows: readonly LimitOverride[]): ReadonlyMap<string, TenantLimitOverrides> {
  type Entry = { tenant?: LimitOverrideValue; keys: Map<string, LimitOverrideValue> };
  const byTenant = new Map<string, Entry>();
  for (const row of rows) {
    const entry: Entry = byTenant.get(row.tenantId) ?? { keys: new Map<string, LimitOverrideValue>() };
    const value: LimitOverrideValue = {
      ...(row.rateLimits ? { rateLimits: row.rateLimits } : {}),
      ...(row.quota ? { quota: row.quota } : {}),
    };
    if (row.subject === '*') entry.tenant = value;
    else entry.keys.set(row.subject, value);
    byTenant.set(row.tenantId, entry);
  }
  return byTenant;
}
