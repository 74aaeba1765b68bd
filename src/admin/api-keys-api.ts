/**
 * `/tenants/{id}/api-keys`: create (the key is shown once), list, rotate with a grace period,
 * suspend, resume and revoke. The rules are in api-key-operations.ts, shared with the `mcplane`
 * MCP tools.
 */
import { createRoute, z } from '@hono/zod-openapi';
import type { ApiKeyStatus } from '../store/records.ts';
import { createApiKey, getApiKey, listApiKeys, rotateApiKey, setApiKeyStatus } from './api-key-operations.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, jsonBody, jsonOf, pageRequest } from './admin-routes.ts';
import {
  ApiKeySchema,
  CreatedApiKeySchema,
  KeyParams,
  NewApiKeySchema,
  NextCursor,
  PageQuery,
  RotationSchema,
  TenantIdParam,
} from './admin-schemas.ts';

const tags = ['api-keys'];

export function apiKeysApi(app: AdminApp, deps: AdminDeps): void {
  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants/{id}/api-keys',
      tags,
      request: { params: TenantIdParam, body: jsonBody(NewApiKeySchema) },
      responses: { 201: jsonOf(CreatedApiKeySchema, 'The key, shown this once.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id: tenantId } = c.req.valid('param');
      return c.json(await createApiKey(deps, c.get('actor'), tenantId, c.req.valid('json')), 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/api-keys',
      tags,
      request: { params: TenantIdParam, query: PageQuery },
      responses: {
        200: jsonOf(
          z.object({ apiKeys: z.array(ApiKeySchema), nextCursor: NextCursor }),
          'Keys, without secrets, in the order they were made, a page at a time.',
        ),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      return c.json(await listApiKeys(deps, c.get('actor'), id, pageRequest(c.req.valid('query'))), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/api-keys/{keyId}',
      tags,
      request: { params: KeyParams },
      responses: { 200: jsonOf(ApiKeySchema, 'The key, without its secret.'), ...PROBLEMS, ...CONFLICT },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid('param');
      return c.json(await getApiKey(deps, c.get('actor'), id, keyId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/tenants/{id}/api-keys/{keyId}/rotate',
      tags,
      request: { params: KeyParams, body: jsonBody(RotationSchema, false) },
      responses: {
        201: jsonOf(
          z.object({ previous: ApiKeySchema, current: CreatedApiKeySchema }),
          'The new key, shown this once; the old one works until its graceUntil.',
        ),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid('param');
      const { graceSeconds } = RotationSchema.parse(c.req.valid('json') ?? {});
      return c.json(await rotateApiKey(deps, c.get('actor'), id, keyId, graceSeconds), 201);
    },
  );

  const statusRoute = (verb: 'suspend' | 'resume', status: ApiKeyStatus): void => {
    app.openapi(
      createRoute({
        method: 'post',
        path: `/tenants/{id}/api-keys/{keyId}/${verb}`,
        tags,
        request: { params: KeyParams },
        responses: { 200: jsonOf(ApiKeySchema, 'The key.'), ...PROBLEMS, ...CONFLICT },
      }),
      async (c) => {
        const { id, keyId } = c.req.valid('param');
        return c.json(await setApiKeyStatus(deps, c.get('actor'), id, keyId, status), 200);
      },
    );
  };
  statusRoute('suspend', 'suspended');
  statusRoute('resume', 'active');

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/tenants/{id}/api-keys/{keyId}',
      tags,
      request: { params: KeyParams },
      responses: {
        200: jsonOf(ApiKeySchema, 'The revoked key; it fails from the next request on.'),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id, keyId } = c.req.valid('param');
      return c.json(await setApiKeyStatus(deps, c.get('actor'), id, keyId, 'revoked'), 200);
    },
  );
}
