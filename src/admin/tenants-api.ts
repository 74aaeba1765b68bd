/**
 * `/tenants`: create (platform admins), list, read, update and delete. Tenants declared in
 * servers.config.yaml are listed too, and refused for changes with 409 naming the file.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import type { TenantView } from '../control/live-view.ts';
import type { Tenant } from '../store/records.ts';
import { notFound, requirePlatform, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, changeContext, jsonBody, jsonOf, pageRequest } from './admin-routes.ts';
import {
  NewTenantSchema,
  NextCursor,
  PageQuery,
  TenantIdParam,
  TenantPatchSchema,
  TenantSchema,
} from './admin-schemas.ts';

type TenantOut = z.infer<typeof TenantSchema>;

function fromStore(tenant: Tenant): TenantOut {
  return {
    id: tenant.id,
    name: tenant.name,
    tier: tenant.tier,
    status: tenant.status,
    managedBy: 'store',
    createdAt: tenant.createdAt,
  };
}

function fromConfig(tenant: TenantView): TenantOut {
  return {
    id: tenant.id,
    name: tenant.name,
    tier: tenant.tier,
    status: 'active',
    managedBy: 'config',
    createdAt: null,
  };
}

export function configManaged(deps: Pick<AdminDeps, 'configSource'>, tenantId: string): GatewayError {
  return new GatewayError(
    'CONFIG_MANAGED',
    `Tenant ${tenantId} is declared in ${deps.configSource}; change it there and reload`,
  );
}

/** Refuses changes to a config-managed tenant; 404 for one that exists nowhere. */
export async function storeTenant(
  deps: Pick<AdminDeps, 'configSource' | 'store' | 'view'>,
  tenantId: string,
): Promise<Tenant> {
  if (deps.view().tenants.get(tenantId)?.managedBy === 'config') throw configManaged(deps, tenantId);
  const tenant = await deps.store.tenants.get(tenantId);
  if (!tenant || tenant.status === 'deleted') throw notFound('tenant');
  return tenant;
}

const tags = ['tenants'];

export function tenantsApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants',
      tags,
      request: { body: jsonBody(NewTenantSchema) },
      responses: { 201: jsonOf(TenantSchema, 'The tenant.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      requirePlatform(c.get('actor'));
      const input = c.req.valid('json');
      if (deps.view().tenants.get(input.id)?.managedBy === 'config') throw configManaged(deps, input.id);
      const tenant = await deps.store.tenants.create(input, changeContext(c));
      await deps.applied();
      return c.json(fromStore(tenant), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants',
      tags,
      request: { query: PageQuery },
      responses: {
        200: jsonOf(
          z.object({ tenants: z.array(TenantSchema), nextCursor: NextCursor }),
          'Tenants (those of the config file and the stored ones, not deleted) in id order, a page at a time.',
        ),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      const query = c.req.valid('query');
      const { limit, cursor } = query;
      const own = c.get('actor').tenantId;
      const after = (id: string): boolean => cursor === undefined || id > cursor;
      const config = [...deps.view().tenants.values()]
        .filter((t) => t.managedBy === 'config' && (own === null || t.id === own) && after(t.id))
        .map(fromConfig);
      let stored: TenantOut[];
      let more = false;
      if (own === null) {
        const page = await deps.store.tenants.page(pageRequest(query));
        stored = page.items.map(fromStore);
        more = page.next !== undefined;
      } else {
        // A tenant's own admin or member reads its one tenant, not the store's whole list.
        const tenant = await deps.store.tenants.get(own);
        stored =
          tenant === undefined || tenant.status === 'deleted' || !after(tenant.id) ? [] : [fromStore(tenant)];
      }
      const merged = [...config, ...stored].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      const tenants = merged.slice(0, limit);
      const last = tenants.at(-1);
      const nextCursor = (merged.length > limit || more) && last !== undefined ? last.id : undefined;
      return c.json({ tenants, ...(nextCursor === undefined ? {} : { nextCursor }) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}',
      tags,
      request: { params: TenantIdParam },
      responses: { 200: jsonOf(TenantSchema, 'The tenant.'), ...PROBLEMS },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      const viewed = deps.view().tenants.get(id);
      if (viewed?.managedBy === 'config') return c.json(fromConfig(viewed), 200);
      const tenant = await deps.store.tenants.get(id);
      if (!tenant || tenant.status === 'deleted') throw notFound('tenant');
      return c.json(fromStore(tenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/tenants/{id}',
      tags,
      request: { params: TenantIdParam, body: jsonBody(TenantPatchSchema) },
      responses: { 200: jsonOf(TenantSchema, 'The tenant.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const actor = c.get('actor');
      requireTenant(actor, id);
      requirePlatform(actor);
      await storeTenant(deps, id);
      const patch = c.req.valid('json');
      const tenant = await deps.store.tenants.update(id, patch, changeContext(c));
      await deps.applied();
      if (tenant.status !== 'active') await deps.closeTenant(id);
      return c.json(fromStore(tenant), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenants/{id}',
      tags,
      request: { params: TenantIdParam },
      responses: {
        204: { description: 'Suspended, its sessions closed, then purged.' },
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      const actor = c.get('actor');
      requireTenant(actor, id);
      requirePlatform(actor);
      await storeTenant(deps, id);
      // Suspend first, so no new session or call starts while the tenant's data goes away.
      await deps.store.tenants.update(id, { status: 'deleted' }, changeContext(c));
      await deps.applied();
      await deps.closeTenant(id);
      await deps.store.tenants.purge(id, changeContext(c));
      await deps.applied();
      return c.body(null, 204);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/export',
      tags,
      request: { params: TenantIdParam },
      responses: {
        200: jsonOf(z.record(z.string(), z.unknown()), 'Everything mcplane holds for the tenant.'),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const exported = await deps.store.tenants.export(id);
      if (!exported) throw notFound('tenant');
      return c.json(exported as unknown as Record<string, unknown>, 200);
    },
  );
}
