/** `/status`, `/reload` and `/changes`: the running gateway and the admin change log. */
import { createRoute, z } from '@hono/zod-openapi';
import { requirePlatform, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { PROBLEMS, jsonOf } from './admin-routes.ts';
import { ChangeSchema, ReloadSchema } from './admin-schemas.ts';

const tags = ['gateway'];

const ChangeQuery = z.object({
  tenant: z.string().optional().openapi({ description: "A tenant's changes; omitted: the platform's own." }),
  after: z.coerce.number().int().nonnegative().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function gatewayApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/status',
      tags,
      responses: {
        200: jsonOf(
          z.record(z.string(), z.unknown()),
          'Pools, processes and sessions per tenant; `calls`: requests and errors so far (null with metrics off).',
        ),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      requirePlatform(c.get('actor'));
      const calls = (await deps.callTotals()) ?? null;
      return c.json({ ...(deps.status() as Record<string, unknown>), calls }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/reload',
      tags,
      responses: {
        200: jsonOf(ReloadSchema, 'Applied, with what changed.'),
        422: jsonOf(ReloadSchema, 'The file is invalid; the running config is unchanged.'),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      requirePlatform(c.get('actor'));
      const outcome = await deps.reload();
      const body = {
        applied: outcome.applied,
        ...(outcome.problems ? { problems: [...outcome.problems] } : {}),
        ...(outcome.added ? { added: [...outcome.added] } : {}),
        ...(outcome.removed ? { removed: [...outcome.removed] } : {}),
        ...(outcome.changed ? { changed: [...outcome.changed] } : {}),
        ...(outcome.unchanged ? { unchanged: [...outcome.unchanged] } : {}),
        ...(outcome.restartRequired ? { restartRequired: [...outcome.restartRequired] } : {}),
      };
      return outcome.applied ? c.json(body, 200) : c.json(body, 422);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/changes',
      tags,
      request: { query: ChangeQuery },
      responses: { 200: jsonOf(z.object({ changes: z.array(ChangeSchema) }), 'Oldest first.'), ...PROBLEMS },
    }),
    async (c) => {
      const actor = c.get('actor');
      const { tenant, after, limit } = c.req.valid('query');
      if (tenant === undefined) requirePlatform(actor);
      else requireTenant(actor, tenant);
      const changes = await deps.store.changes.list(tenant ?? null, {
        ...(after === undefined ? {} : { afterSeq: after }),
        limit,
      });
      return c.json(
        { changes: changes.map((change) => ({ ...change, details: { ...change.details } })) },
        200,
      );
    },
  );
}
