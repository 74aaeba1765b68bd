/**
 * A tenant's API keys, as the admin API's `/tenants/{id}/api-keys` and the `mcplane` MCP tools
 * both manage them: create (the key is shown once), list and read without secrets, rotate with a
 * grace period, suspend, resume, revoke. Each change reaches the running gateway's key cache
 * before the answer, so a revoked key gets 401 on its very next request.
 */
import type { z } from '@hono/zod-openapi';
import { GatewayError } from '../errors.ts';
import { generateApiKey } from '../identity/api-key-format.ts';
import { hashApiKey } from '../identity/api-key-hash.ts';
import { apiKeyState } from '../store/api-key-state.ts';
import type { ApiKey, ApiKeyStatus } from '../store/records.ts';
import type { PageRequest } from '../store/store.ts';
import { notFound, requireTenant, type AdminActor } from './admin-access.ts';
import { nextCursorOf } from './admin-routes.ts';
import type { ApiKeySchema, NewApiKeySchema } from './admin-schemas.ts';
import { actorContext, type ManagementDeps } from './tenant-management.ts';
import { storeTenant } from './tenants-api.ts';

export type KeyOut = z.infer<typeof ApiKeySchema>;
export type CreatedKey = KeyOut & { readonly key: string };

/** A key as shown: no hash, with its state now. */
export function keyOut(key: ApiKey): KeyOut {
  const { updatedAt: _updatedAt, ...shown } = key;
  return { ...shown, scopes: [...key.scopes], state: apiKeyState(key, Date.now()) };
}

function newKey(deps: ManagementDeps): { key: string; id: string; hash: string } {
  const { key, id } = generateApiKey();
  return { key, id, hash: hashApiKey(key, deps.pepper) };
}

async function managed(deps: ManagementDeps, actor: AdminActor, tenantId: string): Promise<void> {
  requireTenant(actor, tenantId);
  await storeTenant(deps, tenantId);
}

export async function createApiKey(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  body: z.output<typeof NewApiKeySchema>,
): Promise<CreatedKey> {
  await managed(deps, actor, tenantId);
  if (body.projectId !== undefined && !(await deps.store.projects.get(tenantId, body.projectId))) {
    throw new GatewayError('INVALID_PARAMS', `No project ${body.projectId} in tenant ${tenantId}`);
  }
  const { key, id, hash } = newKey(deps);
  const created = await deps.store.apiKeys.create(tenantId, { ...body, id, hash }, actorContext(actor));
  await deps.applied();
  return { ...keyOut(created), key };
}

/** A page of the tenant's keys, in creation order; `nextCursor` when more may follow. */
export async function listApiKeys(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  request: PageRequest,
): Promise<{ apiKeys: KeyOut[]; nextCursor?: string }> {
  await managed(deps, actor, tenantId);
  const page = await deps.store.apiKeys.page(tenantId, request);
  return { apiKeys: page.items.map(keyOut), ...nextCursorOf(page) };
}

export async function getApiKey(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  keyId: string,
): Promise<KeyOut> {
  await managed(deps, actor, tenantId);
  const key = await deps.store.apiKeys.get(tenantId, keyId);
  if (!key) throw notFound('API key');
  return keyOut(key);
}

/** A new key, shown this once; the old one works for `graceSeconds` more. */
export async function rotateApiKey(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  keyId: string,
  graceSeconds: number,
): Promise<{ previous: KeyOut; current: CreatedKey }> {
  await managed(deps, actor, tenantId);
  const { key, id: newId, hash } = newKey(deps);
  const rotated = await deps.store.apiKeys.rotate(
    tenantId,
    keyId,
    { newId, newHash: hash, graceSeconds },
    actorContext(actor),
  );
  await deps.applied();
  return { previous: keyOut(rotated.previous), current: { ...keyOut(rotated.current), key } };
}

/** Suspends, resumes or revokes. */
export async function setApiKeyStatus(
  deps: ManagementDeps,
  actor: AdminActor,
  tenantId: string,
  keyId: string,
  status: ApiKeyStatus,
): Promise<KeyOut> {
  await managed(deps, actor, tenantId);
  const key = await deps.store.apiKeys.setStatus(tenantId, keyId, status, actorContext(actor));
  await deps.applied();
  return keyOut(key);
}
