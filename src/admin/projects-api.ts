/** `/tenants/{id}/projects`: a tenant's projects, which keys and usage can be attributed to. */
import { createRoute, z } from '@hono/zod-openapi';
import { requireTenant } from './admin-access.ts';
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
import { NewProjectSchema, NextCursor, PageQuery, ProjectSchema, TenantIdParam } from './admin-schemas.ts';
import { storeTenant } from './tenants-api.ts';

const tags = ['projects'];

export function projectsApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants/{id}/projects',
      tags,
      request: { params: TenantIdParam, body: jsonBody(NewProjectSchema) },
      responses: { 201: jsonOf(ProjectSchema, 'The project.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const project = await deps.store.projects.create(id, c.req.valid('json'), changeContext(c));
      return c.json(project, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/projects',
      tags,
      request: { params: TenantIdParam, query: PageQuery },
      responses: {
        200: jsonOf(
          z.object({ projects: z.array(ProjectSchema), nextCursor: NextCursor }),
          'Projects, in the order they were made, a page at a time.',
        ),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const page = await deps.store.projects.page(id, pageRequest(c.req.valid('query')));
      return c.json({ projects: page.items, ...nextCursorOf(page) }, 200);
    },
  );
}
