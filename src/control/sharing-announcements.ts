/**
 * When a view swap changes what is shared with a tenant (a grant made, revoked or expired, its
 * owner suspended), that tenant's open sessions must hear it: `list_changed` for tools, prompts
 * and resources, and their subscriptions on a pool no longer shared with them end. Calls in
 * flight there finish: the owner's pool is not touched, only what the grantee may start next.
 */
import type { LiveView } from './live-view.ts';
import type { Logger } from '../log.ts';
import type { Router } from '../router/router.ts';
import { routesOf, sharingChange } from '../router/server-route.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { UpstreamServer } from '../upstream/upstream-server.ts';

export type SharingSwap = {
  /** The view swapped out, and when it was built (what its grants meant then). */
  readonly before: LiveView;
  readonly builtAt: number;
  /** Derives the routes of the view swapped in. */
  readonly router: Router;
  readonly servers: ReadonlyMap<string, UpstreamServer>;
  readonly sessions: Iterable<ClientSession>;
  readonly log: Logger;
};

export function announceSharing(swap: SharingSwap): void {
  const byTenant = new Map<string, ClientSession[]>();
  for (const session of swap.sessions) {
    const list = byTenant.get(session.tenantId) ?? [];
    list.push(session);
    byTenant.set(session.tenantId, list);
  }
  for (const [tenantId, sessions] of byTenant) {
    const was = routesOf(swap.before, swap.servers, tenantId, swap.builtAt);
    const change = sharingChange(was, swap.router.routesFor(tenantId));
    if (!change.changed) continue;
    for (const session of sessions) {
      session.notifyListChanged('tools');
      session.notifyListChanged('prompts');
      session.notifyListChanged('resources');
      for (const ended of change.ended) {
        ended.server
          .release(session, ended.poolTenant)
          .catch((err: unknown) => swap.log.debug({ err }, 'could not end a shared subscription'));
      }
    }
  }
}
