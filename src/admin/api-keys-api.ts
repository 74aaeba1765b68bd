/**
 * `/tenants/{id}/api-keys`: create (the key is shown once), list, rotate with a grace period,
 * suspend, resume and revoke. Each change reaches the running gateway's key cache before the
 * answer, so a revoked key gets 401 on its very next request.
 */
import { createRoute, z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import { generateApiKey } from '../identity/api-key-format.ts';
import { hashApiKey } from '../identity/api-key-hash.ts';
import { apiKeyState } from '../store/api-key-state.ts';
import type { ApiKey, ApiKeyStatus } from '../store/records.ts';
import { notFound, requireTenant } from './admin-access.ts';
import type { AdminApp, AdminDeps } from './admin-context.ts';
import { CONFLICT, PROBLEMS, changeContext, jsonBody, jsonOf } from './admin-routes.ts';
import {
  ApiKeySchema,
  CreatedApiKeySchema,
  KeyParams,
  NewApiKeySchema,
  RotationSchema,
  TenantIdParam,
} from './admin-schemas.ts';
import { storeTenant } from './tenants-api.ts';

const tags = ['api-keys'];

export function keyOut(key: ApiKey): z.infer<typeof ApiKeySchema> {
  const { updatedAt: _updatedAt, ...shown } = key;
  return { ...shown, scopes: [...key.scopes], state: apiKeyState(key, Date.now()) };
}

export function apiKeysApi(app: AdminApp, deps: AdminDeps): void {
  const newKey = (): { key: string; id: string; hash: string } => {
    const { key, id } = generateApiKey();
    return { key, id, hash: hashApiKey(key, deps.pepper) };
  };

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
      requireTenant(c.get('actor'), tenantId);
      await storeTenant(deps, tenantId);
      const body = c.req.valid('json');
      if (body.projectId !== undefined && !(await deps.store.projects.get(tenantId, body.projectId))) {
        throw new GatewayError('INVALID_PARAMS', `No project ${body.projectId} in tenant ${tenantId}`);
      }
      const { key, id, hash } = newKey();
      const created = await deps.store.apiKeys.create(tenantId, { ...body, id, hash }, changeContext(c));
      await deps.applied();
      return c.json({ ...keyOut(created), key }, 201);
    },
  );

  app.openapi(
    createRoute({
      method: 'get',
      path: '/tenants/{id}/api-keys',
      tags,
      request: { params: TenantIdParam },
      responses: {
        200: jsonOf(z.object({ apiKeys: z.array(ApiKeySchema) }), 'Keys, without secrets.'),
        ...PROBLEMS,
        ...CONFLICT,
      },
    }),
    async (c) => {
      const { id } = c.req.valid('param');
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      return c.json({ apiKeys: (await deps.store.apiKeys.list(id)).map(keyOut) }, 200);
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
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const key = await deps.store.apiKeys.get(id, keyId);
      if (!key) throw notFound('API key');
      return c.json(keyOut(key), 200);
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
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const { graceSeconds } = RotationSchema.parse(c.req.valid('json') ?? {});
      const { key, id: newId, hash } = newKey();
      const rotated = await deps.store.apiKeys.rotate(
        id,
        keyId,
        { newId, newHash: hash, graceSeconds },
        changeContext(c),
      );
      await deps.applied();
      return c.json(
        { previous: keyOut(rotated.previous), current: { ...keyOut(rotated.current), key } },
        201,
      );
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
        requireTenant(c.get('actor'), id);
        await storeTenant(deps, id);
        const key = await deps.store.apiKeys.setStatus(id, keyId, status, changeContext(c));
        await deps.applied();
        return c.json(keyOut(key), 200);
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
      requireTenant(c.get('actor'), id);
      await storeTenant(deps, id);
      const key = await deps.store.apiKeys.setStatus(id, keyId, 'revoked', changeContext(c));
      await deps.applied();
      return c.json(keyOut(key), 200);
    },
  );
}
