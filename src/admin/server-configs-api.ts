/**
 * `/tenants/{id}/servers/{server}`: a tenant's own configuration of a `mode: tenant` server
 * (seed 002). The rules (validation by starting the server, secrets encrypted and masked) are in
 * server-config-operations.ts, shared with the `mcplane` MCP tools.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, jsonBody, jsonOf } from './admin-routes.ts';
import {
  ProblemSchema,
  ServerConfigBodySchema,
  ServerConfigPatchSchema,
  ServerConfigSchema,
  ServerParams,
  TenantIdParam,
} from './admin-schemas.ts';
import {
  deleteServerConfig,
  getServerConfig,
  listServerConfigs,
  registerServerConfig,
  updateServerConfig,
} from './server-config-operations.ts';

const tags = ['server-configs'];
const REJECTED = {
  422: {
    description: 'The server did not start with this configuration; nothing was stored.',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  },
};

export function serverConfigsApi(app: AdminApp, deps: AdminDeps): void {
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
      return c.json(await registerServerConfig(deps, c.get('actor'), id, server, c.req.valid('json')), 200);
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
      return c.json(await updateServerConfig(deps, c.get('actor'), id, server, c.req.valid('json')), 200);
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
      return c.json(await getServerConfig(deps, c.get('actor'), id, server), 200);
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
      return c.json({ servers: await listServerConfigs(deps, c.get('actor'), id) }, 200);
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
      await deleteServerConfig(deps, c.get('actor'), id, server);
      return c.body(null, 204);
    },
  );
}
