/**
 * The `route` stage: which server a call goes to, and its params as that server knows them
 * (bare tool and prompt names). It sets `call.target`, which policy, guards and audit read; a
 * server shared by a grant is targeted by its real name, with the grant's owner beside it.
 * Lists are aggregated over every server at the end and have no single target.
 */
import { GatewayError } from '../errors.ts';
import { isGatewayFailure } from '../resilience/gateway-failure.ts';
import { LIST_METHODS, type Route, type RoutedSession, type Router } from '../router/router.ts';
import { contextOf } from './call-context.ts';
import type { Call, CallTarget, Next, Reply, Stage } from './pipeline.ts';

export function routeStage(router: () => Router): Stage {
  return {
    name: 'route',
    async handle(call: Call, next: Next): Promise<Reply> {
      if (LIST_METHODS.has(call.method)) return next(call);
      const context = contextOf(call);
      const route = await routeOf(router(), context.link, call.method, call.params);
      context.route = route;
      const target = targetOf(route.server.name, call.method, route.params);
      call.target = route.grant === undefined ? target : { ...target, owner: route.grant.owner };
      call.params = route.params;
      return next(call);
    },
  };
}

/**
 * The route, or, when the server could not be reached to confirm it (it is down, or its
 * resource went missing from the lists with it), the route its last known catalog gives, so
 * that the resilience stage can answer for it (router.routeUnreachable).
 */
async function routeOf(
  router: Router,
  link: RoutedSession,
  method: string,
  params: Record<string, unknown>,
): Promise<Route> {
  try {
    return await router.route(link, method, params);
  } catch (error) {
    const unreachable =
      isGatewayFailure(error) || (error instanceof GatewayError && MAYBE_DOWN.has(error.code));
    const route = unreachable ? router.routeUnreachable(link, method, params) : undefined;
    if (route) return route;
    throw error;
  }
}

/** Refusals a down server's item also gets: a list that left the server out does not have it. */
const MAYBE_DOWN: ReadonlySet<string> = new Set(['UNKNOWN_TOOL', 'UNKNOWN_PROMPT', 'UNKNOWN_RESOURCE']);

function targetOf(server: string, method: string, params: Record<string, unknown>): CallTarget {
  const name = typeof params.name === 'string' ? params.name : undefined;
  const uri = typeof params.uri === 'string' ? params.uri : undefined;
  if (method === 'tools/call') return { server, ...(name === undefined ? {} : { tool: name }) };
  if (method === 'prompts/get') return { server, ...(name === undefined ? {} : { prompt: name }) };
  return { server, ...(uri === undefined ? {} : { uri }) };
}
