/**
 * `/audit`: the tamper-evident audit log, read back. `GET /audit` pages through records in seq
 * order, filtered by tenant, time and tool; `GET /audit/verify` checks the whole chain (hashes,
 * links, checkpoint signatures) as `mcplane audit verify` does.
 *
 * Who sees what: a platform admin, every record (or one tenant's with `tenant=`); a tenant admin,
 * only its own tenant's records: `tenant=` naming another tenant is 404, exactly like a tenant
 * that does not exist. Verifying reads every tenant's records, so it takes a platform admin.
 * A member gets 403 on both (admin-access.ts). Without an audit log, both are 404.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import type { AuditReader } from '../audit/audit-reader.ts';
import { requirePlatform, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { PROBLEMS, jsonOf } from './admin-routes.ts';

const tags = ['audit'];

const CURSOR = /^[1-9]\d{0,14}$/;

const AuditQuery = z.object({
  tenant: z.string().optional().openapi({
    description: "Only this tenant's records. A tenant admin sees only its own tenant's, with or without it.",
  }),
  since: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'Records at or after this time.' }),
  until: z.iso.datetime({ offset: true }).optional().openapi({ description: 'Records before this time.' }),
  tool: z
    .string()
    .min(1)
    .max(500)
    .optional()
    .openapi({ description: 'The tool as the client named it (name-spaced, e.g. `fs__read_file`).' }),
  cursor: z
    .string()
    .regex(CURSOR, 'not a cursor from this API')
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page.' }),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

const AuditRecordSchema = z.record(z.string(), z.unknown()).openapi('AuditRecord', {
  description:
    'One record as written (docs/audit.md): seq, time, kind, tenant, principal, session, face, method, server, tool, decision, findings, argsDigest, outcome, latencyMs, traceId, prevHash, hash; checkpoints and dropped-count records carry their own fields.',
});

const AuditPageSchema = z
  .object({
    records: z.array(AuditRecordSchema),
    nextCursor: z
      .string()
      .optional()
      .openapi({ description: 'Present when there may be more: pass it as `cursor`.' }),
  })
  .openapi('AuditPage');

const VerificationSchema = z
  .object({
    ok: z.boolean(),
    checked: z.number().int().openapi({ description: 'Records read.' }),
    problems: z.array(
      z.object({
        seq: z.number().int().openapi({ description: 'The first broken seq.' }),
        kind: z.enum(['edited', 'deleted', 'inserted', 'reordered', 'signature', 'malformed']),
        detail: z.string(),
      }),
    ),
  })
  .openapi('AuditVerification');

function readerOf(deps: AdminDeps): AuditReader {
  const reader = deps.audit;
  if (reader === undefined) throw new GatewayError('NOT_FOUND', 'The gateway writes no readable audit log');
  return reader;
}

export function auditApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit',
      tags,
      request: { query: AuditQuery },
      responses: { 200: jsonOf(AuditPageSchema, 'Records in seq order.'), ...PROBLEMS },
    }),
    async (c) => {
      const actor = c.get('actor');
      const { tenant, since, until, tool, cursor, limit } = c.req.valid('query');
      if (tenant !== undefined) requireTenant(actor, tenant);
      const tenantId = tenant ?? actor.tenantId ?? undefined;
      const page = await readerOf(deps).query({
        ...(tenantId === undefined ? {} : { tenantId }),
        ...(since === undefined ? {} : { since: new Date(since).toISOString() }),
        ...(until === undefined ? {} : { until: new Date(until).toISOString() }),
        ...(tool === undefined ? {} : { tool }),
        ...(cursor === undefined ? {} : { afterSeq: Number(cursor) }),
        limit,
      });
      return c.json(
        {
          records: [...page.records],
          ...(page.nextAfterSeq === undefined ? {} : { nextCursor: String(page.nextAfterSeq) }),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/audit/verify',
      tags,
      responses: {
        200: jsonOf(
          VerificationSchema,
          'The whole chain checked: `ok`, or the first broken seq and what broke it.',
        ),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      requirePlatform(c.get('actor'));
      const result = await readerOf(deps).verify();
      return c.json({ ok: result.ok, checked: result.checked, problems: [...result.problems] }, 200);
    },
  );
}
