import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { adminOpenApiDocument, adminOpenApiText } from '../../src/admin/admin-api.ts';

const CHECKED_IN = new URL('../../schema/admin-openapi.json', import.meta.url);

describe('the admin OpenAPI document', () => {
  it('the checked-in document matches the routes and their zod schemas', async () => {
    const checkedIn = await readFile(CHECKED_IN, 'utf8').catch(() => '(missing)');
    expect(checkedIn, 'schema/admin-openapi.json is stale: run `npm run schema`').toBe(adminOpenApiText());
  });

  it('is OpenAPI 3.1 with every endpoint, problem details and bearer authentication', () => {
    const document = adminOpenApiDocument() as {
      openapi: string;
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(document.openapi).toBe('3.1.0');
    expect(Object.keys(document.paths).sort()).toEqual([
      '/audit',
      '/audit/verify',
      '/billing/stripe/usage-records',
      '/changes',
      '/policy',
      '/policy/explain',
      '/pools',
      '/pools/{server}/processes/{pid}/drain',
      '/reload',
      '/status',
      '/tenants',
      '/tenants/{id}',
      '/tenants/{id}/api-keys',
      '/tenants/{id}/api-keys/{keyId}',
      '/tenants/{id}/api-keys/{keyId}/limits',
      '/tenants/{id}/api-keys/{keyId}/resume',
      '/tenants/{id}/api-keys/{keyId}/rotate',
      '/tenants/{id}/api-keys/{keyId}/suspend',
      '/tenants/{id}/billing',
      '/tenants/{id}/export',
      '/tenants/{id}/grants',
      '/tenants/{id}/grants/{grantId}',
      '/tenants/{id}/limits',
      '/tenants/{id}/projects',
      '/tenants/{id}/servers',
      '/tenants/{id}/servers/{server}',
      '/tenants/{id}/usage',
      '/tool-changes',
      '/tool-changes/{id}/approve',
      '/tool-changes/{id}/reject',
      '/usage/export',
    ]);
    expect(document.paths['/tenants']?.post?.responses['404']).toBeDefined();
    expect(document.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
  });
});
