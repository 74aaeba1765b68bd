/**
 * The `route` stage: which server a call goes to, and its params as that server knows them
 * (bare tool and prompt names). It sets `call.target`, which policy, guards and audit read; a
 * server shared by a grant is targeted by its real name, with the grant's owner beside it.
 * Lists are aggregated over every server at the end and have no single target.
 */
import { LIST_METHODS, type Router } from '../router/router.ts';
import { contextOf } from './call-context.ts';
import type { Call, CallTarget, Next, Reply, Stage } from './pipeline.ts';

export function routeStage(router: () => Router): Stage {
  return {
    name: 'route',
    async handle(call: Call, next: Next): Promise<Reply> {
      if (LIST_METHODS.has(call.method)) return next(call);
      const context = contextOf(call);
      const route = await router().route(context.link, call.method, call.params);
      context.route = route;
      const target = targetOf(route.server.name, call.method, route.params);
      call.target = route.grant === undefined ? target : { ...target, owner: route.grant.owner };
      call.params = route.params;
      return next(call);
    },
  };
}

function targetOf(server: string, method: string, params: Record<string, unknown>): CallTarget {
  const name = typeof params.name === 'string' ? params.name : undefined;
  const uri = typeof params.uri === 'string' ? params.uri : undefined;
  if (method === 'tools/call') return { server, ...(name === undefined ? {} : { tool: name }) };
  if (method === 'prompts/get') return { server, ...(name === undefined ? {} : { prompt: name }) };
  return { server, ...(uri === undefined ? {} : { uri }) };
}
