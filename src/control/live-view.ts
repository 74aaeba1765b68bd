/**
 * The one current, immutable view of who may use what: the tenants of `servers.config.yaml`
 * and of the store together, each with the servers it may use and its per-server overrides,
 * and the active grants between tenants. The running gateway reads only this view (never the
 * raw config's tenants or the store directly); a change builds a new view and swaps it in.
 */
import type { Config } from '../config/schema.ts';
import { grantState } from '../store/grant-state.ts';
import { overridesByTenant, type TenantLimitOverrides } from '../limits/effective-limits.ts';
import type { Grant, LimitOverride, ResolvedServerConfig, Tenant } from '../store/records.ts';

export type TenantStatus = 'active' | 'suspended' | 'deleted';

/** An env or args override of one server for one tenant, ready to spawn with. */
export type ServerOverride = {
  readonly env?: Readonly<Record<string, string>>;
  readonly args?: readonly string[];
};

export type TenantView = {
  readonly id: string;
  readonly name: string;
  readonly tier: string;
  readonly status: TenantStatus;
  /** `config`: declared in servers.config.yaml, read-only through the admin API. */
  readonly managedBy: 'config' | 'store';
  readonly servers: '*' | readonly string[];
  readonly overrides: Readonly<Record<string, ServerOverride>>;
  /** The tenant's own session limits over `gateway.sessionLimits`. */
  readonly sessionLimits: Readonly<{ perTenant?: number; perPrincipal?: number }>;
};

export type LiveView = {
  /** The config the data plane runs (servers and gateway settings). */
  readonly config: Config;
  readonly tenants: ReadonlyMap<string, TenantView>;
  /** Grants neither revoked nor expired when the view was built. */
  readonly grants: readonly Grant[];
  /** The admin API's limit overrides, by tenant: what the limit stage reads per call. */
  readonly limits: ReadonlyMap<string, TenantLimitOverrides>;
  /** The store version the view was built from (0 without a store). */
  readonly storeVersion: number;
};

/** What the store contributes to a view. */
export type StoreSnapshot = {
  readonly version: number;
  readonly tenants: readonly Tenant[];
  readonly serverConfigs: readonly ResolvedServerConfig[];
  readonly grants: readonly Grant[];
  /** Absent: none. */
  readonly limitOverrides?: readonly LimitOverride[];
};

export const EMPTY_SNAPSHOT: StoreSnapshot = {
  version: 0,
  tenants: [],
  serverConfigs: [],
  grants: [],
  limitOverrides: [],
};

/**
 * Builds a view. A store tenant whose id a config tenant also uses is left out (the store
 * refuses to create one, so this only guards a config edited afterwards) and reported. Grants
 * that have expired by `now` are left out, so rebuilding from the same snapshot drops them.
 */
export function buildLiveView(
  config: Config,
  snapshot: StoreSnapshot = EMPTY_SNAPSHOT,
  now: number = Date.now(),
): { view: LiveView; shadowed: string[] } {
  const tenants = new Map<string, TenantView>();
  for (const [id, tenant] of Object.entries(config.tenants)) {
    tenants.set(id, {
      id,
      name: tenant.name,
      tier: tenant.tier,
      status: 'active',
      managedBy: 'config',
      servers: tenant.servers,
      overrides: tenant.overrides,
      sessionLimits: tenant.sessionLimits ?? {},
    });
  }
  const overrides = storeOverrides(snapshot.serverConfigs, config);
  const shadowed: string[] = [];
  for (const tenant of snapshot.tenants) {
    if (tenants.has(tenant.id)) {
      shadowed.push(tenant.id);
      continue;
    }
    tenants.set(tenant.id, {
      id: tenant.id,
      name: tenant.name,
      tier: tenant.tier,
      status: tenant.status,
      managedBy: 'store',
      servers: '*',
      overrides: overrides.get(tenant.id) ?? {},
      sessionLimits: {},
    });
  }
  const view: LiveView = Object.freeze({
    config,
    tenants,
    grants: Object.freeze(snapshot.grants.filter((grant) => grantState(grant, now) === 'active')),
    limits: overridesByTenant(snapshot.limitOverrides ?? []),
    storeVersion: snapshot.version,
  });
  return { view, shadowed };
}

/** Store overrides by tenant, with secrets opened into plain strings for the child. */
function storeOverrides(
  configs: readonly ResolvedServerConfig[],
  config: Config,
): Map<string, Record<string, ServerOverride>> {
  const byTenant = new Map<string, Record<string, ServerOverride>>();
  for (const entry of configs) {
    // A stored override for a server the config no longer has is kept in the store but unused.
    if (config.servers[entry.server] === undefined) continue;
    const own = byTenant.get(entry.tenantId) ?? {};
    own[entry.server] = {
      env: Object.fromEntries(Object.entries(entry.env).map(([name, value]) => [name, plain(value)])),
      ...(entry.args === null ? {} : { args: entry.args.map(plain) }),
    };
    byTenant.set(entry.tenantId, own);
  }
  return byTenant;
}

function plain(value: string | { readonly secret: string }): string {
  return typeof value === 'string' ? value : value.secret;
}

/** Whether a tenant of the view may use a server. */
export function tenantAllows(tenant: TenantView | undefined, server: string): boolean {
  if (tenant === undefined || tenant.status !== 'active') return false;
  return tenant.servers === '*' || tenant.servers.includes(server);
}
