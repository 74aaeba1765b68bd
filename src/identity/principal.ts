/** What a principal may do beyond MCP: `member` uses MCP only; the admin roles manage tenants. */
export type Role = 'platform-admin' | 'tenant-admin' | 'member';

/**
 * Who is calling. Produced by identity (API key, JWT, or the local stdio face) and bound to a
 * session for its whole life: a session is never re-bound to another principal.
 */
export type Principal = {
  /** The tenant the principal acts for; always a tenant id from the config. */
  readonly tenantId: string;
  /** A stable identifier of the caller: `key:<id>`, `jwt:<sub>`, `local` or `anonymous`. */
  readonly subject: string;
  /** Granted scopes, e.g. `tools:call`. */
  readonly scopes: readonly string[];
  /** How the principal was established. */
  readonly via: 'api-key' | 'jwt' | 'local' | 'anonymous';
  /** Admin role; absent means `member`. A platform admin's `tenantId` names no tenant. */
  readonly role?: Role;
};

/**
 * The `tenantId` of a platform admin's principal: no tenant has it (tenant ids start with a
 * letter), so such a principal can open no MCP session.
 */
export const PLATFORM_TENANT = '*';

/** The principal of the local stdio face, which trusts the user who started it. */
export function localPrincipal(tenantId: string): Principal {
  return { tenantId, subject: 'local', scopes: ['*'], via: 'local' };
}

/** Whether two principals are the same caller; a session answers only to the one that opened it. */
export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.tenantId === b.tenantId && a.subject === b.subject && a.via === b.via;
}
