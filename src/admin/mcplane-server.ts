/**
 * The built-in `mcplane` server: seed 002's management tools for tenant admins, listed in the
 * aggregated tools of a session whose principal is a tenant admin (or a platform admin acting in
 * a tenant). Its tools answer through the same operations as the admin REST API
 * (server-config-operations.ts, api-key-operations.ts), always scoped to the session's own
 * tenant, with secrets masked. Calls reach it through the whole pipeline (audit, admit, policy,
 * guards) as face `admin-mcp`; members never see it, and a call to it from their session is an
 * unknown tool.
 *
 * A rotated key is in `rotate_api_key`'s result, as the REST API shows it once; like every tool
 * result it passes the output guards, whose `secrets` detector redacts mcplane API keys by
 * default (a key should not reach a model). `guards.servers.mcplane` can change that.
 */
import * as z from 'zod';
import { BUILTIN_SERVER } from '../config/schema.ts';
import { GatewayError, asGatewayError } from '../errors.ts';
import { PLATFORM_TENANT, type Principal } from '../identity/principal.ts';
import type { Logger } from '../log.ts';
import type { BuiltinServer } from '../router/builtin-route.ts';
import { EMPTY_CATALOG } from '../upstream/server-catalog.ts';
import type { AdminActor } from './admin-access.ts';
import { pageRequest } from './admin-routes.ts';
import { RotationSchema, ServerConfigBodySchema, ServerConfigPatchSchema } from './admin-schemas.ts';
import { listApiKeys, rotateApiKey } from './api-key-operations.ts';
import { getServerConfig, registerServerConfig, updateServerConfig } from './server-config-operations.ts';
import type { ManagementDeps } from './tenant-management.ts';

/** `args: never`: each tool's run is only ever given what its own input schema parsed. */
type Run = (deps: ManagementDeps, actor: AdminActor, args: never) => Promise<Record<string, unknown>>;

type ManagementTool = {
  readonly description: string;
  readonly input: z.ZodType;
  readonly readOnly: boolean;
  readonly run: Run;
};

const Server = z.string().min(1).max(63).describe('A mode: tenant server of the gateway, e.g. postgres');

function tool<S extends z.ZodType>(
  description: string,
  input: S,
  readOnly: boolean,
  run: (deps: ManagementDeps, actor: AdminActor, args: z.output<S>) => Promise<Record<string, unknown>>,
): ManagementTool {
  return { description, input, readOnly, run };
}

const TOOLS: Readonly<Record<string, ManagementTool>> = {
  get_server_config: tool(
    "Your tenant's own configuration of a server (env and args over the server's), secrets masked.",
    z.object({ server: Server }).strict(),
    true,
    (deps, actor, { server }) => getServerConfig(deps, actor, actor.tenantId as string, server),
  ),
  register_server_config: tool(
    "Register (or replace) your tenant's own configuration of a mode: tenant server, such as its DATABASE_URL. The server is started with it first; if it cannot start, nothing is stored and the error says why. Secret values are encrypted and never shown again.",
    ServerConfigBodySchema.extend({ server: Server }).strict(),
    false,
    (deps, actor, { server, ...input }) =>
      registerServerConfig(deps, actor, actor.tenantId as string, server, input),
  ),
  update_server_config: tool(
    "Change only the given env names (null removes one) or the args of your tenant's configuration of a server; validated by starting the server, as register is.",
    ServerConfigPatchSchema.extend({ server: Server }).strict(),
    false,
    (deps, actor, { server, ...patch }) =>
      updateServerConfig(deps, actor, actor.tenantId as string, server, patch),
  ),
  list_api_keys: tool(
    "Your tenant's API keys, without their secrets, in the order they were made: up to `limit` (default 100, at most 1000); pass a reply's `nextCursor` as `cursor` for the next ones.",
    z
      .object({
        limit: z.number().int().min(1).max(1000).default(100),
        cursor: z.string().min(1).max(200).optional(),
      })
      .strict(),
    true,
    (deps, actor, page) => listApiKeys(deps, actor, actor.tenantId as string, pageRequest(page)),
  ),
  rotate_api_key: tool(
    'Replace an API key of your tenant by a new one; the old one keeps working for graceSeconds (default 3600). The new key is shown once.',
    RotationSchema.extend({ keyId: z.string().min(1).max(64) }).strict(),
    false,
    (deps, actor, { keyId, graceSeconds }) =>
      rotateApiKey(deps, actor, actor.tenantId as string, keyId, graceSeconds),
  ),
};

/** Whether a principal administers the tenant its session is in. */
function administers(principal: Principal): boolean {
  if (principal.role === 'tenant-admin') return true;
  return principal.role === 'platform-admin' && principal.tenantId !== PLATFORM_TENANT;
}

/** The built-in server over the gateway's management operations. */
export function mcplaneServer(deps: ManagementDeps, log: Logger): BuiltinServer {
  const catalog = {
    ...EMPTY_CATALOG,
    tools: Object.entries(TOOLS).map(([name, spec]) => ({
      name,
      description: spec.description,
      inputSchema: z.toJSONSchema(spec.input) as { type: 'object'; [key: string]: unknown },
      annotations: { readOnlyHint: spec.readOnly, destructiveHint: !spec.readOnly, openWorldHint: false },
    })),
  };
  return {
    name: BUILTIN_SERVER,
    catalog,
    visibleTo: administers,
    async call(principal, params) {
      const name = params.name;
      const spec = typeof name === 'string' && Object.hasOwn(TOOLS, name) ? TOOLS[name] : undefined;
      if (!spec || !administers(principal)) throw new GatewayError('UNKNOWN_TOOL');
      const parsed = spec.input.safeParse(params.arguments ?? {});
      // Since 2025-11-25 input validation errors are tool results, not protocol errors.
      if (!parsed.success) return failure(`Invalid arguments: ${z.prettifyError(parsed.error)}`);
      // Scoped to the session's tenant, whatever the principal may do elsewhere.
      const actor: AdminActor = {
        subject: principal.subject,
        role: 'tenant-admin',
        tenantId: principal.tenantId,
      };
      try {
        const value = await spec.run(deps, actor, parsed.data as never);
        return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent: value };
      } catch (error) {
        const refused = asGatewayError(error);
        if (refused.code === 'INTERNAL') log.error({ err: error, tool: name }, 'mcplane tool failed');
        return failure(`${refused.code}: ${refused.publicMessage}`);
      }
    },
  };
}

function failure(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }], isError: true };
}
