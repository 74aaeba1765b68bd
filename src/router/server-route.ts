/**
 * A route is one server as one tenant's sessions see it: one of the tenant's own servers, or a
 * server another tenant shares with it by a grant (seed 000). A shared server is the owner's own
 * instance: it runs on the owner's tenant pool, with the owner's credentials, and is listed
 * name-spaced by its owner (`acme.kb__search`). Everything that asks "which servers does this
 * session reach, and on whose pool" asks the routes; nothing else knows of grants.
 */
import { tenantAllows, type LiveView } from '../control/live-view.ts';
import { grantState } from '../store/grant-state.ts';
import type { Grant, GrantAccess } from '../store/records.ts';
import type { ServerCatalog } from '../upstream/server-catalog.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';

/** What the data plane keeps of a grant. */
export type SharedGrant = {
  readonly id: string;
  /** The tenant whose server instance is shared. */
  readonly owner: string;
  readonly access: GrantAccess;
  /** For `read`: the tools shared instead of those marked `readOnlyHint`. */
  readonly tools: readonly string[] | null;
  /** Epoch milliseconds; `Infinity` for a grant without expiry. */
  readonly expiresAt: number;
};

export type ServerRoute = {
  readonly kind: 'upstream';
  readonly server: UpstreamServer;
  /** What the session calls it: the server's own name, or `<owner>.<server>` when shared. */
  readonly name: string;
  /** Whose tenant pool serves it: the session's own tenant, or the grant's owner. */
  readonly poolTenant: string;
  /** Whether tools and prompts are listed as `<name><separator><tool>`; always for a shared server. */
  readonly spaced: boolean;
  readonly grant?: SharedGrant;
};

/**
 * Separates a shared server's owner from the server's name. Tenant ids and server names never
 * hold it (both are `[a-z][a-z0-9-]*`), and the config refuses a namespace separator that does.
 */
export const OWNER_SEPARATOR = '.';

/**
 * The routes of a tenant: its own servers in config order, then the servers shared with it. A
 * grant is inert (no route) while its owner is not active, may not use the server itself, or the
 * server is no longer `mode: tenant` (a reload may change it); it comes back when that changes.
 */
export function routesOf(
  view: LiveView,
  servers: ReadonlyMap<string, UpstreamServer>,
  tenantId: string,
  now: number,
): ServerRoute[] {
  const tenant = view.tenants.get(tenantId);
  const routes: ServerRoute[] = [];
  for (const server of servers.values()) {
    if (!tenantAllows(tenant, server.name)) continue;
    routes.push({
      kind: 'upstream',
      server,
      name: server.name,
      poolTenant: tenantId,
      spaced: server.settings.namespace,
    });
  }
  if (tenant?.status !== 'active') return routes;
  for (const grant of view.grants) {
    if (grant.granteeTenantId !== tenantId || grantState(grant, now) !== 'active') continue;
    const server = servers.get(grant.server);
    if (server?.mode !== 'tenant') continue;
    if (!tenantAllows(view.tenants.get(grant.ownerTenantId), grant.server)) continue;
    routes.push({
      kind: 'upstream',
      server,
      name: `${grant.ownerTenantId}${OWNER_SEPARATOR}${grant.server}`,
      poolTenant: grant.ownerTenantId,
      spaced: true,
      grant: sharedGrant(grant),
    });
  }
  return routes;
}

function sharedGrant(grant: Grant): SharedGrant {
  return {
    id: grant.id,
    owner: grant.ownerTenantId,
    access: grant.access,
    tools: grant.tools,
    expiresAt: grant.expiresAt === null ? Infinity : Date.parse(grant.expiresAt),
  };
}

/** Whether a route is still in force at `now` (a grant may have expired since it was derived). */
export function routeLive(route: ServerRoute, now: number): boolean {
  return route.grant === undefined || route.grant.expiresAt > now;
}

/**
 * What a grant lets its grantee see of the owner's catalog: `full`, all of it; `read`, the tools
 * the grant names or, without a list, those the server marks `readOnlyHint: true` (MCP's hint;
 * absent means false), and every prompt, resource and template.
 */
export function grantedCatalog(catalog: ServerCatalog, grant: SharedGrant | undefined): ServerCatalog {
  if (grant === undefined || grant.access === 'full') return catalog;
  const named = grant.tools === null ? undefined : new Set(grant.tools);
  const tools = catalog.tools.filter((tool) =>
    named ? named.has(tool.name) : tool.annotations?.readOnlyHint === true,
  );
  return tools.length === catalog.tools.length ? catalog : { ...catalog, tools };
}

/** What changed of a tenant's shared servers between two derivations of its routes. */
export type SharingChange = {
  /** Whether a shared server appeared, went, or was shared differently (access, tools). */
  readonly changed: boolean;
  /** Shared routes that are gone. */
  readonly ended: readonly ServerRoute[];
};

export function sharingChange(was: readonly ServerRoute[], is: readonly ServerRoute[]): SharingChange {
  const now = new Map(is.flatMap((route) => (route.grant ? [[route.name, sharingKey(route.grant)]] : [])));
  const before = was.filter((route) => route.grant !== undefined);
  const ended = before.filter((route) => !now.has(route.name));
  const changed =
    ended.length > 0 ||
    now.size !== before.length ||
    before.some((route) => now.get(route.name) !== sharingKey(route.grant as SharedGrant));
  return { changed, ended };
}

function sharingKey(grant: SharedGrant): string {
  return JSON.stringify([grant.id, grant.access, grant.tools]);
}
