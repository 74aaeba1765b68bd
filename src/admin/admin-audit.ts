/**
 * Every change asked of the admin API goes to the audit log (issue 8: "every change made
 * through the admin API"): each POST, PUT, PATCH and DELETE, refused ones included, as one
 * `admin-change` record with the actor, the route, the path, the outcome and the latency.
 *
 * The request body is left out, not even digested: a server config's body holds tenant secrets,
 * and a digest of a short secret can be guessed. What changed is in the store's change log.
 */
import type { MiddlewareHandler } from 'hono';
import { ERROR_CODES, type ErrorCode } from '../errors.ts';
import type { AdminChange } from '../audit/audit-recorder.ts';
import type { AuditOutcome } from '../audit/audit-record.ts';
import type { AdminEnv } from './admin-context.ts';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);
const TENANT_PATH = /^\/tenants\/([^/]+)/;

export function adminAudit(record: (change: AdminChange) => void): MiddlewareHandler<AdminEnv> {
  return async (c, next) => {
    if (READS.has(c.req.method)) return next();
    const started = performance.now();
    await next();
    const actor = c.get('actor') as AdminEnv['Variables']['actor'] | undefined;
    const route = c.req.matchedRoutes.filter((matched) => matched.method !== 'ALL').at(-1)?.path;
    const tenant = TENANT_PATH.exec(c.req.path)?.[1] ?? actor?.tenantId ?? '';
    record({
      tenant: safeText(tenant),
      principal: actor?.subject ?? 'unauthenticated',
      action: `${c.req.method} ${route ?? 'unknown route'}`,
      resource: safeText(c.req.path),
      outcome: await outcomeOf(c.res),
      face: 'admin-api',
      latencyMs: Math.round((performance.now() - started) * 1000) / 1000,
    });
  };
}

/** Paths are client input: bounded, and decoded only as far as the router did. */
function safeText(text: string): string {
  return text.slice(0, 512);
}

/** `ok` for a success, else the problem's registry code. */
async function outcomeOf(response: Response): Promise<AuditOutcome> {
  if (response.status < 400) return 'ok';
  try {
    const { code } = (await response.clone().json()) as { code?: unknown };
    if (typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)) return code as ErrorCode;
  } catch {
    // Not a problem document: fall through.
  }
  return response.status >= 500 ? 'INTERNAL' : 'INVALID_PARAMS';
}
