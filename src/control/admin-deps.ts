/**
 * Joins the admin API to the running gateway: what it reads (the view, the status) and what it
 * sets off (applying store changes, closing a tenant, probing a server config, reloading).
 */
import type { AdminDeps } from '../admin/admin-context.ts';
import type { Gateway } from '../gateway.ts';
import type { Store } from '../store/store.ts';
import type { ConfigReloader } from './config-reloader.ts';

export function adminDeps(
  gateway: Gateway,
  store: Store,
  reloader: ConfigReloader,
  configSource: string,
): AdminDeps {
  return {
    store,
    log: gateway.log,
    get pepper() {
      return gateway.config.gateway.auth.apiKeys.pepper;
    },
    configSource,
    authenticate: (headers) => gateway.authenticate(headers),
    view: () => gateway.view,
    applied: () => gateway.applyStore(),
    closeTenant: (tenantId) => gateway.closeTenant(tenantId),
    probe: (tenantId, server, override, secrets) => gateway.probe(tenantId, server, override, secrets),
    status: () => ({
      ...gateway.status(),
      sessionsByTenant: gateway.sessionsByTenant(),
      ready: gateway.ready,
      pinning: gateway.pinning.stats(),
    }),
    callTotals: async () => gateway.metrics?.calls.totals(),
    pools: () =>
      [...gateway.servers].map(([server, upstream]) => ({
        server,
        mode: upstream.mode,
        ...upstream.restarts,
        pools: upstream.poolDetails(),
      })),
    drainProcess: (server, pid, tenant) => gateway.servers.get(server)?.drainProcess(pid, tenant) ?? false,
    policies: () => gateway.policies,
    reload: () => reloader.reload('admin-api'),
    pinning: gateway.pinning,
    get audit() {
      return gateway.auditReader;
    },
    auditChange: (change) => gateway.auditAdminChange(change),
    flushUsage: async () => {
      await gateway.meter?.flush();
    },
    limits: gateway.limits,
  };
}
