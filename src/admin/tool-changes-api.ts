/**
 * `/tool-changes`: tool definitions a server offered that differ from their pins (changed,
 * added, flagged at first sight, removed), each with a readable diff, and the decisions on
 * them. Approving pins the offered definition and releases the tool at once (its sessions hear
 * `notifications/tools/list_changed`); rejecting keeps the old pin, so the tool stays
 * quarantined until the server offers the approved definition again.
 *
 * Who sees and decides what:
 * - a platform admin: every change;
 * - a tenant admin: its own tenant's changes (its `mode: tenant` pools), which it decides, and,
 *   read-only, the global changes (shared and session-mode servers) of servers its tenant uses:
 *   they affect its sessions, but deciding one decides for every tenant, so that takes a
 *   platform admin (403). Another tenant's change, or a global one of a server the tenant does
 *   not use, is 404, like one that does not exist.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { tenantAllows } from '../control/live-view.ts';
import { GatewayError } from '../errors.ts';
import { diffDefinitions } from '../guard/pinning/definition-diff.ts';
import type { ToolChange, ToolChangeStatus } from '../store/records.ts';
import { notFound, requireTenant, type AdminActor } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, changeContext, jsonOf } from './admin-routes.ts';

const tags = ['tool changes'];

const Definition = z.record(z.string(), z.unknown()).nullable();

export const ToolChangeSchema = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable().openapi({
      description:
        "The tenant whose own pool offered it; `null`: global (a shared or session-mode server's).",
    }),
    server: z.string(),
    tool: z.string().openapi({ description: 'The name the server gives it (not name-spaced).' }),
    kind: z.enum(['added', 'changed', 'removed']),
    status: z.enum(['pending', 'approved', 'rejected']).openapi({
      description:
        'pending: quarantined (pinning: enforce) until decided. Removals, and additions pinned by trust: auto, are recorded approved.',
    }),
    oldHash: z.string().nullable(),
    newHash: z.string().nullable(),
    oldDefinition: Definition,
    newDefinition: Definition,
    diff: z
      .array(z.object({ path: z.string(), old: z.unknown().optional(), new: z.unknown().optional() }))
      .openapi({ description: 'Each field that differs, by JSON path, with its old and new value.' }),
    findings: z
      .array(
        z.object({
          detector: z.string(),
          action: z.string(),
          where: z.string(),
          detail: z.string().optional(),
        }),
      )
      .openapi({
        description: 'What the scan for tool poisoning and shadowing found; never the matched text.',
      }),
    decidable: z.boolean().openapi({ description: 'Whether this credential may approve or reject it now.' }),
    createdAt: z.string(),
    decidedAt: z.string().nullable(),
    decidedBy: z.string().nullable(),
  })
  .openapi('ToolChange');

const ChangeQuery = z.object({
  tenant: z.string().optional().openapi({
    description:
      "A tenant's view: its own changes and the global ones of servers it uses. Omitted: every change (platform admin) or the caller's own tenant's view.",
  }),
  status: z.enum(['pending', 'approved', 'rejected']).optional(),
  server: z.string().optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const ChangeParam = z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) });

type Filter = { status?: ToolChangeStatus; server?: string; limit: number };

export function toolChangesApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tool-changes',
      tags,
      request: { query: ChangeQuery },
      responses: {
        200: jsonOf(z.object({ changes: z.array(ToolChangeSchema) }), 'Oldest first.'),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      const { tenant, status, server, limit } = c.req.valid('query');
      const filter: Filter = { ...(status ? { status } : {}), ...(server ? { server } : {}), limit };
      const changes =
        tenant === undefined && actor.tenantId === null
          ? await deps.store.pins.listAllChanges(filter)
          : await tenantView(deps, actor, tenant ?? (actor.tenantId as string), filter);
      return c.json({ changes: changes.map((change) => view(actor, change)) }, 200);
    },
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/tool-changes/{id}/${decision}`,
        tags,
        request: { params: ChangeParam },
        responses: {
          200: jsonOf(
            ToolChangeSchema,
            decision === 'approve'
              ? 'Approved: the offered definition is pinned and the tool is released.'
              : 'Rejected: the old pin stays; the tool stays quarantined while the server offers this definition.',
          ),
          ...PROBLEMS,
          ...CONFLICT,
        },
      }),
      async (c) => {
        const actor = c.get('actor');
        const change = await decidableChange(deps, actor, c.req.valid('param').id);
        const decided = await deps.store.pins.decide(change.tenantId, change.id, decision, changeContext(c));
        await deps.pinning.reload(decided.tenantId, decided.server);
        return c.json(view(actor, decided), 200);
      },
    );
  }
}

/** A tenant's own changes and the global changes of servers it uses, oldest first. */
async function tenantView(
  deps: AdminDeps,
  actor: AdminActor,
  tenantId: string,
  filter: Filter,
): Promise<ToolChange[]> {
  requireTenant(actor, tenantId);
  const tenant = deps.view().tenants.get(tenantId);
  if (!tenant) throw notFound('tenant');
  const [own, global] = await Promise.all([
    deps.store.pins.listChanges(tenantId, filter),
    deps.store.pins.listChanges(null, filter),
  ]);
  return [...own, ...global.filter((change) => tenantAllows(tenant, change.server))]
    .sort((a, b) =>
      a.createdAt === b.createdAt ? a.id.localeCompare(b.id) : a.createdAt < b.createdAt ? -1 : 1,
    )
    .slice(0, filter.limit);
}

/** The change to decide, if the actor may: else 404 (not theirs to see) or 403 (global). */
async function decidableChange(deps: AdminDeps, actor: AdminActor, id: string): Promise<ToolChange> {
  if (actor.tenantId === null) {
    const change = await deps.store.pins.findChange(id);
    if (!change) throw notFound('tool change');
    return change;
  }
  const own = await deps.store.pins.getChange(actor.tenantId, id);
  if (own) return own;
  const global = await deps.store.pins.getChange(null, id);
  if (global && tenantAllows(deps.view().tenants.get(actor.tenantId), global.server)) {
    throw new GatewayError(
      'FORBIDDEN',
      `Server ${global.server} is shared by every tenant: a platform admin decides its tool changes`,
      { detail: { reason: 'global_tool_change' } },
    );
  }
  throw notFound('tool change');
}

/** A change as the API shows it; a rejected change may still be approved. */
function view(actor: AdminActor, change: ToolChange): z.infer<typeof ToolChangeSchema> {
  const open = change.status === 'pending' || change.status === 'rejected';
  const mine = actor.tenantId === null || actor.tenantId === change.tenantId;
  return {
    ...change,
    oldDefinition: change.oldDefinition === null ? null : { ...change.oldDefinition },
    newDefinition: change.newDefinition === null ? null : { ...change.newDefinition },
    findings: change.findings.map((finding) => ({ ...finding })),
    diff: diffDefinitions(change.oldDefinition ?? {}, change.newDefinition ?? {}),
    decidable: open && mine,
  };
}
