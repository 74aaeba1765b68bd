/**
 * The admin API under `/admin/v1`: REST in JSON, errors as RFC 9457 problem details with the
 * registry's codes, and an OpenAPI 3.1 document generated from the same zod schemas that
 * validate the requests (`/admin/v1/openapi.json`, checked in as `schema/admin-openapi.json`).
 *
 * Every request is authenticated with the gateway's authenticator; the credential's role
 * decides (see admin-access.ts). Resource files register their own routes.
 */
import { OpenAPIHono } from '@hono/zod-openapi';
import { HTTPException } from 'hono/http-exception';
import { GatewayError } from '../errors.ts';
import { VERSION } from '../version.ts';
import { actorOf } from './admin-access.ts';
import { adminAudit } from './admin-audit.ts';
import type { AdminApp, AdminDeps, AdminEnv } from './admin-context.ts';
import { apiKeysApi } from './api-keys-api.ts';
import { auditApi } from './audit-api.ts';
import { billingApi } from './billing-api.ts';
import { gatewayApi } from './gateway-api.ts';
import { grantsApi } from './grants-api.ts';
import { policyApi } from './policy-api.ts';
import { poolsApi } from './pools-api.ts';
import { limitsApi } from './limits-api.ts';
import { problemResponse } from './problem.ts';
import { projectsApi } from './projects-api.ts';
import { serverConfigsApi } from './server-configs-api.ts';
import { tenantsApi } from './tenants-api.ts';
import { toolChangesApi } from './tool-changes-api.ts';
import { usageApi } from './usage-api.ts';

export const ADMIN_PATH = '/admin/v1';

const DOCUMENT = {
  openapi: '3.1.0',
  info: {
    title: 'mcplane admin API',
    version: VERSION,
    description:
      'Tenants, projects, API keys, tenant server configs, grants, tool-definition changes, process pools, policy, the audit log, usage and billing, limits and the running gateway. Authenticate with `Authorization: Bearer <admin API key or JWT>`.',
  },
  servers: [{ url: ADMIN_PATH }],
  security: [{ bearer: [] }],
};

/** The routes, without authentication wired: enough to generate the OpenAPI document. */
function routes(deps: AdminDeps): AdminApp {
  const app: AdminApp = new OpenAPIHono<AdminEnv>({
    defaultHook: (result) => {
      if (result.success) return undefined;
      const errors = result.error.issues.map((issue) => ({
        path: issue.path.join('.'),
        message: issue.message,
      }));
      return problemResponse(new GatewayError('INVALID_PARAMS', 'The request is invalid'), deps.log, errors);
    },
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
  tenantsApi(app, deps);
  projectsApi(app, deps);
  apiKeysApi(app, deps);
  serverConfigsApi(app, deps);
  grantsApi(app, deps);
  gatewayApi(app, deps);
  toolChangesApi(app, deps);
  poolsApi(app, deps);
  policyApi(app, deps);
  auditApi(app, deps);
  usageApi(app, deps);
  billingApi(app, deps);
  limitsApi(app, deps);
  return app;
}

export function createAdminApi(deps: AdminDeps): AdminApp {
  const app: AdminApp = new OpenAPIHono<AdminEnv>();
  app.onError((error) =>
    // The JSON validator's own refusal of a body that does not parse is the client's error.
    error instanceof HTTPException && error.status === 400
      ? problemResponse(new GatewayError('INVALID_PARAMS', 'The request body is not valid JSON'), deps.log)
      : problemResponse(error, deps.log),
  );
  app.notFound(() => problemResponse(new GatewayError('NOT_FOUND', 'No such admin endpoint')));
  const api = routes(deps);
  app.get('/openapi.json', (c) => c.json(api.getOpenAPI31Document(DOCUMENT)));
  // Outside authentication, so a refused change is recorded too.
  if (deps.auditChange) app.use('*', adminAudit(deps.auditChange));
  app.use('*', async (c, next) => {
    const principal = await deps.authenticate(c.req.raw.headers);
    c.set('actor', actorOf(principal));
    await next();
  });
  app.route('/', api);
  return app;
}

/** The OpenAPI document as checked in (`schema/admin-openapi.json`), with a final newline. */
export function adminOpenApiText(): string {
  return `${JSON.stringify(adminOpenApiDocument(), null, 2)}\n`;
}

/** The OpenAPI document, for `npm run schema` and the test that keeps the checked-in copy fresh. */
export function adminOpenApiDocument(): unknown {
  const unused = (): never => {
    throw new Error('not for serving');
  };
  const deps = new Proxy({} as AdminDeps, { get: () => unused });
  return routes(deps).getOpenAPI31Document(DOCUMENT);
}
