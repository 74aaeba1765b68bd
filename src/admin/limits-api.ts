/**
 * `/tenants/{id}/limits` and `/tenants/{id}/api-keys/{keyId}/limits` (docs/limits.md): a
 * tenant's rate limits and quotas as they hold now (its tier with the overrides over it) and its
 * quota use; platform admins set the overrides, a tenant admin may read its own tenant's.
 */
import { createRoute } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { GatewayError } from '../errors.ts';
import { WINDOWS, type WindowName } from '../limits/rate-windows.ts';
import type { LimitOverrideValue, RateRecord } from '../store/records.ts';
import { notFound, requirePlatform, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps, AdminEnv } from './admin-context.ts';
import { PROBLEMS, changeContext, jsonBody, jsonOf } from './admin-routes.ts';
import { KeyParams, ProblemSchema, TenantIdParam } from './admin-schemas.ts';
import { KeyLimitsBody, LimitsReportSchema, TenantLimitsBody } from './limits-schemas.ts';

const tags = ['limits'];

const UNPROCESSABLE = {
  422: {
    description: 'The limits contradict each other (a shorter window allows more than a longer one).',
    content: { 'application/problem+json': { schema: ProblemSchema } },
  },
};

export function limitsApi(app: AdminApp, deps: AdminDeps): void {
  const report = async (tenantId: string) => {
    const found = await deps.limits.report(tenantId);
    if (!found) throw notFound('tenant');
    return found;
  };
  const known = (tenantId: string): void => {
    const tenant = deps.view().tenants.get(tenantId);
    if (!tenant || tenant.status === 'deleted') throw notFound('tenant');
  };
  /** Sets (or, with an empty body, removes) the override of `subject` (`*`: the tenant's own). */
  const override = async (c: Context<AdminEnv>, id: string, subject: string, body: LimitOverrideValue) => {
    const actor = c.get('actor');
    requireTenant(actor, id);
    requirePlatform(actor);
    known(id);
    consistent(body);
    await deps.store.limits.setOverride(id, subject, isEmpty(body) ? null : body, changeContext(c));
    await deps.applied();
    return report(id);
  };

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/limits',
      tags,
      request: { params: TenantIdParam },
      responses: {
        200: jsonOf(LimitsReportSchema, "The tenant's limits, quota use and overrides."),
        ...PROBLEMS,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      known(id);
      return c.json(await report(id), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenants/{id}/limits',
      tags,
      request: { params: TenantIdParam, body: jsonBody(TenantLimitsBody) },
      responses: {
        200: jsonOf(LimitsReportSchema, 'The limits after the change.'),
        ...PROBLEMS,
        ...UNPROCESSABLE,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await override(c, id, '*', c.req.valid('json') as LimitOverrideValue), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/tenants/{id}/api-keys/{keyId}/limits',
      tags,
      request: { params: KeyParams, body: jsonBody(KeyLimitsBody) },
      responses: {
        200: jsonOf(LimitsReportSchema, "The tenant's limits after the change."),
        ...PROBLEMS,
        ...UNPROCESSABLE,
      },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid('param');
      return c.json(await override(c, id, keyId, c.req.valid('json') as LimitOverrideValue), 200);
    },
  );
}

function isEmpty(value: LimitOverrideValue): boolean {
  const parts = [value.rateLimits, value.quota].filter((part) => part !== undefined);
  return parts.every((part) => Object.keys(part).length === 0);
}

/** A shorter window may not allow more than a longer one: such a rate is a typo, refused with 422. */
function consistent(value: LimitOverrideValue): void {
  const rates: Record<string, RateRecord> = value.rateLimits ?? {};
  for (const [scope, rate] of Object.entries(rates)) {
    const set = (Object.keys(WINDOWS) as WindowName[]).filter((name) => rate[name] !== undefined);
    for (const [index, shorter] of set.entries()) {
      for (const longer of set.slice(index + 1)) {
        if ((rate[shorter] as number) > (rate[longer] as number)) {
          throw new GatewayError(
            'LIMITS_INVALID',
            `rateLimits.${scope}.${shorter} (${rate[shorter]}) allows more than rateLimits.${scope}.${longer} (${rate[longer]})`,
          );
        }
      }
    }
  }
}
