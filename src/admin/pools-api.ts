/**
 * `/pools`: every server's process pools with their processes (in flight, queue, restarts), and
 * draining one process. A platform admin sees every pool; a tenant admin only its own tenant's
 * pools (`mode: tenant` servers), and a process of any other pool is 404 to it.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { notFound } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { PROBLEMS, jsonOf } from './admin-routes.ts';

const tags = ['pools'];

const ProcessSchema = z.object({
  pid: z.number().int().nullable(),
  ready: z.boolean(),
  inflight: z.number().int(),
  served: z.number().int().openapi({ description: 'Requests it has served since it started.' }),
  draining: z.boolean().openapi({ description: 'Takes no new calls; stops once its calls have finished.' }),
});

const PoolSchema = z.object({
  tenant: z.string().nullable().openapi({ description: "A tenant pool's tenant; null: shared." }),
  retired: z.boolean().openapi({ description: 'Replaced (a reload, a new config): finishing its calls.' }),
  size: z.number().int(),
  ready: z.number().int(),
  inflight: z.number().int(),
  queued: z.number().int(),
  queueLimit: z.number().int(),
  processes: z.array(ProcessSchema),
});

export const ServerPoolsSchema = z
  .object({
    server: z.string(),
    mode: z.string(),
    restarts: z.number().int().nullable().openapi({
      description:
        "Replacements started for a pool's dead process, over every tenant: null for a tenant admin.",
    }),
    crashed: z.number().int().nullable(),
    pools: z.array(PoolSchema),
  })
  .openapi('ServerPools');

const DrainParams = z.object({
  server: z.string().openapi({ param: { name: 'server', in: 'path' } }),
  pid: z.coerce
    .number()
    .int()
    .positive()
    .openapi({ param: { name: 'pid', in: 'path' } }),
});

export function poolsApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/pools',
      tags,
      responses: {
        200: jsonOf(z.object({ servers: z.array(ServerPoolsSchema) }), 'Pools and processes by server.'),
        ...PROBLEMS,
      },
    }),
    (c) => {
      const { tenantId } = c.get('actor');
      const servers = deps
        .pools()
        .map((server) => ({
          ...server,
          // Restart totals are the server's across every tenant: a tenant admin does not see them.
          ...(tenantId === null ? {} : { restarts: null, crashed: null }),
          pools: server.pools
            .filter((pool) => tenantId === null || pool.tenant === tenantId)
            .map((pool) => ({ ...pool, processes: pool.processes.map((process) => ({ ...process })) })),
        }))
        .filter((server) => tenantId === null || server.pools.length > 0);
      return c.json({ servers }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/pools/{server}/processes/{pid}/drain',
      tags,
      request: { params: DrainParams },
      responses: {
        202: jsonOf(
          z.object({ server: z.string(), pid: z.number().int(), draining: z.literal(true) }),
          'Draining: it takes no new calls and stops once its calls in flight have finished.',
        ),
        ...PROBLEMS,
      },
    }),
    (c) => {
      const { server, pid } = c.req.valid('param');
      const { tenantId, subject } = c.get('actor');
      if (!deps.drainProcess(server, pid, tenantId ?? undefined)) throw notFound('process');
      deps.log.info({ actor: subject, server, pid }, 'admin: draining a process');
      return c.json({ server, pid, draining: true as const }, 202);
    },
  );
}
