/**
 * The admin API's request and response bodies: one set of zod schemas that both validate
 * requests and generate the OpenAPI document (`/admin/v1/openapi.json`).
 */
import { z } from '@hono/zod-openapi';

const ID = /^[a-z][a-z0-9-]{0,62}$/;

export const TenantIdParam = z.object({
  id: z.string().openapi({ param: { name: 'id', in: 'path' }, example: 'acme' }),
});
export const KeyParams = TenantIdParam.extend({
  keyId: z.string().openapi({ param: { name: 'keyId', in: 'path' } }),
});
export const ServerParams = TenantIdParam.extend({
  server: z.string().openapi({ param: { name: 'server', in: 'path' }, example: 'postgres' }),
});
export const GrantParams = TenantIdParam.extend({
  grantId: z.string().openapi({ param: { name: 'grantId', in: 'path' } }),
});

/** `?limit=&cursor=` of a paged list; the cursor is the `nextCursor` of the page before. */
export const PageQuery = z.object({
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(100)
    .openapi({ description: 'Items per page, 1-1000 (default 100).' }),
  cursor: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from this API')
    .optional()
    .openapi({ description: 'The `nextCursor` of the previous page.' }),
});

export const NextCursor = z
  .string()
  .optional()
  .openapi({ description: 'Present when more may follow: pass it as `cursor` for the next page.' });

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

export const TenantSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    tier: z.string(),
    status: z.enum(['active', 'suspended', 'deleted']),
    managedBy: z.enum(['config', 'store']).openapi({
      description: '`config`: declared in servers.config.yaml; the API refuses to change it (409).',
    }),
    createdAt: z.string().nullable(),
  })
  .openapi('Tenant');

export const NewTenantSchema = z
  .object({
    id: z.string().regex(ID, 'lowercase letters, digits and dashes, starting with a letter'),
    name: z.string().min(1).max(200),
    tier: z.string().min(1).max(64).optional(),
  })
  .strict()
  .openapi('NewTenant');

export const TenantPatchSchema = z
  .object({
    name: z.string().min(1).max(200).optional(),
    tier: z.string().min(1).max(64).optional(),
    status: z.enum(['active', 'suspended']).optional(),
  })
  .strict()
  .openapi('TenantPatch');

export const ProjectSchema = z
  .object({ id: z.string(), tenantId: z.string(), name: z.string(), createdAt: z.string() })
  .openapi('Project');

export const NewProjectSchema = z
  .object({
    id: z.string().regex(ID, 'lowercase letters, digits and dashes, starting with a letter').optional(),
    name: z.string().min(1).max(200),
  })
  .strict()
  .openapi('NewProject');

export const ApiKeySchema = z
  .object({
    id: z.string(),
    tenantId: z.string().nullable(),
    projectId: z.string().nullable(),
    name: z.string(),
    role: z.enum(['platform-admin', 'tenant-admin', 'member']),
    scopes: z.array(z.string()).readonly(),
    status: z.enum(['active', 'suspended', 'revoked']),
    state: z.enum(['active', 'suspended', 'revoked', 'rotated', 'expired']).openapi({
      description: 'Whether the key works now: `status`, then rotation grace, then expiry.',
    }),
    expiresAt: z.string().nullable(),
    lastUsedAt: z.string().nullable(),
    createdAt: z.string(),
    rotatedFrom: z.string().nullable(),
    replacedBy: z.string().nullable(),
    graceUntil: z.string().nullable(),
  })
  .openapi('ApiKey');

export const CreatedApiKeySchema = ApiKeySchema.extend({
  key: z.string().openapi({ description: 'The key itself. Shown once: it is stored only as a keyed hash.' }),
}).openapi('CreatedApiKey');

export const NewApiKeySchema = z
  .object({
    name: z.string().min(1).max(200),
    role: z.enum(['tenant-admin', 'member']).default('member'),
    projectId: z.string().optional(),
    scopes: z.array(z.string().min(1).max(64)).max(32).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .openapi('NewApiKey');

export const RotationSchema = z
  .object({
    graceSeconds: z
      .number()
      .int()
      .min(0)
      .max(30 * 86_400)
      .default(3600)
      .openapi({ description: 'How long the old key keeps working (at most 30 days).' }),
  })
  .strict()
  .openapi('Rotation');

const ConfigValueSchema = z.union([
  z.string().max(8192),
  z.object({ secret: z.string().min(1).max(8192) }).strict(),
]);
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name');
const MaskedSchema = z.object({ set: z.literal(true), fingerprint: z.string() });

export const ServerConfigBodySchema = z
  .object({
    env: z.record(EnvName, ConfigValueSchema).optional().openapi({
      description:
        'Merged over the server\'s env. A value `{ "secret": "…" }`, or any value whose name looks secret (docs/store.md), is encrypted at rest and never shown again.',
    }),
    args: z.array(ConfigValueSchema).max(256).nullable().optional(),
  })
  .strict()
  .openapi('ServerConfigBody');

export const ServerConfigPatchSchema = z
  .object({
    env: z.record(EnvName, ConfigValueSchema.nullable()).optional().openapi({
      description: 'Only the names given change; `null` removes a name.',
    }),
    args: z.array(ConfigValueSchema).max(256).nullable().optional(),
  })
  .strict()
  .openapi('ServerConfigPatch');

export const ServerConfigSchema = z
  .object({
    tenantId: z.string(),
    server: z.string(),
    env: z.record(z.string(), z.union([z.string(), MaskedSchema])),
    args: z
      .array(z.union([z.string(), MaskedSchema]))
      .readonly()
      .nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('ServerConfig');

export const NewGrantSchema = z
  .object({
    server: z.string().min(1),
    granteeTenant: z.string().regex(ID),
    access: z.enum(['read', 'full']),
    tools: z.array(z.string().min(1)).max(256).optional(),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
    allowResharing: z.boolean().default(false),
    parentGrantId: z.string().optional(),
  })
  .strict()
  .openapi('NewGrant');

export const GrantSchema = z
  .object({
    id: z.string(),
    ownerTenantId: z.string(),
    server: z.string(),
    granteeTenantId: z.string(),
    grantedByTenantId: z.string(),
    parentGrantId: z.string().nullable(),
    access: z.enum(['read', 'full']),
    tools: z.array(z.string()).readonly().nullable(),
    expiresAt: z.string().nullable(),
    allowResharing: z.boolean(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Grant');

export const ChangeSchema = z
  .object({
    seq: z.number().int(),
    at: z.string(),
    actor: z.string(),
    tenantId: z.string().nullable(),
    action: z.string(),
    target: z.string(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('AdminChange');

export const ReloadSchema = z
  .object({
    applied: z.boolean(),
    problems: z.array(z.string()).optional(),
    added: z.array(z.string()).optional(),
    removed: z.array(z.string()).optional(),
    changed: z.array(z.string()).optional(),
    unchanged: z.array(z.string()).optional(),
    restartRequired: z.array(z.string()).optional(),
  })
  .openapi('ReloadResult');
