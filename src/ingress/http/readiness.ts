/**
 * `GET /ready`, the readiness probe an orchestrator polls without a credential. Anyone learns
 * only whether the gateway is ready (200) or not (503). The details (per-server pools, whose
 * names carry tenant ids, and session counts) go only to a caller whose credential grants the
 * `admin` scope by name: `*` does not grant it, so neither the demo's anonymous access nor an
 * ordinary tenant key sees another tenant's ids. The admin API (`/admin/v1/status`, with the
 * control plane) is where operators will read them.
 */
import type { Context } from 'hono';
import type { Gateway } from '../../gateway.ts';
import type { Principal } from '../../identity/principal.ts';

/** The scope that opens operator-only views; never implied by `*`. */
export const ADMIN_SCOPE = 'admin';

export function readinessProbe(
  gateway: Gateway,
  authenticate: (headers: Headers) => Promise<Principal>,
  draining: () => boolean,
): (c: Context) => Promise<Response> {
  return async (c) => {
    const ready = gateway.ready && !draining();
    const admin = await authenticate(c.req.raw.headers).then(
      (principal) => principal.scopes.includes(ADMIN_SCOPE),
      // A probe never answers 401: without a valid admin credential it is the public answer.
      () => false,
    );
    return c.json(admin ? { ready, ...gateway.status() } : { ready }, ready ? 200 : 503);
  };
}
