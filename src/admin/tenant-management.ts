/**
 * What a tenant's management needs of the running gateway, whichever face asks: the admin REST
 * API or the built-in `mcplane` MCP server. The operations in server-config-operations.ts and
 * api-key-operations.ts take this, and an {@link AdminActor}, and apply the same rules on both.
 */
import type { AdminActor } from './admin-access.ts';
import type { AdminDeps } from './admin-context.ts';

export type ManagementDeps = Pick<
  AdminDeps,
  'store' | 'pepper' | 'configSource' | 'view' | 'applied' | 'probe'
>;

/** The change log's record of who did it. */
export function actorContext(actor: AdminActor): { actor: string } {
  return { actor: actor.subject };
}
