/**
 * `/tenants/{id}/grants`: a tenant lets another tenant use one of its tenant-mode servers, with
 * that tenant's credentials (seed 000's sharing), `read` or `full`, until an optional expiry.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import { notFound, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import {
  CONFLICT,
  PROBLEMS,
  changeContext,
  jsonBody,
  jsonOf,
  nextCursorOf,
  pageRequest,
} from './admin-routes.ts';
import {
  GrantParams,
  GrantSchema,
  NewGrantSchema,
  NextCursor,
  PageQuery,
  TenantIdParam,
} from './admin-schemas.ts';
import { storeTenant } from './tenants-api.ts';

const tags = ['grants'];

export function grantsApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants/{id}/grants',
      tags,
      request: { params: TenantIdParam, body: jsonBody(NewGrantSchema) },
      responses: { 201: jsonOf(GrantSchema, 'The grant.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const { granteeTenant, ...body } = c.req.valid('json');
      const spec = deps.view().config.servers[body.server];
      if (!spec) throw notFound('server');
      if (spec.mode !== 'tenant') {
        throw new GatewayError(
          'INVALID_PARAMS',
          `Only a mode: tenant server can be shared; ${body.server} is ${spec.mode}`,
        );
      }
      if (granteeTenant === id) throw new GatewayError('INVALID_PARAMS', 'A tenant cannot grant itself');
      const grant = await deps.store.grants.create(
        id,
        { ...body, granteeTenantId: granteeTenant },
        changeContext(c),
      );
      await deps.applied();
      return c.json(grant, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/grants',
      tags,
      request: { params: TenantIdParam, query: PageQuery },
      responses: {
        200: jsonOf(
          z.object({ grants: z.array(GrantSchema), nextCursor: NextCursor }),
          'Grants the tenant made or holds, in the order they were made, a page at a time.',
        ),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const page = await deps.store.grants.page(id, pageRequest(c.req.valid('query')));
      return c.json({ grants: page.items, ...nextCursorOf(page) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenants/{id}/grants/{grantId}',
      tags,
      request: { params: GrantParams },
      responses: {
        200: jsonOf(GrantSchema, 'The revoked grant; its reshares are revoked too.'),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id, grantId } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const grant = await deps.store.grants.revoke(id, grantId, changeContext(c));
      await deps.applied();
      return c.json(grant, 200);
    },
  );
}
