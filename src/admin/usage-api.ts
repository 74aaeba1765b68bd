/**
 * `/tenants/{id}/usage` and `/usage/export`: metered usage grouped for a tenant, and the billing
 * export of a month for every tenant (platform admin) or for the caller's own (tenant admin).
 * Both write what metering still holds in memory first, so a call just made is counted.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { billingExport } from '../billing/billing-export.ts';
import { periodOf } from '../billing/billing-period.ts';
import { invoiceCsv } from '../billing/invoice.ts';
import { requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { PROBLEMS, jsonOf } from './admin-routes.ts';
import { TenantIdParam } from './admin-schemas.ts';
import { InvoiceLineSchema, UsageRowSchema } from './usage-schemas.ts';
import { requireKnownTenant } from './billing-api.ts';

const tags = ['usage'];
const DAY = 86_400_000;

/** An ISO 8601 time with an offset, or a UTC date (YYYY-MM-DD, its midnight). */
const Instant = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/,
    'expected an ISO 8601 time with an offset (2026-11-01T00:00:00Z) or a date (2026-11-01)',
  )
  .refine((value) => !Number.isNaN(Date.parse(value)), 'not a real date')
  .transform((value) =>
    new Date(Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value)).toISOString(),
  );

const UsageQuery = z
  .object({
    since: Instant.optional().openapi({ description: 'Default: the first day of this month (UTC).' }),
    until: Instant.optional().openapi({ description: 'Exclusive. Default: the end of today (UTC).' }),
    groupBy: z.enum(['day', 'tool', 'key', 'project', 'server']).default('day'),
  })
  .refine((query) => query.since === undefined || query.until === undefined || query.until > query.since, {
    message: 'until must be after since',
    path: ['until'],
  })
  .refine(
    (query) =>
      query.since === undefined ||
      query.until === undefined ||
      Date.parse(query.until) - Date.parse(query.since) <= 400 * DAY,
    { message: 'a range spans at most 400 days', path: ['until'] },
  );

const ExportQuery = z.object({
  format: z.enum(['json', 'csv']).default('json'),
  period: z
    .string()
    .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'expected a month, YYYY-MM')
    .optional()
    .openapi({ description: 'The billing month (UTC); default: this month.' }),
  tenant: z.string().optional().openapi({ description: "Platform admin: one tenant's line only." }),
});

export function usageApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/usage',
      tags,
      request: { params: TenantIdParam, query: UsageQuery },
      responses: {
        200: jsonOf(
          z.object({
            tenant: z.string(),
            since: z.string(),
            until: z.string(),
            groupBy: z.string(),
            rows: z.array(UsageRowSchema),
          }),
          'Usage in [since, until), one row per group.',
        ),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      requireKnownTenant(deps, id);
      const query = c.req.valid('query');
      const now = Date.now();
      const since = query.since ?? periodOf(new Date(now)).since;
      const until = query.until ?? new Date(Math.floor(now / DAY) * DAY + DAY).toISOString();
      await deps.flushUsage();
      const rows = await deps.store.usage.summarize(id, { since, until, groupBy: query.groupBy });
      return c.json(
        { tenant: id, since, until, groupBy: query.groupBy, rows: rows.map((row) => ({ ...row })) },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/usage/export',
      tags,
      request: { query: ExportQuery },
      responses: {
        200: {
          description: 'One line per tenant: calls, included and overage calls, amount, and usage.',
          content: {
            'application/json': {
              schema: z.object({ period: z.string(), tenants: z.array(InvoiceLineSchema) }),
            },
            'text/csv': { schema: z.string() },
          },
        },
        ...PROBLEMS,
      },
    }),
    async (c) => {
      const actor = c.get('actor');
      const query = c.req.valid('query');
      // A tenant admin gets its own line, whatever it asked for; another tenant's is 404.
      const only = actor.tenantId ?? query.tenant;
      if (query.tenant !== undefined) requireTenant(actor, query.tenant);
      if (only !== undefined) requireKnownTenant(deps, only);
      const period = query.period ?? periodOf(new Date()).period;
      await deps.flushUsage();
      const lines = await billingExport(deps.store, deps.view().config.billing, {
        period,
        tenants: [...deps.view().tenants.keys()],
        ...(only === undefined ? {} : { only }),
      });
      if (query.format === 'csv') {
        return c.body(invoiceCsv(lines), 200, {
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `attachment; filename="mcplane-usage-${period}.csv"`,
        });
      }
      return c.json({ period, tenants: lines.map((line) => ({ ...line })) }, 200);
    },
  );
}
