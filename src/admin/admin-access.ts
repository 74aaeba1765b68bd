/**
 * Who may do what on the admin API. Roles (issue 7): a `platform-admin` does everything; a
 * `tenant-admin` manages its own tenant only; a `member` uses MCP only.
 *
 * A tenant admin asking for anything of another tenant gets 404, exactly like a tenant that does
 * not exist, so the API never tells which tenants exist. A member gets 403 everywhere.
 */
import { GatewayError } from '../errors.ts';
import type { Principal, Role } from '../identity/principal.ts';

export type AdminActor = {
  /** `key:<id>`, `jwt:<sub>`: what the admin change log records. */
  readonly subject: string;
  readonly role: Role;
  /** The tenant a tenant admin manages; `null` for a platform admin. */
  readonly tenantId: string | null;
};

export function actorOf(principal: Principal): AdminActor {
  const role = principal.role ?? 'member';
  if (role === 'member') {
    throw new GatewayError('FORBIDDEN', 'The admin API needs a platform-admin or tenant-admin credential', {
      detail: { reason: 'member' },
    });
  }
  return {
    subject: principal.subject,
    role,
    tenantId: role === 'platform-admin' ? null : principal.tenantId,
  };
}

/** Platform-wide operations: creating tenants, reloading, gateway status. */
export function requirePlatform(actor: AdminActor): void {
  if (actor.role !== 'platform-admin') {
    throw new GatewayError('FORBIDDEN', 'This needs a platform-admin credential', {
      detail: { reason: 'not_platform_admin' },
    });
  }
}

/** A tenant's resources: its own admin or a platform admin; anyone else sees nothing there. */
export function requireTenant(actor: AdminActor, tenantId: string): void {
  if (actor.role === 'platform-admin') return;
  if (actor.tenantId !== tenantId) throw notFound('tenant');
}

export function notFound(what: string): GatewayError {
  return new GatewayError('NOT_FOUND', `No such ${what}`);
}
