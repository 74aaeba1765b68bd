/**
 * A server the gateway answers itself, listed and routed beside the upstream ones: the built-in
 * `mcplane` server of a tenant admin's session (src/admin/mcplane-server.ts). The router knows it
 * only by this shape: a name, a catalog, who sees it, and how it answers a call.
 */
import type { Principal } from '../identity/principal.ts';
import type { ServerCatalog } from '../upstream/server-catalog.ts';

export type BuiltinServer = {
  /** Its name-space (`mcplane` → `mcplane__get_server_config`); no configured server may take it. */
  readonly name: string;
  readonly catalog: ServerCatalog;
  /** Whether sessions of this principal list and reach it; others cannot tell it exists. */
  visibleTo(principal: Principal): boolean;
  /** Answers a `tools/call` (its params as the server knows them: the bare tool name). */
  call(
    principal: Principal,
    params: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<Record<string, unknown>>;
};

export type BuiltinRoute = {
  readonly kind: 'builtin';
  readonly server: BuiltinServer;
  readonly name: string;
  readonly spaced: true;
  readonly grant?: undefined;
};

export function builtinRoute(server: BuiltinServer): BuiltinRoute {
  return { kind: 'builtin', server, name: server.name, spaced: true };
}
