/**
 * `/tenants/{id}/servers/{server}`: a tenant's own configuration of a `mode: tenant` server
 * (seed 002), such as its own DATABASE_URL. Before anything is stored, the server is started
 * with the new configuration and must answer `initialize` and `tools/list` within its startup
 * timeout (seed 002's FR-MCP-002); otherwise 422 with the child's error, secrets scrubbed.
 * Secret values are encrypted at rest and only ever shown masked.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import { applyServerConfigPatch, processOverride } from '../store/server-config-values.ts';
import type { ServerConfigInput } from '../store/store.ts';
import { notFound, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, changeContext, jsonBody, jsonOf } from './admin-routes.ts';
import {
  ProblemSchema,
  ServerConfigBodySchema,
  ServerConfigPatchSchema,
  ServerConfigSchema,
  ServerParams,
  TenantIdParam,
} from './admin-schemas.ts';
import { storeTenant } from './tenants-api.ts';

const tags = ['server-configs'];
const REJECTED = {
  422: {
    description: 'The server did not start with this configuration; nothing was stored.',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  },
};

export function serverConfigsApi(app: AdminApp, deps: AdminDeps): void {
  /** Only a tenant-mode server runs with a tenant's own configuration. */
  const tenantServer = (server: string): void => {
    const spec = deps.view().config.servers[server];
    if (!spec) throw notFound('server');
    if (spec.mode !== 'tenant') {
      throw new GatewayError(
        'INVALID_PARAMS',
        `Server ${server} runs in ${spec.mode} mode; a tenant's own configuration needs mode: tenant`,
      );
    }
  };

  const validated = async (tenantId: string, server: string, input: ServerConfigInput): Promise<void> => {
    const { env, args, secrets } = processOverride(input);
    await deps.probe(tenantId, server, args === undefined ? { env } : { env, args }, secrets);
  };

  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenants/{id}/servers/{server}',
      tags,
      request: { params: ServerParams, body: jsonBody(ServerConfigBodySchema) },
      responses: {
        200: jsonOf(ServerConfigSchema, 'Stored, secrets masked.'),
        ...PROBLEMS,
        ...CONFLICT,
        ...REJECTED,
      },
    }),
    async (c) => {
      const { id, server } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      tenantServer(server);
      const input = c.req.valid('json');
      await validated(id, server, input);
      const view = await deps.store.serverConfigs.put(id, server, input, changeContext(c));
      await deps.applied();
      return c.json(view, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'patch',
      path: '/tenants/{id}/servers/{server}',
      tags,
      request: { params: ServerParams, body: jsonBody(ServerConfigPatchSchema) },
      responses: {
        200: jsonOf(ServerConfigSchema, 'Stored, secrets masked.'),
        ...PROBLEMS,
        ...CONFLICT,
        ...REJECTED,
      },
    }),
    async (c) => {
      const { id, server } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      tenantServer(server);
      const current = await deps.store.serverConfigs.resolve(id, server);
      if (!current) throw notFound('server config');
      const patch = c.req.valid('json');
      await validated(id, server, applyServerConfigPatch(current, patch));
      const view = await deps.store.serverConfigs.patch(id, server, patch, changeContext(c));
      await deps.applied();
      return c.json(view, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/servers/{server}',
      tags,
      request: { params: ServerParams },
      responses: { 200: jsonOf(ServerConfigSchema, 'Secrets masked.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id, server } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const view = await deps.store.serverConfigs.get(id, server);
      if (!view) throw notFound('server config');
      return c.json(view, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/servers',
      tags,
      request: { params: TenantIdParam },
      responses: {
        200: jsonOf(z.object({ servers: z.array(ServerConfigSchema) }), 'Secrets masked.'),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      return c.json({ servers: await deps.store.serverConfigs.list(id) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenants/{id}/servers/{server}',
      tags,
      request: { params: ServerParams },
      responses: {
        204: { description: "Removed; the tenant's pool falls back to the global config." },
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id, server } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      if (!(await deps.store.serverConfigs.delete(id, server, changeContext(c))))
        throw notFound('server config');
      await deps.applied();
      return c.body(null, 204);
    },
  );
}
