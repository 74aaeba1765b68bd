/**
 * A tenant's own configuration of a `mode: tenant` server (seed 002), as the admin API's
 * `/tenants/{id}/servers/{server}` and the `mcplane` MCP tools both manage it. Before anything is
 * stored, the server is started with the new configuration and must answer `initialize` and
 * `tools/list` within its startup timeout (seed 002's FR-MCP-002); otherwise
 * SERVER_CONFIG_REJECTED with the child's error, secrets scrubbed. Secret values are encrypted at
 * rest and only ever shown masked.
 */
import { GatewayError } from '../errors.ts';
import { applyServerConfigPatch, processOverride } from '../store/server-config-values.ts';
import type { ServerConfigView } from '../store/records.ts';
import type { ServerConfigInput, ServerConfigPatch } from '../store/store.ts';
import { notFound, requireTenant, type AdminActor } from './admin-access.ts';
import { actorContext, type ManagementDeps } from './tenant-management.ts';
import { storeTenant } from './tenants-api.ts';

/** Only a tenant-mode server runs with a tenant's own configuration. */
function tenantServer(deps: ManagementDeps, server: string): void {
  const spec = deps.view().config.servers[server];
  if (!spec) throw notFound('server');
  if (spec.mode !== 'tenant') {
    throw new GatewayError(
      'INVALID_PARAMS',
      `Server ${server} runs in ${spec.mode} mode; a tenant's own configuration needs mode: tenant`,
    );
  }
}

async function validated(
  deps: ManagementDeps,
  tenantId: string,
  server: string,
  input: ServerConfigInput,
): Promise<void> {
  const { env, args, secrets } = processOverride(input);
  await deps.probe(tenantId, server, args === undefined ? { env } : { env, args }, secrets);
}

async function managed(deps: ManagementDeps, actor: AdminActor, tenantId: string): Promise<void> {
  requireTenant(actor, tenantId);
  await storeTenant(deps, tenantId);
}

/** Registers (or replaces) the tenant's config, once the server started with it. */
export async function registerServerConfig(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  server: string,
  input: ServerConfigInput,
): Promise<ServerConfigView> {
  await managed(deps, actor, tenantId);
  tenantServer(deps, server);
  await validated(deps, tenantId, server, input);
  const view = await deps.store.serverConfigs.put(tenantId, server, input, actorContext(actor));
  await deps.applied();
  return view;
}

/** Changes only the keys given, once the server started with the result. */
export async function updateServerConfig(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  server: string,
  patch: ServerConfigPatch,
): Promise<ServerConfigView> {
  await managed(deps, actor, tenantId);
  tenantServer(deps, server);
  const current = await deps.store.serverConfigs.resolve(tenantId, server);
  if (!current) throw notFound('server config');
  await validated(deps, tenantId, server, applyServerConfigPatch(current, patch));
  const view = await deps.store.serverConfigs.patch(tenantId, server, patch, actorContext(actor));
  await deps.applied();
  return view;
}

/** The tenant's config of one server, secrets masked. */
export async function getServerConfig(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  server: string,
): Promise<ServerConfigView> {
  await managed(deps, actor, tenantId);
  const view = await deps.store.serverConfigs.get(tenantId, server);
  if (!view) throw notFound('server config');
  return view;
}

export async function listServerConfigs(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
): Promise<ServerConfigView[]> {
  await managed(deps, actor, tenantId);
  return deps.store.serverConfigs.list(tenantId);
}

/** Removes it: the tenant's pool falls back to the global config. */
export async function deleteServerConfig(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  server: string,
): Promise<void> {
  await managed(deps, actor, tenantId);
  if (!(await deps.store.serverConfigs.delete(tenantId, server, actorContext(actor))))
    throw notFound('server config');
  await deps.applied();
}
